package wechatpay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"

	"github.com/wechatpay-chain/wechatpay/middleware"
)

// Options are the parameters of one request, the counterpart of
// wechatpay-php's request options.
type Options struct {
	// JSON is marshalled as the request body (struct, map or
	// json.RawMessage). The bytes sent are the bytes signed.
	JSON any
	// Body is a raw body, sent and signed as it is (Content-Type
	// application/json unless Headers set one). Set JSON or Body, not both.
	Body []byte
	// Query is appended to the URL, keys sorted. For an APIv2 GET, Query
	// and XML together are the parameters, signed (see XML); on any other
	// APIv2 request it is an error, as it would go unsigned.
	Query url.Values
	// Path fills the {name} placeholders of the chain. Each value is escaped
	// as one segment ("/" -> %2F); a valid %XX triplet is taken as already
	// escaped and sent as it is. A value that is, or holds between "/", "."
	// or ".." once percent-decoded is an error. A placeholder after "?" is
	// a query value, escaped with url.QueryEscape.
	Path map[string]string
	// Headers are added to the request, e.g. Wechatpay-Serial for a body with
	// encrypted fields.
	Headers http.Header
	// BaseURL replaces the Builder's base URL for this request, like
	// wechatpay-php's base_uri: "https://apihk.mch.weixin.qq.com/".
	BaseURL string
	// Middleware edits a copy of the Builder's middleware stack for this
	// request only, e.g. middleware.Without(middleware.VerifierStep).
	Middleware func(*middleware.Stack) error

	// XML are the parameters of an APIv2 (v2/) request; nonce_str and sign
	// are added. An empty value is not signed; an empty sign_type is not
	// sent (MD5). A POST sends them as <xml>; a GET sends them, with Query,
	// as the query string, each parameter once.
	XML map[string]string
	// Nonceless leaves nonce_str out of an APIv2 request (the endpoints the
	// catalog marks get it without asking, when the chain's path is the
	// catalog's template: a literal segment does not match a placeholder).
	Nonceless bool
	// Media uploads a file to a meta+file endpoint, streamed; see Media.
	Media *Media
	// Sink receives the answer's body as it arrives instead of holding it in
	// memory (downloads); see Sink. On APIv2 it is for the file downloads,
	// written as literal paths (no placeholder or Value segment):
	// v2/pay/downloadbill, v2/pay/downloadfundflow,
	// v2/billcommentsp/batchquerycomment.
	Sink *Sink

	// Security sends an APIv2 request over mutual TLS with
	// Config.TLSCertificate (every v2/secapi/ path, its first segment
	// percent-decoded and in any case, and the catalog's "security"
	// endpoints get it without asking).
	Security bool
}

// body returns the bytes to send: nil for no body at all, empty for an empty
// body (POST, PUT and PATCH always carry one, so that Content-Length: 0 is
// sent rather than a chunked empty body).
func (o *Options) body(method string) ([]byte, error) {
	if o.JSON != nil && o.Body != nil {
		return nil, errors.New("Options.JSON and Options.Body are both set: set one")
	}
	if method == http.MethodGet && (o.JSON != nil || o.Body != nil) {
		return nil, errors.New("a GET request carries no body: put its parameters in Options.Query")
	}
	switch v := o.JSON.(type) {
	case nil:
	case json.RawMessage:
		if !json.Valid(v) {
			return nil, errors.New("Options.JSON holds a json.RawMessage that is not valid JSON")
		}
		return v, nil
	case []byte:
		return nil, errors.New("Options.JSON holds []byte, which would be sent as a base64 string: put raw JSON bytes in Options.Body")
	case string:
		return nil, errors.New("Options.JSON holds a string, which would be sent as a JSON string: pass a struct or map, or put raw JSON bytes in Options.Body")
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		// WeChat reads "<" as is; \u003c only makes bodies harder to read in logs.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("Options.JSON: %w", err)
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	if o.Body != nil {
		return o.Body, nil
	}
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return []byte{}, nil
	}
	return nil, nil
}

// checkStream validates Media and Sink before anything is sent.
func (o *Options) checkStream(method string) error {
	switch {
	case o.Media != nil && o.Sink != nil:
		return errors.New("Options.Media and Options.Sink are both set: an upload answers JSON, set one")
	case o.Media != nil && (o.JSON != nil || o.Body != nil):
		return errors.New("Options.Media is the body: leave Options.JSON and Options.Body empty")
	case o.Media != nil && method != http.MethodPost && method != http.MethodPut:
		return fmt.Errorf("Options.Media is sent with POST (or PUT), not %s", method)
	case o.Sink != nil && o.Sink.Writer == nil:
		return errors.New("Options.Sink.Writer is nil")
	case o.Sink != nil && nilInside(o.Sink.Writer):
		return fmt.Errorf("Options.Sink.Writer is a nil %T: expected a writer for the download", o.Sink.Writer)
	case o.Sink != nil:
		if _, err := newDigest(o.Sink.HashType); err != nil {
			return err
		}
		switch {
		case o.Sink.HashType == "" && o.Sink.HashValue != "":
			// Without its type the digest would silently go unchecked.
			return errors.New("Options.Sink.HashValue is set but HashType is empty: expected SHA1 or SHA256, the hash_type of the answer that gave the download_url")
		case o.Sink.HashType != "" && o.Sink.HashValue == "":
			return fmt.Errorf("Options.Sink.HashType is %s but HashValue is empty: expected the hash_value of the answer that gave the download_url", o.Sink.HashType)
		}
	}
	return nil
}

// nilInside reports whether v is a nil pointer or func held in a non-nil
// interface: it compares unequal to nil, but its first method call would
// crash the process instead of returning an error.
func nilInside(v any) bool {
	if v == nil {
		return false
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func:
		return rv.IsNil() // a nil map or slice (StaticKeys, MultiKeys) works
	}
	return false
}
