package wechatpay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wechatpay-chain/wechatpay/internal/rsakey"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// ErrVerification matches every response that failed verification:
// errors.Is(err, wechatpay.ErrVerification). errors.As with a
// *VerificationError gives the reason and the response.
var ErrVerification = middleware.ErrVerification

// The kinds of verification failure, each also matching ErrVerification.
var (
	ErrMissingHeader   = middleware.ErrMissingHeader   // a signature header (APIv3) or the sign (APIv2) is absent
	ErrMalformedHeader = middleware.ErrMalformedHeader // a Wechatpay-* header cannot be parsed
	ErrClockSkew       = middleware.ErrClockSkew       // Wechatpay-Timestamp is more than 300 s from local time
	ErrUnknownSerial   = middleware.ErrUnknownSerial   // signed with a key that is not configured
	ErrBadSignature    = middleware.ErrBadSignature    // the signature does not match: altered, or the wrong key
	ErrSignTest        = middleware.ErrSignTest        // WeChat Pay's probe of whether the merchant verifies
)

// VerificationError is a 2xx response that failed verification; it keeps
// the response for inspection.
type VerificationError = middleware.VerificationError

// APIError is a response with a status other than 2xx: WeChat Pay's error
// JSON ({"code","message","detail"}) with the status and Request-ID.
type APIError struct {
	Method     string          // the request's method
	Path       string          // the chain's path template
	StatusCode int             // the HTTP status, never 2xx
	Code       string          // e.g. PARAM_ERROR, SIGN_ERROR, ORDER_NOT_EXIST
	Message    string          // WeChat's explanation
	Detail     json.RawMessage // the "detail" object as sent; its shape varies by code
	RequestID  string          // the Request-ID header, which WeChat Pay support asks for
	Header     http.Header     // the response headers, unverified: only 2xx answers are verified
	Body       []byte          // the body as received, also when it is not WeChat's error JSON
	// Hint is what the library knows that may explain the answer: that it
	// did not come from WeChat Pay, or that the catalog documents another
	// path or method. Error includes it.
	Hint string
}

func newAPIError(method, path string, status int, header http.Header, body []byte) *APIError {
	e := &APIError{
		Method:     method,
		Path:       path,
		StatusCode: status,
		RequestID:  header.Get("Request-ID"),
		Header:     header,
		Body:       body,
	}
	var payload struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(e.Body, &payload) == nil {
		e.Code, e.Message, e.Detail = payload.Code, payload.Message, payload.Detail
	} else {
		// A gateway's HTML page or plain text: keep the start of it.
		e.Message = truncate(strings.TrimSpace(string(e.Body)), 200)
	}
	return e
}

// ErrResponseTooLarge matches an answer refused because its body,
// decompressed, is larger than Config.MaxResponseBytes:
// errors.Is(err, wechatpay.ErrResponseTooLarge). errors.As with a
// *ResponseTooLargeError gives the status and headers.
var ErrResponseTooLarge = errors.New("the answer is larger than Config.MaxResponseBytes")

// ResponseTooLargeError is an answer whose body was larger than the
// Builder's limit (Config.MaxResponseBytes). It was read no further than
// the limit and never verified: nothing of it is kept but the status and
// the headers, which are unverified too.
type ResponseTooLargeError struct {
	StatusCode int         // the answer's status
	Header     http.Header // the answer's headers, unverified
	Limit      int64       // bytes
	// LimitSetBy names the setting that chose Limit:
	// "Config.MaxResponseBytes", or "apiv2.MaxSize" for an APIv2 XML
	// answer when that is tighter.
	LimitSetBy string
}

// Error names the limit and the setting that chose it.
func (e *ResponseTooLargeError) Error() string {
	if e == nil {
		return ErrResponseTooLarge.Error() + " (a nil *ResponseTooLargeError)"
	}
	by := e.LimitSetBy
	if by == "" {
		by = "Config.MaxResponseBytes"
	}
	msg := fmt.Sprintf("the answer (status %d", e.StatusCode)
	if id := e.Header.Get("Request-ID"); id != "" {
		msg += ", Request-ID " + id
	}
	msg += fmt.Sprintf(") is larger than %d bytes, the limit %s sets: refused unread past the limit and unverified", e.Limit, by)
	switch {
	case by == "apiv2.MaxSize":
		msg += " (APIv2 XML answers are a few KB)"
	case success(e.StatusCode):
		msg += " (a file download goes to an Options.Sink, which streams it)"
	}
	return msg
}

// Is matches ErrResponseTooLarge.
func (e *ResponseTooLargeError) Is(target error) bool { return target == ErrResponseTooLarge }

// hints tell what usually causes an error code on the merchant's side.
var hints = map[string]string{
	"SIGN_ERROR": "WeChat Pay rejected the request signature: check that Config.Serial is the serial of the merchant API certificate whose private key is Config.PrivateKey, that Config.MchID is right, and that this machine's clock is right",
}

// Error gives the request, status, code, message, detail and Request-ID,
// and what to check for codes with a usual cause.
func (e *APIError) Error() string {
	if e == nil {
		return "wechatpay: a nil *APIError"
	}
	var b strings.Builder
	b.WriteString("wechatpay: ")
	b.WriteString(e.Method)
	b.WriteString(" ")
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(truncate(e.Message, 300)) // as sent, so it could be of any size
	}
	if len(e.Detail) > 0 && !bytes.Equal(e.Detail, []byte("null")) {
		b.WriteString(" (detail: ")
		b.WriteString(truncate(string(e.Detail), 300))
		b.WriteString(")")
	}
	if e.RequestID != "" {
		b.WriteString(" [Request-ID ")
		b.WriteString(e.RequestID)
		b.WriteString("]")
	}
	if hint := hints[e.Code]; hint != "" {
		b.WriteString(". ")
		b.WriteString(hint)
	}
	if e.Hint != "" {
		b.WriteString(". ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// ErrorCode is WeChat Pay's error code, such as PARAM_ERROR: the same
// method as V2Error's, so that one errors.As with
// interface{ ErrorCode() string } handles both APIs.
func (e *APIError) ErrorCode() string {
	if e == nil {
		return ""
	}
	return e.Code
}

// ErrorMessage is WeChat Pay's explanation of the code.
func (e *APIError) ErrorMessage() string {
	if e == nil {
		return ""
	}
	return e.Message
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// FailoverError is a request that failed on the primary host and then on
// the backup. errors.Is and errors.As see both causes.
type FailoverError struct {
	Primary, Backup       string // the hosts
	PrimaryErr, BackupErr error  // why each host failed
}

// Error names both hosts and both causes.
func (e *FailoverError) Error() string {
	if e == nil {
		return "wechatpay: a nil *FailoverError"
	}
	return fmt.Sprintf("primary host %s failed (%v), and so did backup host %s: %v", e.Primary, e.PrimaryErr, e.Backup, e.BackupErr)
}

// Unwrap returns both causes.
func (e *FailoverError) Unwrap() []error {
	if e == nil {
		return nil
	}
	return []error{e.PrimaryErr, e.BackupErr}
}

// ErrDigestMismatch matches a download whose digest is not the expected
// one (a *DigestError, or the *VerificationError of an overseas statement
// whose file is not the one its signed SHA-1 names): do not use what was
// written to the Sink.
var ErrDigestMismatch = middleware.ErrDigestMismatch

// DigestError tells which digest a download had.
type DigestError struct {
	HashType, Want, Got string // the algorithm, the expected hex digest and that of what arrived
	Written             int64  // bytes written to the Sink
}

// Error says the digest did not match and how much was written.
func (e *DigestError) Error() string {
	if e == nil {
		return ErrDigestMismatch.Error() + " (a nil *DigestError)"
	}
	return fmt.Sprintf("%v (%s %s, expected %s; %d bytes written)", ErrDigestMismatch, e.HashType, e.Got, e.Want, e.Written)
}

// Is matches ErrDigestMismatch.
func (e *DigestError) Is(target error) bool { return target == ErrDigestMismatch }

// V2Error is an APIv2 answer whose return_code (communication) or
// result_code (business) is not SUCCESS. Micropay's USERPAYING, for one, is
// a V2Error whose ErrCode the caller acts on.
type V2Error struct {
	Method, Path string            // the request's method and the chain's path template
	ReturnCode   string            // SUCCESS, or FAIL when the request itself failed
	ReturnMsg    string            // WeChat's explanation of a return_code FAIL, e.g. 签名错误
	ResultCode   string            // FAIL when the business operation failed
	ErrCode      string            // e.g. USERPAYING, ORDERPAID, SYSTEMERROR
	ErrCodeDes   string            // WeChat's explanation of ErrCode
	Fields       map[string]string // every field of the answer
	Body         []byte            // the answer as received; verified only if ReturnCode is SUCCESS on a signed endpoint
}

func newV2Error(method, path string, fields map[string]string, body []byte) *V2Error {
	return &V2Error{Method: method, Path: path, ReturnCode: fields["return_code"], ReturnMsg: fields["return_msg"],
		ResultCode: fields["result_code"], ErrCode: fields["err_code"], ErrCodeDes: fields["err_code_des"],
		Fields: fields, Body: body}
}

// ErrorCode is the code to act on: ErrCode (USERPAYING, ORDERPAID, ...)
// when the business operation failed, ReturnCode (FAIL) when the request
// itself did; the same method as APIError's.
func (e *V2Error) ErrorCode() string {
	switch {
	case e == nil:
		return ""
	case e.requestFailed():
		return e.ReturnCode
	case e.ErrCode != "":
		return e.ErrCode
	}
	return e.ResultCode
}

// ErrorMessage is WeChat's explanation of ErrorCode: ErrCodeDes, or
// ReturnMsg when the request itself failed.
func (e *V2Error) ErrorMessage() string {
	switch {
	case e == nil:
		return ""
	case e.requestFailed():
		return e.ReturnMsg
	}
	return e.ErrCodeDes
}

// requestFailed reports whether the request itself failed (a return_code
// other than SUCCESS), rather than the business operation (result_code);
// an answer without a return_code is read by its result_code.
func (e *V2Error) requestFailed() bool { return e.ReturnCode != "" && e.ReturnCode != "SUCCESS" }

// Error gives the failing code and WeChat's message.
func (e *V2Error) Error() string {
	if e == nil {
		return "wechatpay: a nil *V2Error"
	}
	msg := fmt.Sprintf("wechatpay: %s %s: ", e.Method, e.Path)
	if e.requestFailed() {
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

// ErrWeakKey matches the error for an RSA key shorter than 2048 bits
// (errors.Is), wherever the key enters: the loaders, Config, the
// crypto.Signer adapter, verification and encryption. The error names the
// key (the merchant API private key, the WeChat Pay public key, a platform
// certificate).
var ErrWeakKey = rsakey.ErrWeak
