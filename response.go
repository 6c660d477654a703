package wechatpay

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/go-resty/resty/v2"
	"github.com/tidwall/gjson"
)

// Response is a verified 2xx response. Its methods are safe on a nil
// *Response (zero values), so forgetting to check an error does not panic.
type Response struct {
	raw *resty.Response
}

// body returns the raw body, nil for a nil Response.
func (r *Response) body() []byte {
	if r == nil || r.raw == nil {
		return nil
	}
	return r.raw.Body()
}

// header returns the headers, empty for a nil Response.
func (r *Response) header() http.Header {
	if r == nil || r.raw == nil || r.raw.RawResponse == nil {
		return http.Header{}
	}
	return r.raw.Header()
}

// StatusCode is the HTTP status, 200 or 204 for most endpoints.
func (r *Response) StatusCode() int {
	if r == nil || r.raw == nil {
		return 0
	}
	return r.raw.StatusCode()
}

// Header holds the response headers.
func (r *Response) Header() http.Header { return r.header() }

// Body is the raw body, exactly the bytes the signature was checked over.
func (r *Response) Body() []byte { return r.body() }

// String returns the body as text.
func (r *Response) String() string { return string(r.body()) }

// RequestID is WeChat Pay's Request-ID, the id its support asks for.
func (r *Response) RequestID() string { return r.header().Get("Request-ID") }

// JSON parses the body with gjson.
func (r *Response) JSON() gjson.Result { return gjson.ParseBytes(r.body()) }

// Get returns the value at a gjson path, such as "code_url" or
// "amount.total"; a missing path gives a Result whose Exists() is false.
func (r *Response) Get(path string) gjson.Result { return gjson.GetBytes(r.body(), path) }

// Decode unmarshals the JSON body into v.
func (r *Response) Decode(v any) error {
	if len(r.body()) == 0 {
		return fmt.Errorf("wechatpay: decoding the response body into %T: the response (status %d) has no body", v, r.StatusCode())
	}
	if err := json.Unmarshal(r.body(), v); err != nil {
		return fmt.Errorf("wechatpay: decoding the response body into %T: %w", v, err)
	}
	return nil
}

// Raw returns the underlying resty response (nil for a nil Response).
func (r *Response) Raw() *resty.Response {
	if r == nil {
		return nil
	}
	return r.raw
}
