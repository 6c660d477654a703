package wechatpay

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wechatpay-chain/wechatpay/catalog"
)

// attemptsKey carries a counter of attempts, for the log.
type attemptsKey struct{}

// withAttempts adds an attempt counter to ctx when requests are logged.
func (b *Builder) withAttempts(ctx context.Context) (context.Context, *atomic.Int32) {
	if b.logger == nil {
		return ctx, nil
	}
	n := new(atomic.Int32)
	return context.WithValue(ctx, attemptsKey{}, n), n
}

// logRequest writes the one record of a request: method, path (the
// template, without values or query), status, Request-ID, attempts and
// duration, and what failed. Never headers, bodies or keys: an API error
// is logged by its code and message only, as its detail can quote the
// signed message. Any other error is logged as errText says it, without
// URL values.
func (b *Builder) logRequest(ctx context.Context, method, path string, start time.Time, attempts *atomic.Int32, resp *Response, err error, errText func() string) {
	if b.logger == nil {
		return
	}
	status, requestID := resp.StatusCode(), resp.RequestID()
	attrs := []slog.Attr{slog.String("method", method), slog.String("path", path)}
	level := slog.LevelInfo
	var apiErr *APIError
	var verr *VerificationError
	var v2Err *V2Error
	var tooLarge *ResponseTooLargeError
	switch {
	case err == nil:
	case errors.As(err, &apiErr):
		level, status, requestID = slog.LevelWarn, apiErr.StatusCode, apiErr.RequestID
		attrs = append(attrs, slog.String("code", apiErr.Code), slog.String("message", apiErr.Message))
	case errors.As(err, &v2Err):
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("return_code", v2Err.ReturnCode), slog.String("err_code", v2Err.ErrCode))
	case errors.As(err, &verr):
		level, status, requestID = slog.LevelError, verr.StatusCode, verr.Header.Get("Request-ID")
		attrs = append(attrs, slog.String("error", verr.Error()))
	case errors.As(err, &tooLarge):
		level, status, requestID = slog.LevelError, tooLarge.StatusCode, tooLarge.Header.Get("Request-ID")
		attrs = append(attrs, slog.String("error", tooLarge.Error()))
	default:
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", errText()))
	}
	n := int64(0)
	if attempts != nil {
		n = int64(attempts.Load())
	}
	attrs = append(attrs, slog.Int("status", status), slog.String("request_id", requestID),
		slog.Int64("attempts", n), slog.Duration("duration", time.Since(start)))
	b.logger.LogAttrs(ctx, level, "wechatpay request", attrs...)
}

// logError is err as a log record shows it: without the request line that
// fail puts first (the record holds the method and the path template),
// without the URL, values and query included, that net/http puts in its
// errors, and without a refused Options.Path value. The chain's path, which
// may hold values, is written as the record's path (logPath).
func (c *Chain) logError(method, logPath string, err error) string {
	var pv *pathValueError
	if errors.As(err, &pv) {
		return pv.bare
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	text := strings.TrimPrefix(err.Error(), "wechatpay: "+method+" "+c.path+": ")
	// The whole template first (its query may hold values), then the path
	// alone, as messages quote either.
	text = strings.ReplaceAll(text, c.path, logPath)
	if path, _, _ := strings.Cut(c.path, "?"); path != logPath {
		text = strings.ReplaceAll(text, path, logPath)
	}
	return text
}

// logPath is the path a log record shows: a template, never a value nor a
// query, however the chain was built (Seg, Value, Chain with a literal path
// or a full URL, Lookup). It is the catalog's template when the catalog
// knows the path filled with opts' Options.Path; else the chain's template
// when it has {placeholders} or Value segments (those as {value}); else,
// for a literal path or full URL the catalog does not know, whose segments
// may be values, its first two segments and "/...".
func (c *Chain) logPath(opts []Options) string {
	template, _, _ := strings.Cut(c.path, "?")
	filled := template
	if len(opts) == 1 {
		if f, err := fill(c.path, opts[0].Path); err == nil {
			filled, _, _ = strings.Cut(f, "?")
		}
	}
	if eps := catalog.Match(filled); len(eps) > 0 {
		return eps[0].Path
	}
	switch {
	case c.masked != "":
		masked, _, _ := strings.Cut(c.masked, "?")
		return masked
	case strings.Contains(template, "{"):
		return template
	}
	if i := strings.IndexByte(template, '/'); i >= 0 {
		if j := strings.IndexByte(template[i+1:], '/'); j >= 0 {
			return template[:i+1+j] + "/..."
		}
	}
	return template
}
