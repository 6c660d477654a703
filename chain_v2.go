package wechatpay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// acceptV2 is the Accept header of APIv2 requests: XML, and the plain text
// or gzip of bill downloads.
const acceptV2 = "text/xml, text/plain, application/x-gzip"

var v2KeyPattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// v2Downloads are the APIv2 paths that answer a file (plain text or gzip)
// rather than XML, except for errors: the only ones Options.Sink is for.
var v2Downloads = []string{"v2/pay/downloadbill", "v2/pay/downloadfundflow", "v2/billcommentsp/batchquerycomment"}

// prepareV2 prepares an APIv2 request: the parameters with nonce_str and
// sign, as an <xml> body (POST) or the query string (GET, where
// Options.Query and Options.XML together are the parameters), over mutual
// TLS when the endpoint needs it. send checks the answer's sign and turns
// its return_code and result_code into a *V2Error.
func (c *Chain) prepareV2(r *request, method string, o Options) error {
	b := c.b
	*r = request{method: method, path: c.path, v2: true, limit: b.v2XMLLimit()}
	fail := r.fail
	if b.secret == "" {
		return fail(errors.New("this Builder has no APIv2 key: set Config.Secret"))
	}
	if o.JSON != nil || o.Body != nil {
		return fail(errors.New("APIv2 parameters go in Options.XML, not Options.JSON or Options.Body"))
	}
	if o.Media != nil {
		return fail(errors.New("Options.Media is for APIv3 uploads"))
	}
	if method != http.MethodGet && len(o.Query) > 0 {
		return fail(errors.New("Options.Query is for APIv2 GET requests: the parameters of a POST go in Options.XML, where they are signed"))
	}
	// What may skip the sign (or stream to a Sink unverified) is decided
	// by the path the code wrote, never by a value filled into it.
	tmpl := c.literal()
	download := slices.Contains(v2Downloads, tmpl)
	r.unsigned = apiv2.Unsigned(strings.TrimPrefix(tmpl, "v2/"))
	if o.Sink != nil {
		if !download {
			return fail(fmt.Errorf("Options.Sink on an APIv2 path is for the file downloads (%s); %s answers XML", strings.Join(v2Downloads, ", "), c.path))
		}
		if err := o.checkStream(method); err != nil {
			return fail(err)
		}
		r.sink = o.Sink
	} else if download {
		// The file is held: it may be as large as Config.MaxResponseBytes.
		r.limit = b.limit()
	}
	filled, err := fill(c.path, o.Path)
	if err != nil {
		return fail(err)
	}
	// WeChat Pay asks for the merchant certificate on every secapi path;
	// the catalog marks the others. Options (security, nonceless) come
	// only from a row matched template for template: an undocumented path
	// must not borrow a placeholder row's.
	r.tls = o.Security || secapi(filled)
	nonceless := o.Nonceless
	for _, e := range catalog.MatchTemplate(c.path) {
		r.tls = r.tls || e.Security()
		nonceless = nonceless || slices.Contains(e.Params.Opts, "nonceless")
	}
	if r.tls && b.tlsClient == nil {
		return fail(errors.New("this endpoint needs mutual TLS with the merchant API certificate: set Config.TLSCertificate (LoadPKCS12 for apiclient_cert.p12, LoadTLSCertificate for PEM)"))
	}
	in := o.XML
	if method == http.MethodGet {
		if in, err = b.v2Query(o.Query, o.XML); err != nil {
			return fail(err)
		}
	} else if err := b.checkV2Params(o.XML, "Options.XML"); err != nil {
		return fail(err)
	}
	params, err := b.signV2(in, nonceless)
	if err != nil {
		return fail(err)
	}
	if method == http.MethodGet {
		// The signed parameters travel as the query string.
		o.Query = url.Values{}
		for k, v := range params {
			o.Query.Set(k, v)
		}
	} else if r.body, err = apiv2.Encode(params); err != nil {
		return fail(err)
	}
	if r.url, err = c.url(o); err != nil {
		return fail(err)
	}
	if r.stack, err = requestStack(b.stackV2, o); err != nil {
		return fail(err)
	}
	// Accept is set on the request, not by the headers step: resty would
	// copy the XML Content-Type into an empty Accept before the step runs.
	r.header, r.accept = o.Headers, acceptV2
	if method != http.MethodGet {
		r.contentType = "text/xml"
	}
	return nil
}

// literal returns the chain's path as the code wrote it: the template,
// with every Value segment written {value}. Like a {placeholder}, such a
// segment never matches a documented path's literal segment.
func (c *Chain) literal() string {
	if c.masked != "" {
		return c.masked
	}
	return c.path
}

// secapi reports whether the filled APIv2 path's first segment is secapi
// as the server reads it: percent-decoded (a value's %2F may become a
// separator) and in any case. Every such path needs mutual TLS.
func secapi(filled string) bool {
	seg, _, _ := strings.Cut(strings.TrimPrefix(filled, "v2/"), "/")
	if dec, err := url.PathUnescape(seg); err == nil {
		seg = dec
	}
	if i := strings.IndexAny(seg, "/\\"); i >= 0 {
		seg = seg[:i]
	}
	return strings.EqualFold(seg, "secapi")
}

// v2Query returns the parameters of an APIv2 GET: Options.Query and
// Options.XML together, each checked, one value per name.
func (b *Builder) v2Query(query url.Values, xml map[string]string) (map[string]string, error) {
	params := make(map[string]string, len(query)+len(xml))
	for _, k := range sortedKeys(query) {
		if n := len(query[k]); n != 1 {
			return nil, fmt.Errorf("Options.Query[%q] has %d values: an APIv2 parameter has one", k, n)
		}
		params[k] = query[k][0]
	}
	if err := b.checkV2Params(params, "Options.Query"); err != nil {
		return nil, err
	}
	if err := b.checkV2Params(xml, "Options.XML"); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(xml) {
		if q, ok := params[k]; ok && q != xml[k] {
			return nil, fmt.Errorf("Options.Query[%q] and Options.XML[%q] differ: an APIv2 GET signs one value per parameter", k, k)
		}
		params[k] = xml[k]
	}
	return params, nil
}

// checkV2Params checks the parameters from one source (Options.XML,
// Options.Query): their names, the sign type, and another merchant's id,
// which wechatpay-php refuses too.
func (b *Builder) checkV2Params(params map[string]string, source string) error {
	for _, k := range sortedKeys(params) {
		if !v2KeyPattern.MatchString(k) {
			return fmt.Errorf("%s key %q is not an APIv2 parameter name (letters, digits, underscores)", source, k)
		}
	}
	for _, k := range [...]string{"mch_id", "mchid", "combine_mch_id"} {
		if v, ok := params[k]; ok && v != b.mchID {
			return fmt.Errorf("%s[%q] is %q, but this Builder signs for merchant %s: refused before sending", source, k, v, b.mchID)
		}
	}
	// An empty value is an absent one in APIv2: "" means MD5, and signV2
	// leaves it out.
	switch t, ok := params["sign_type"]; {
	case !ok, t == "", t == apiv2.MD5, t == apiv2.HMACSHA256:
	default:
		return fmt.Errorf("%s[\"sign_type\"] is %q: expected %s or %s", source, t, apiv2.MD5, apiv2.HMACSHA256)
	}
	return nil
}

// signV2 copies the checked parameters, adds nonce_str and sign.
func (b *Builder) signV2(in map[string]string, nonceless bool) (map[string]string, error) {
	params := make(map[string]string, len(in)+2)
	for k, v := range in {
		params[k] = v
	}
	if params["sign_type"] == "" {
		delete(params, "sign_type") // empty: absent, MD5
	}
	if !nonceless && params["nonce_str"] == "" {
		nonce, err := middleware.Nonce()
		if err != nil {
			return nil, err
		}
		params["nonce_str"] = nonce
	}
	params["sign"] = apiv2.Sign(params, b.secret, params["sign_type"])
	return params, nil
}

// v2Response checks an APIv2 answer. An endpoint that answers signed XML
// must answer exactly that: anything else (JSON, text, gzip, broken XML,
// XML without its sign) is a *VerificationError, never data. Only the
// unsigned endpoints skip the sign (r.unsigned: the chain's template is
// one of apiv2.Unsigned's, literally), and the downloads among them answer
// plain text or gzip, returned as they are. A return_code or result_code
// other than SUCCESS is a *V2Error.
func (b *Builder) v2Response(r *request, resp *http.Response, body []byte) (*Response, error) {
	if t := bytes.TrimSpace(body); r.unsigned && (len(t) == 0 || t[0] != '<') {
		return &Response{http: resp, body: body}, nil
	}
	unverified := func(kind error, reason string) *VerificationError {
		return &VerificationError{Kind: kind, Subject: "response", Reason: reason, StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
	}
	fields, err := apiv2.Decode(body)
	switch {
	case err != nil && r.unsigned:
		return nil, r.fail(err)
	case err != nil:
		return nil, r.fail(fmt.Errorf("%w: %w",
			unverified(ErrMissingHeader, "this endpoint answers signed APIv2 XML, and this answer is not XML: it has no sign to check"), err))
	}
	if rc := fields["return_code"]; rc != "" && rc != "SUCCESS" {
		return nil, newV2Error(r.method, r.path, fields, body)
	}
	if !r.unsigned {
		if err := apiv2.Verify(fields, b.secret); err != nil {
			kind, reason := ErrBadSignature, "the APIv2 sign does not match the response: it was altered on the way, or Config.Secret is not the merchant's APIv2 key"
			if errors.Is(err, apiv2.ErrNoSign) {
				kind, reason = ErrMissingHeader, "the APIv2 response has no sign"
			}
			return nil, r.fail(unverified(kind, reason))
		}
	}
	if rc := fields["result_code"]; rc != "" && rc != "SUCCESS" {
		return nil, newV2Error(r.method, r.path, fields, body)
	}
	asJSON, err := json.Marshal(fields)
	if err != nil {
		return nil, r.fail(err)
	}
	return &Response{http: resp, body: body, xml: fields, json: asJSON}, nil
}
