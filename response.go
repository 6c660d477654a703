package wechatpay

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tidwall/gjson"
)

// Response is a verified 2xx response. Its methods are safe on a nil
// *Response (zero values), so forgetting to check an error does not panic.
type Response struct {
	http *http.Response // status and headers; its Body is already consumed
	body []byte         // the raw body (nil for a download written to a Sink)
	// APIv2: the XML fields, and the same as a JSON object so that Get,
	// JSON and Decode work as they do for APIv3.
	xml  map[string]string
	json []byte
}

// rawBody returns the raw body, nil for a nil Response.
func (r *Response) rawBody() []byte {
	if r == nil {
		return nil
	}
	return r.body
}

// header returns the headers, empty for a nil Response.
func (r *Response) header() http.Header {
	if r == nil || r.http == nil {
		return http.Header{}
	}
	return r.http.Header
}

// data is what Get, JSON and Decode read: the JSON body, or the APIv2
// fields as JSON.
func (r *Response) data() []byte {
	if r != nil && r.json != nil {
		return r.json
	}
	return r.rawBody()
}

// XML returns a copy of an APIv2 answer's fields (nil for APIv3 and for
// plain-text downloads).
func (r *Response) XML() map[string]string {
	if r == nil || r.xml == nil {
		return nil
	}
	out := make(map[string]string, len(r.xml))
	for k, v := range r.xml {
		out[k] = v
	}
	return out
}

// StatusCode is the HTTP status, 200 or 204 for most endpoints.
func (r *Response) StatusCode() int {
	if r == nil || r.http == nil {
		return 0
	}
	return r.http.StatusCode
}

// Header holds the response headers.
func (r *Response) Header() http.Header { return r.header() }

// Body is the raw body, exactly the bytes the signature was checked over.
func (r *Response) Body() []byte { return r.rawBody() }

// String returns the body as text.
func (r *Response) String() string { return string(r.rawBody()) }

// RequestID is WeChat Pay's Request-ID, the id its support asks for.
func (r *Response) RequestID() string { return r.header().Get("Request-ID") }

// JSON parses the body with gjson.
func (r *Response) JSON() gjson.Result { return gjson.ParseBytes(r.data()) }

// Get returns the value at a gjson path, such as "code_url" or
// "amount.total" (APIv2: a field name such as "prepay_id"); a missing path
// gives a Result whose Exists() is false.
func (r *Response) Get(path string) gjson.Result { return gjson.GetBytes(r.data(), path) }

// Decode unmarshals the JSON body into v. APIv2 fields are all strings:
// use `json:",string"` for numbers.
func (r *Response) Decode(v any) error {
	if len(r.data()) == 0 {
		return fmt.Errorf("wechatpay: decoding the response body into %T: the response (status %d) has no body", v, r.StatusCode())
	}
	if err := json.Unmarshal(r.data(), v); err != nil {
		return fmt.Errorf("wechatpay: decoding the response body into %T: %w", v, err)
	}
	return nil
}

// HTTPResponse returns the *http.Response (status, headers, the request as
// sent); its Body is already consumed.
func (r *Response) HTTPResponse() *http.Response {
	if r == nil {
		return nil
	}
	return r.http
}
