package wechatpay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/go-resty/resty/v2"

	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/internal/didyoumean"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// request is one request, prepared: the JSON, APIv2 XML and multipart
// preparations each turn Options into one, and send executes it without
// seeing Options.
type request struct {
	method string
	path   string // the chain's path template, for errors
	url    string
	header http.Header // the caller's (Options.Headers), nil when none
	// accept and contentType are sent unless header sets them; "": none.
	accept, contentType string
	// body is a body held in memory (JSON, XML; nil: none); upload is a
	// streamed multipart one.
	body   []byte
	upload *upload
	tls    bool // present the merchant certificate (mutual TLS)
	stack  *middleware.Stack
	limit  answerLimit // on an answer read whole
	sink   *Sink       // where a 2xx answer streams; nil: it is held
	// v2: the answer is APIv2 XML, checked by v2Response; unsigned: the
	// chain's template is one of the endpoints that answer without a sign.
	v2, unsigned bool
}

// fail wraps err with the request it belongs to, without the query of a
// URL that net/http put in it.
func (r *request) fail(err error) error {
	return fmt.Errorf("wechatpay: %s %s: %w", r.method, r.path, withoutQuery(err))
}

// failSending is fail for an error of the exchange itself: one that came
// before the request reached a server says which host and what to check.
func (b *Builder) failSending(r *request, err error) error {
	var stepErr *middleware.StepError
	var fe *FailoverError
	if errors.As(err, &stepErr) || errors.As(err, &fe) || !unreached(err) {
		return r.fail(err)
	}
	host, primary := r.url, false
	if u, perr := url.Parse(r.url); perr == nil {
		host, primary = u.Host, sameHost(u, failoverPrimary)
	}
	err = withoutQuery(err) // before its text is copied into the hint's
	hint := "check the network, DNS, any proxy, and the base URL (Config.BaseURL, Options.BaseURL)"
	if b.failover == nil && primary {
		hint += "; Config.Failover would send requests to the backup host " + failoverBackup + " while " + failoverPrimary + " cannot be reached"
	}
	return r.fail(fmt.Errorf("%w (could not reach %s: %s)", err, host, hint))
}

// answerHint says what the library knows of an answer other than 2xx: that
// it did not come from WeChat Pay, or, for a 404 or 405, what the catalog
// documents at that path.
func answerHint(r *request, e *APIError) string {
	var hints []string
	if e.RequestID == "" && e.Code == "" && !r.v2 {
		hints = append(hints, "this answer did not come from WeChat Pay (no Request-ID, and no WeChat Pay error code in the body): check the base URL (Config.BaseURL, Options.BaseURL) and any proxy or gateway in between")
	}
	if e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusMethodNotAllowed {
		// The fake server's own 404 already says it.
		if hint := catalogHint(r.method, r.path); hint != "" && !strings.Contains(e.Message, hint) {
			hints = append(hints, hint)
		}
	}
	return strings.Join(hints, "; ")
}

// catalogHint says what the catalog documents when method and path are not
// one of its operations: the nearest documented path, or the methods the
// path is documented with; "" when it is documented.
func catalogHint(method, path string) string {
	eps := catalog.Match(path)
	if len(eps) == 0 {
		near := catalog.Nearest(path, 1)
		if len(near) == 0 {
			return didyoumean.NotDocumented("", nil)
		}
		var methods []string
		for _, e := range catalog.Get(near[0]) {
			methods = append(methods, e.Method)
		}
		return didyoumean.NotDocumented(near[0], methods)
	}
	var methods []string
	for _, e := range eps {
		if e.Method == method {
			return ""
		}
		if !slices.Contains(methods, e.Method) {
			methods = append(methods, e.Method)
		}
	}
	return didyoumean.WrongMethod(eps[0].Path, methods, method)
}

// setHeaders fills h, a new request's headers: the caller's, then Accept
// and Content-Type where the caller set none.
func (r *request) setHeaders(h http.Header) {
	for k, vs := range r.header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if r.accept != "" && len(h["Accept"]) == 0 {
		h["Accept"] = []string{r.accept}
	}
	if r.contentType != "" && len(h["Content-Type"]) == 0 {
		h["Content-Type"] = []string{r.contentType}
	}
}

// send executes r; it is the one sender of every request. It goes through
// http.Client.Do, or, for a body held in memory when Config.Retry is set,
// through resty, which repeats it. Both reach the same transport, where the
// request steps sign each attempt. The response steps then run, a status
// other than 2xx becomes an *APIError, and an APIv2 answer is checked.
func (b *Builder) send(ctx context.Context, r *request) (*Response, error) {
	if r.stack != b.stack {
		ctx = context.WithValue(ctx, requestStackKey{}, r.stack)
	}
	if r.upload != nil || r.sink != nil {
		return b.sendStream(ctx, r)
	}
	if !b.retries {
		return b.sendStream(ctx, r)
	}
	req := b.clientFor(r).R().SetContext(ctx)
	r.setHeaders(req.Header)
	if r.body != nil {
		req.SetBody(r.body)
	}
	if r.limit.n != b.maxResponse {
		req.SetResponseBodyLimit(int(min(r.limit.n, math.MaxInt)))
	}
	resp, err := req.Execute(r.method, r.url)
	if err != nil {
		return nil, b.failSending(r, r.limit.refused(resp, err))
	}
	return b.answer(r, resp.RawResponse, resp.Body())
}

// sendStream executes r once with http.Client.Do: an upload streams its
// body, a download to a Sink its answer. Any other answer (a JSON or XML
// answer, an error, the XML an APIv2 download answers instead of the file)
// is read whole, up to r.limit, gzip undone if the transport left it, and
// goes to answer.
func (b *Builder) sendStream(ctx context.Context, r *request) (*Response, error) {
	var body io.Reader
	switch {
	case r.upload != nil:
		body = r.upload.body
		ctx = middleware.WithSignedBody(ctx, r.upload.meta)
	case r.body != nil:
		// The signer reads it through GetBody, as any step does: a step
		// before it may have put another body in.
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, r.fail(err)
	}
	r.setHeaders(req.Header)
	if r.upload != nil {
		req.ContentLength, req.GetBody = r.upload.length, r.upload.getBody
	}
	resp, err := b.clientFor(r).GetClient().Do(req)
	if err != nil {
		return nil, b.failSending(r, err)
	}
	defer resp.Body.Close()
	var in io.Reader = resp.Body
	if r.sink != nil && success(resp.StatusCode) {
		file := bufio.NewReaderSize(resp.Body, 64<<10)
		if !(r.v2 && startsXML(file)) {
			if err := b.sink(r, resp, file); err != nil {
				return nil, r.fail(err)
			}
			return &Response{http: resp}, nil
		}
		in = file
	}
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") && !resp.Uncompressed && resp.ContentLength != 0 {
		// The transport was told not to undo it (DisableCompression): the
		// answer is verified, and limited, as WeChat Pay signed it. An
		// empty body (a 204) has nothing to undo.
		br := bufio.NewReader(in)
		if _, err := br.Peek(1); err == nil {
			zr, err := gzip.NewReader(br)
			if err != nil {
				return nil, r.fail(fmt.Errorf("the answer says Content-Encoding gzip but is not gzip: %w", err))
			}
			in = zr
		} else {
			in = br
		}
	}
	data, err := r.limit.read(resp, in)
	if err != nil {
		return nil, r.fail(err)
	}
	if r.sink != nil && r.v2 && success(resp.StatusCode) {
		return nil, b.v2NotTheFile(r, resp, data)
	}
	return b.answer(r, resp, data)
}

// answer runs the response steps over an answer held in memory, turns a
// status other than 2xx into an *APIError and checks an APIv2 answer.
func (b *Builder) answer(r *request, resp *http.Response, body []byte) (*Response, error) {
	if err := r.stack.HandleResponse(resp, body); err != nil {
		return nil, r.fail(err)
	}
	if !success(resp.StatusCode) {
		e := newAPIError(r.method, r.path, resp.StatusCode, resp.Header, body)
		e.Hint = answerHint(r, e)
		return nil, e
	}
	if r.v2 {
		return b.v2Response(r, resp, body)
	}
	return &Response{http: resp, body: body}, nil
}

// sink streams a 2xx answer into r.sink: every byte as received through
// the response steps' Stream funcs (the verifier's signature check), the
// file (decompressed with Gunzip) to the Writer, and its digest checked at
// the end.
func (b *Builder) sink(r *request, resp *http.Response, in *bufio.Reader) error {
	verifyTo, done, err := r.stack.HandleStream(resp, b.maxResponse)
	if err != nil {
		return err
	}
	digest, err := newDigest(r.sink.HashType)
	if err != nil {
		return err
	}
	n, err := copyToSink(in, verifyTo, r.sink, digest)
	if err != nil {
		return fmt.Errorf("downloading (%d bytes written, incomplete: do not use them): %w", n, err)
	}
	if err := done(); err != nil {
		var verr *VerificationError
		if errors.As(err, &verr) {
			verr.Reason += fmt.Sprintf("; %d bytes were written to the Sink: do not use them", n)
		}
		return err
	}
	return checkDigest(digest, r.sink.HashType, r.sink.HashValue, n)
}

// startsXML reports whether the answer in starts with "<" (after blanks):
// an APIv2 download's error, rather than the file.
func startsXML(in *bufio.Reader) bool {
	head, _ := in.Peek(512)
	t := bytes.TrimLeft(head, " \t\r\n")
	return len(t) > 0 && t[0] == '<'
}

// v2NotTheFile is the error of an APIv2 download that answered XML
// instead of the file: WeChat's error as a *V2Error, or what is wrong
// with an answer that is not one.
func (b *Builder) v2NotTheFile(r *request, resp *http.Response, data []byte) error {
	if err := r.stack.HandleResponse(resp, data); err != nil {
		return r.fail(err)
	}
	fields, err := apiv2.Decode(data)
	if err != nil {
		return r.fail(fmt.Errorf("expected the file or WeChat's XML error, got neither: %w", err))
	}
	if rc, res := fields["return_code"], fields["result_code"]; rc == "SUCCESS" && (res == "" || res == "SUCCESS") {
		return r.fail(errors.New("expected the file, got an XML answer that reports no error"))
	}
	return newV2Error(r.method, r.path, fields, data)
}

// clientFor returns the client r goes through: the one that presents the
// merchant certificate, or the plain one.
func (b *Builder) clientFor(r *request) *resty.Client {
	if r.tls {
		return b.tlsClient
	}
	return b.client
}

// requestStackKey carries a request's own stack (APIv2's, or one edited by
// Options.Middleware) to the attempt layer. It is private: a stack a
// caller put in the context with middleware.WithStack (for HTTPClient)
// never replaces the Builder's steps.
type requestStackKey struct{}

// attempt is the Builder's transport layer for one attempt (the first, a
// retry, the backup host's): it counts the attempt for the log, then runs
// the request steps of the stack send gave the request (or the Builder's)
// on it. It runs them on the request itself, as resty's pre-request hook
// would: every request that reaches it was made for this attempt alone
// (resty and sendStream make a new one per attempt, and Failover a copy
// for the backup host). Builder.HTTPClient, whose callers own their
// requests, has middleware's Stack.Transport, which signs a copy.
type attempt struct {
	stack *middleware.Stack
	base  http.RoundTripper
}

// RoundTrip counts, signs and sends one attempt.
func (t attempt) RoundTrip(req *http.Request) (*http.Response, error) {
	if n, ok := req.Context().Value(attemptsKey{}).(*atomic.Int32); ok {
		n.Add(1)
	}
	stack := t.stack
	if s, ok := req.Context().Value(requestStackKey{}).(*middleware.Stack); ok {
		stack = s
	}
	if err := stack.HandleRequest(req); err != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTrip closes the body, even on an error
		}
		return nil, err
	}
	return t.base.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of the transport
// underneath, as http.Client.CloseIdleConnections expects.
func (t attempt) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// answerLimit is the most bytes an answer's body (decompressed) may hold,
// and the setting that chose it, which its error names; n 0: no limit.
type answerLimit struct {
	n     int64
	setBy string
}

// limit is the Builder's limit on answers, Config.MaxResponseBytes.
func (b *Builder) limit() answerLimit {
	return answerLimit{n: b.maxResponse, setBy: "Config.MaxResponseBytes"}
}

// v2XMLLimit is the limit on an APIv2 XML answer: apiv2.MaxSize, or the
// Builder's limit when that is tighter.
func (b *Builder) v2XMLLimit() answerLimit {
	if b.maxResponse > 0 && b.maxResponse < apiv2.MaxSize {
		return b.limit()
	}
	return answerLimit{n: apiv2.MaxSize, setBy: "apiv2.MaxSize"}
}

// refused turns resty's refusal of an answer longer than l into a
// *ResponseTooLargeError; other errors pass as they are.
func (l answerLimit) refused(resp *resty.Response, err error) error {
	if !errors.Is(err, resty.ErrResponseBodyTooLarge) || resp == nil || resp.RawResponse == nil {
		return err
	}
	return &ResponseTooLargeError{StatusCode: resp.StatusCode(), Header: resp.Header(), Limit: l.n, LimitSetBy: l.setBy}
}

// read reads body, resp's body (net/http has undone a gzip
// Content-Encoding it asked for), up to l, for the requests that bypass
// resty; a longer body is a *ResponseTooLargeError.
func (l answerLimit) read(resp *http.Response, body io.Reader) ([]byte, error) {
	// Sized from Content-Length when it is given and allowed, up to 64 KiB
	// (the header may lie): most answers are read in one allocation.
	size := int64(512)
	if cl := resp.ContentLength; cl >= 0 && cl < maxPresize && (l.n <= 0 || cl <= l.n) {
		size = cl + 1 // room to see the end
	}
	data := make([]byte, 0, size)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := body.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if l.n > 0 && int64(len(data)) > l.n {
			return nil, &ResponseTooLargeError{StatusCode: resp.StatusCode, Header: resp.Header, Limit: l.n, LimitSetBy: l.setBy}
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// maxPresize is the most answerLimit.read allocates on the word of a
// Content-Length header; a longer answer grows the buffer as it arrives.
const maxPresize = 64 << 10

// success reports whether an HTTP status is 2xx.
func success(status int) bool { return status >= 200 && status <= 299 }
