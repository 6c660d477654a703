package middleware

import (
	"errors"
	"net/http"
)

// Headers is the headers step: it adds what WeChat Pay requires of every
// APIv3 request, leaving any value the caller set.
type Headers struct {
	// UserAgent names the client; WeChat rejects requests without one.
	UserAgent string
	// Accept is sent when the caller set none; WeChat rejects requests
	// without one. Empty means [DefaultAccept].
	Accept string
	// WechatpaySerial names the platform certificate serial or WeChat Pay
	// public key id (PUB_KEY_ID_...) the client verifies with; WeChat signs
	// the response with the key it names. Empty sends none.
	WechatpaySerial string
	// SerialSource, when set, gives Wechatpay-Serial for each request
	// instead: the newest certificate of a rotating set.
	SerialSource func() string
}

// DefaultAccept is the Accept header sent by default: JSON, plus the types
// WeChat answers for downloads.
const DefaultAccept = "application/json, text/plain, application/x-gzip, application/pdf, image/png, image/*;q=0.5"

// Step returns the headers as the stack step named [HeadersStep].
func (h *Headers) Step() Step { return Step{Name: HeadersStep, Request: h.Apply} }

// Apply sets the missing headers on req.
func (h *Headers) Apply(req *http.Request) error {
	if h == nil {
		return errors.New("middleware: the Headers step is nil: create it as &Headers{UserAgent: ...}")
	}
	if req.Header.Get("Accept") == "" {
		accept := h.Accept
		if accept == "" {
			accept = DefaultAccept
		}
		req.Header.Set("Accept", accept)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", h.UserAgent)
	}
	serial := h.WechatpaySerial
	if h.SerialSource != nil {
		serial = h.SerialSource()
	}
	if serial != "" && req.Header.Get("Wechatpay-Serial") == "" {
		req.Header.Set("Wechatpay-Serial", serial)
	}
	return nil
}
