package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// requestCommand sends one request and prints the verified answer.
func requestCommand(ctx context.Context, e env, args []string) int {
	f := newFlags(e, "request", "request [flags] METHOD PATH\n\nPATH is written as in the documentation: v3/pay/transactions/native,\nv3/pay/transactions/out-trade-no/{out_trade_no} with -path out_trade_no=..., or v2/pay/micropay.")
	var c credentials
	c.register(f.FlagSet)
	data := f.String("data", "", "JSON body: the JSON itself, @FILE, or - for standard input")
	var query, path, header, xml listFlag
	f.Var(&query, "query", "query parameter KEY=VALUE (repeatable)")
	f.Var(&path, "path", "placeholder value KEY=VALUE (repeatable)")
	f.Var(&header, "header", "request header KEY=VALUE (repeatable)")
	f.Var(&xml, "xml", "APIv2 parameter KEY=VALUE (repeatable)")
	verbose := f.Bool("verbose", false, "print the signed request and the answer's status and headers to standard error (no secrets)")
	asJSON := f.Bool("json", false, "print the answer, an error answer included, as JSON: method, url, status, request_id, body (an APIv2 answer's fields as an object), error")
	positional, code := f.parse(args, "METHOD", "PATH")
	if code >= 0 {
		return code
	}
	method, target := strings.ToUpper(positional[0]), positional[1]
	if !slices.Contains(methods, method) {
		return f.mistake("method %q: expected GET, POST, PUT, PATCH or DELETE", positional[0])
	}
	c.fromEnv(e.getenv)
	fail := func(code int, err error) int {
		fmt.Fprintln(e.stderr, "wechatpay request:", speakCLI(err.Error()))
		return code
	}
	opts, err := requestOptions(e, *data, query, path, header, xml)
	if err != nil {
		return fail(exitUsage, err)
	}
	if *verbose {
		opts.Middleware = func(s *middleware.Stack) error { return s.Append(verboseStep(e.stderr)) }
	}
	// The library routes "V2/" to APIv2 as it does "v2/" (wechatpay-php
	// ignores the case); so does the choice of credentials here.
	v2 := strings.HasPrefix(strings.ToLower(strings.TrimPrefix(target, "/")), "v2/")
	op := opV3
	if v2 {
		op = opV2
	}
	if err := c.missing(op); err != nil {
		return fail(exitUsage, err)
	}
	b, download, err := requestBuilder(c, v2)
	if err != nil {
		return fail(exitUsage, err)
	}
	// A path or -path mistake is usage too: find it before anything is
	// sent, the start-up certificate download included.
	to, err := b.Chain(target).URL(opts)
	if err != nil {
		return fail(exitUsage, err)
	}
	if download != nil {
		// The credentials are fine; a download that fails (the network, the
		// host, the answer) is the operation failing.
		var mgr *certificates.Manager
		if b, mgr, err = certificates.NewBuilder(ctx, *download, certificates.Config{APIv3Key: c.apiv3Key}); err != nil {
			return fail(exitFailed, err)
		}
		defer mgr.Stop()
	}
	verb := requestVerb(b.Chain(target), method)
	resp, err := verb(ctx, opts)
	if *asJSON {
		if a, ok := newAnswerJSON(method, to, resp, err); ok {
			out, _ := json.MarshalIndent(a, "", "  ")
			fmt.Fprintf(e.stdout, "%s\n", out)
		}
	}
	if err != nil {
		return fail(exitFailed, err)
	}
	if *asJSON {
		return exitOK
	}
	out := resp.Body()
	if resp.XML() != nil {
		out = []byte(resp.JSON().Raw)
	}
	var pretty bytes.Buffer
	if json.Valid(out) && json.Indent(&pretty, bytes.TrimSpace(out), "", "  ") == nil {
		out = append(pretty.Bytes(), '\n')
	}
	_, _ = e.stdout.Write(out)
	return exitOK
}

// answerJSON is request's -json output, for a script to read one JSON
// document whether WeChat Pay said yes or no.
type answerJSON struct {
	Method    string          `json:"method"`
	URL       string          `json:"url"`              // without a download token
	Status    int             `json:"status,omitempty"` // the HTTP status; absent for an APIv2 business failure
	RequestID string          `json:"request_id"`       // the Request-ID header, which WeChat Pay support asks for
	Body      json.RawMessage `json:"body"`             // the JSON answer, an APIv2 answer's fields, other text as a string, or null
	Error     string          `json:"error,omitempty"`  // what went wrong, as on standard error
}

// newAnswerJSON describes the answer to a request to target: resp, or the
// error answer in err, or, when there was no answer to show (the network,
// a verification failure), the error alone. ok is always true.
func newAnswerJSON(method, target string, resp *wechatpay.Response, err error) (a answerJSON, ok bool) {
	a = answerJSON{Method: method, URL: target, Body: json.RawMessage("null")}
	if u, perr := url.Parse(target); perr == nil {
		a.URL = withoutToken(u)
	}
	body := func(b []byte) {
		switch {
		case len(bytes.TrimSpace(b)) == 0:
		case json.Valid(b):
			a.Body = b
		default:
			a.Body, _ = json.Marshal(string(b))
		}
	}
	var apiErr *wechatpay.APIError
	var v2Err *wechatpay.V2Error
	switch {
	case err == nil:
		a.Status, a.RequestID = resp.StatusCode(), resp.RequestID()
		if resp.XML() != nil {
			body([]byte(resp.JSON().Raw))
		} else {
			body(resp.Body())
		}
		return a, true
	case errors.As(err, &apiErr):
		a.Status, a.RequestID = apiErr.StatusCode, apiErr.RequestID
		body(apiErr.Body)
	case errors.As(err, &v2Err):
		fields, _ := json.Marshal(v2Err.Fields)
		body(fields)
	}
	// A network error or a verification failure: no answer to show, the
	// error still goes in the one document a script reads.
	a.Error = speakCLI(err.Error())
	return a, true
}

// requestOptions turns the flags into Options.
func requestOptions(e env, data string, query, path, header, xml listFlag) (wechatpay.Options, error) {
	o := wechatpay.Options{Path: pairs(path), Headers: http.Header{}, Query: url.Values{}}
	if len(xml) > 0 {
		o.XML = pairs(xml)
	}
	for k, v := range pairs(header) {
		o.Headers.Set(k, v)
	}
	for _, q := range query {
		k, v, _ := strings.Cut(q, "=")
		o.Query.Add(k, v)
	}
	var body []byte
	var err error
	switch {
	case data == "":
	case data == "-":
		body, err = io.ReadAll(e.stdin)
	case strings.HasPrefix(data, "@"):
		body, err = os.ReadFile(data[1:])
	default:
		body = []byte(data)
	}
	if err != nil {
		return o, fmt.Errorf("-data: %w", err)
	}
	if body != nil {
		if !json.Valid(body) {
			return o, errors.New("-data is not valid JSON")
		}
		o.Body = body
	}
	return o, nil
}

// methods are the HTTP methods a Chain has a verb for.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// requestVerb returns chain's method for an HTTP method, or nil.
func requestVerb(chain *wechatpay.Chain, method string) func(context.Context, ...wechatpay.Options) (*wechatpay.Response, error) {
	return map[string]func(context.Context, ...wechatpay.Options) (*wechatpay.Response, error){
		http.MethodGet: chain.Get, http.MethodPost: chain.Post, http.MethodPut: chain.Put,
		http.MethodPatch: chain.Patch, http.MethodDelete: chain.Delete,
	}[method]
}

// requestBuilder builds the Builder the credentials allow. When only the
// APIv3 key verifies, that Builder has no verification key and serves to
// check the command line: download is the Config for
// certificates.NewBuilder, which downloads the platform certificates. Its
// errors are the credentials' (exit 2): it sends nothing.
func requestBuilder(c credentials, v2 bool) (b *wechatpay.Builder, download *wechatpay.Config, err error) {
	cfg, err := c.signing()
	if err != nil {
		return nil, nil, err
	}
	if v2 {
		if c.secret == "" {
			return nil, nil, errors.New("v2/ paths need the APIv2 key: set -secret or $WECHATPAY_SECRET")
		}
		cfg.PrivateKey, cfg.Serial = nil, ""
		b, err := wechatpay.NewBuilder(cfg)
		return b, nil, err
	}
	if cfg.PrivateKey == nil {
		return nil, nil, errors.New("the merchant API private key is missing: set -private-key or $WECHATPAY_PRIVATE_KEY")
	}
	if cfg.Certs, err = c.verification(); err != nil {
		return nil, nil, err
	}
	if len(cfg.Certs) == 0 {
		if c.apiv3Key == "" {
			return nil, nil, errors.New("nothing to verify answers with: give -public-key and -public-key-id, -platform-cert, or -apiv3-key to download platform certificates")
		}
		if err := c.checkAPIv3Key(); err != nil {
			return nil, nil, err
		}
		manager := cfg // certificates.NewBuilder puts the Manager in its Keys
		download = &manager
		cfg.Keys = middleware.StaticKeys{}
	}
	if b, err = wechatpay.NewBuilder(cfg); err != nil {
		return nil, nil, err
	}
	return b, download, nil
}

var signaturePattern = regexp.MustCompile(`signature="([^"]{8})[^"]*"`)

// verboseStep prints the request as signed and the answer's status and
// headers. The signature is shortened; no key is ever in a request.
func verboseStep(w io.Writer) middleware.Step {
	return middleware.Step{
		Name: "verbose",
		Request: func(r *http.Request) error {
			fmt.Fprintf(w, "> %s %s\n", r.Method, withoutToken(r.URL))
			printHeaders(w, ">", r.Header)
			if r.GetBody != nil {
				if body, err := r.GetBody(); err == nil {
					b, _ := io.ReadAll(body)
					body.Close()
					if len(b) > 0 {
						fmt.Fprintf(w, ">\n> %s\n", b)
					}
				}
			}
			return nil
		},
		Response: func(r *http.Response, _ []byte) error {
			fmt.Fprintf(w, "< %s\n", r.Status)
			printHeaders(w, "<", r.Header)
			return nil
		},
	}
}

// withoutToken is u for printing: a download_url's token is as good as the
// file it names, so its value is shown as "...".
func withoutToken(u *url.URL) string {
	if !strings.Contains(u.RawQuery, "token=") {
		return u.String()
	}
	c := *u
	parts := strings.Split(c.RawQuery, "&")
	for i, p := range parts {
		if strings.HasPrefix(p, "token=") {
			parts[i] = "token=..."
		}
	}
	c.RawQuery = strings.Join(parts, "&")
	return c.String()
}

func printHeaders(w io.Writer, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.Join(h[k], ", ")
		if k == "Authorization" || k == "Wechatpay-Signature" {
			v = signaturePattern.ReplaceAllString(v, `signature="$1..."`)
			if k == "Wechatpay-Signature" && len(v) > 12 {
				v = v[:12] + "..."
			}
		}
		fmt.Fprintf(w, "%s %s: %s\n", prefix, k, v)
	}
}
