package wechatpay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"

	"github.com/go-resty/resty/v2"

	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// acceptV2 is the Accept header of APIv2 requests: XML, and the plain text
// or gzip of bill downloads.
const acceptV2 = "text/xml, text/plain, application/x-gzip"

var v2KeyPattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// doV2 sends an APIv2 request: Options.XML with nonce_str and sign, as an
// <xml> body (POST) or the query string (GET), over mutual TLS when the
// endpoint needs it; the answer's sign is checked and its return_code and
// result_code turned into a *V2Error.
func (c *Chain) doV2(ctx context.Context, method string, o Options) (*Response, error) {
	b := c.b
	fail := func(err error) (*Response, error) { return c.fail(method, err) }
	if b.secret == "" {
		return fail(errors.New("this Builder has no APIv2 key: set Config.Secret"))
	}
	if o.JSON != nil || o.Body != nil {
		return fail(errors.New("APIv2 parameters go in Options.XML, not Options.JSON or Options.Body"))
	}
	if o.Media != nil || o.Sink != nil {
		return fail(errors.New("Options.Media and Options.Sink are for APIv3 paths; an APIv2 bill download answers with its text in Response.Body"))
	}
	var security, nonceless bool
	for _, e := range catalog.Match(c.path) {
		security = security || e.Security()
		nonceless = nonceless || slices.Contains(e.Params.Opts, "nonceless")
	}
	params, err := b.signV2(o.XML, o.Nonceless || nonceless)
	if err != nil {
		return fail(err)
	}
	client := b.client
	if o.Security || security {
		if b.tlsClient == nil {
			return fail(errors.New("this endpoint needs mutual TLS with the merchant API certificate: set Config.TLSCertificate (LoadPKCS12 for apiclient_cert.p12, LoadTLSCertificate for PEM)"))
		}
		client = b.tlsClient
	}
	if method == http.MethodGet {
		// The signed parameters travel as the query string.
		q := url.Values{}
		for k, vs := range o.Query {
			q[k] = vs
		}
		for k, v := range params {
			q.Set(k, v)
		}
		o.Query = q
	}
	target, err := c.url(o)
	if err != nil {
		return fail(err)
	}
	stack, err := requestStack(b.stackV2, o)
	if err != nil {
		return fail(err)
	}
	req := client.R().SetContext(context.WithValue(ctx, stackKey{}, stack))
	// Set here, not by the headers step: resty would have copied the XML
	// Content-Type into an empty Accept before the step runs.
	req.Header.Set("Accept", acceptV2)
	copyHeaders(req.Header, o.Headers)
	if method != http.MethodGet {
		req.SetBody(apiv2.Encode(params))
		if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "text/xml")
		}
	}
	resp, err := req.Execute(method, target)
	if err != nil {
		return fail(b.tooLarge(resp, err))
	}
	if !success(resp.StatusCode()) {
		return nil, newAPIError(method, c.path, resp.StatusCode(), resp.Header(), resp.Body())
	}
	return b.v2Response(method, c.path, resp)
}

// signV2 copies the caller's parameters, refuses another merchant's id
// (as wechatpay-php does), adds nonce_str and sign.
func (b *Builder) signV2(in map[string]string, nonceless bool) (map[string]string, error) {
	params := make(map[string]string, len(in)+2)
	for k, v := range in {
		if !v2KeyPattern.MatchString(k) {
			return nil, fmt.Errorf("Options.XML key %q is not an APIv2 parameter name (letters, digits, underscores)", k)
		}
		params[k] = v
	}
	for _, k := range [...]string{"mch_id", "mchid", "combine_mch_id"} {
		if v, ok := params[k]; ok && v != b.mchID {
			return nil, fmt.Errorf("Options.XML[%q] is %q, but this Builder signs for merchant %s: refused before sending", k, v, b.mchID)
		}
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

// v2Response checks an APIv2 answer. Plain text or gzip (bill downloads)
// is returned as it is; XML must be well formed, its sign valid (except on
// the unsigned endpoints), and its return_code and result_code SUCCESS.
func (b *Builder) v2Response(method, path string, resp *resty.Response) (*Response, error) {
	body := resp.Body()
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '<' {
		return fromResty(resp), nil
	}
	fields, err := apiv2.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: %s %s: %w", method, path, err)
	}
	if rc := fields["return_code"]; rc != "" && rc != "SUCCESS" {
		return nil, newV2Error(method, path, fields, body)
	}
	if !apiv2.Unsigned(resp.RawResponse.Request.URL.Path) {
		if err := apiv2.Verify(fields, b.secret); err != nil {
			kind, reason := ErrBadSignature, "the APIv2 sign does not match the response: it was altered on the way, or Config.Secret is not the merchant's APIv2 key"
			if errors.Is(err, apiv2.ErrNoSign) {
				kind, reason = ErrMissingHeader, "the APIv2 response has no sign"
			}
			return nil, fmt.Errorf("wechatpay: %s %s: %w", method, path, &VerificationError{Kind: kind, Subject: "response", Reason: reason,
				StatusCode: resp.StatusCode(), Header: resp.Header(), Body: body})
		}
	}
	if rc := fields["result_code"]; rc != "" && rc != "SUCCESS" {
		return nil, newV2Error(method, path, fields, body)
	}
	asJSON, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: %s %s: %w", method, path, err)
	}
	r := fromResty(resp)
	r.xml, r.json = fields, asJSON
	return r, nil
}

// V2Error is an APIv2 answer whose return_code (communication) or
// result_code (business) is not SUCCESS. Micropay's USERPAYING, for one, is
// a V2Error whose ErrCode the caller acts on.
type V2Error struct {
	Method, Path string
	ReturnCode   string // SUCCESS, or FAIL when the request itself failed
	ReturnMsg    string
	ResultCode   string // FAIL when the business operation failed
	ErrCode      string // e.g. USERPAYING, ORDERPAID, SYSTEMERROR
	ErrCodeDes   string
	Fields       map[string]string // every field of the answer
	Body         []byte
}

func newV2Error(method, path string, fields map[string]string, body []byte) *V2Error {
	return &V2Error{Method: method, Path: path, ReturnCode: fields["return_code"], ReturnMsg: fields["return_msg"],
		ResultCode: fields["result_code"], ErrCode: fields["err_code"], ErrCodeDes: fields["err_code_des"],
		Fields: fields, Body: body}
}

// Error gives the failing code and WeChat's message.
func (e *V2Error) Error() string {
	msg := fmt.Sprintf("wechatpay: %s %s: ", e.Method, e.Path)
	if e.ReturnCode != "SUCCESS" {
		return msg + "return_code " + e.ReturnCode + ": " + e.ReturnMsg
	}
	msg += "result_code " + e.ResultCode
	if e.ErrCode != "" {
		msg += ": " + e.ErrCode
	}
	if e.ErrCodeDes != "" {
		msg += " " + e.ErrCodeDes
	}
	return msg
}
