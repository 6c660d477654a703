package wechatpay

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/go-resty/resty/v2"
	"github.com/tidwall/gjson"
)

// Response is a verified 2xx response.
type Response struct {
	raw *resty.Response
}

// StatusCode is the HTTP status, 200 or 204 for most endpoints.
func (r *Response) StatusCode() int { return r.raw.StatusCode() }

// Header holds the response headers.
func (r *Response) Header() http.Header { return r.raw.Header() }

// Body is the raw body, exactly the bytes the signature was checked over.
func (r *Response) Body() []byte { return r.raw.Body() }

// String returns the body as text.
func (r *Response) String() string { return string(r.raw.Body()) }

// RequestID is WeChat Pay's Request-ID, the id its support asks for.
func (r *Response) RequestID() string { return r.raw.Header().Get("Request-ID") }

// JSON parses the body with gjson.
func (r *Response) JSON() gjson.Result { return gjson.ParseBytes(r.raw.Body()) }

// Get returns the value at a gjson path, such as "code_url" or
// "amount.total"; a missing path gives a Result whose Exists() is false.
func (r *Response) Get(path string) gjson.Result { return gjson.GetBytes(r.raw.Body(), path) }

// Decode unmarshals the JSON body into v.
func (r *Response) Decode(v any) error {
	if len(r.raw.Body()) == 0 {
		return fmt.Errorf("wechatpay: decoding the response body into %T: the response (status %d) has no body", v, r.StatusCode())
	}
	if err := json.Unmarshal(r.raw.Body(), v); err != nil {
		return fmt.Errorf("wechatpay: decoding the response body into %T: %w", v, err)
	}
	return nil
}

// Raw returns the underlying resty response.
func (r *Response) Raw() *resty.Response { return r.raw }
