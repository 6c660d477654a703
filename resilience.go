package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
)

// Failover sends requests for the mainland primary host to the backup host
// when the primary cannot be reached (Config.Failover; off by default). The
// signature covers the path, not the host, so the same signed request is
// valid there.
type Failover struct {
	// Primary and Backup are hosts ("host" or "host:port"); empty means
	// api.mch.weixin.qq.com and api2.mch.weixin.qq.com.
	Primary, Backup string
	// Stay is how long requests keep going to the backup once it was
	// needed, before the primary is tried again; 0 means 3 minutes.
	Stay time.Duration
	// AllowResend also fails over after an error that may come after the
	// request reached the primary (a reset, a timeout awaiting the answer).
	// Only for requests that are safe to repeat: by default a request is
	// resent only when it certainly never left (DNS failure, refused or
	// timed-out connection).
	AllowResend bool
}

// failover is the shared state of the failover transports (one per HTTP
// client: with and without the merchant certificate).
type failover struct {
	Failover
	mu    sync.Mutex
	until time.Time // requests go to the backup until then
}

func newFailover(f Failover) *failover {
	if f.Primary == "" {
		f.Primary = "api.mch.weixin.qq.com"
	}
	if f.Backup == "" {
		f.Backup = "api2.mch.weixin.qq.com"
	}
	if f.Stay <= 0 {
		f.Stay = 3 * time.Minute
	}
	return &failover{Failover: f}
}

// failoverTransport is the RoundTripper that applies a failover.
type failoverTransport struct {
	*failover
	base http.RoundTripper
}

func (t failoverTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.Primary {
		return t.base.RoundTrip(req)
	}
	t.mu.Lock()
	onBackup := time.Now().Before(t.until)
	t.mu.Unlock()
	if onBackup {
		return t.base.RoundTrip(t.toBackup(req, req.Body))
	}
	resp, err := t.base.RoundTrip(req)
	if err == nil || req.Context().Err() != nil || !(unreached(err) || t.AllowResend) {
		return resp, err
	}
	body := req.Body
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, err // the body is gone and cannot be read again
		}
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	t.until = time.Now().Add(t.Stay)
	t.mu.Unlock()
	resp, err2 := t.base.RoundTrip(t.toBackup(req, body))
	if err2 != nil {
		return nil, fmt.Errorf("primary host %s failed (%v), and so did backup host %s: %w", t.Primary, err, t.Backup, err2)
	}
	return resp, nil
}

// toBackup copies req for the backup host; a RoundTripper must not change
// the request it was given.
func (t failoverTransport) toBackup(req *http.Request, body io.ReadCloser) *http.Request {
	r := req.Clone(req.Context())
	r.URL.Host, r.Host, r.Body = t.Backup, "", body
	return r
}

// unreached reports whether err certainly came before the request left:
// the name did not resolve, or the connection was refused or timed out.
func unreached(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial"
}

// Retry retries answers that ask for it (Config.Retry; off by default):
// 5xx, 429 and 202, with exponential backoff and jitter, honouring
// Retry-After up to MaxWait. Every attempt is signed anew. 4xx answers,
// verification failures and network errors are never retried (see
// Failover for the network); uploads and downloads are not retried.
type Retry struct {
	// Retries after the first attempt; 0 means 2.
	Retries int
	// Wait and MaxWait bound the wait between attempts; 0 means 100 ms and 3 s.
	Wait, MaxWait time.Duration
}

func (r Retry) apply(c *resty.Client) {
	if r.Retries <= 0 {
		r.Retries = 2
	}
	if r.Wait <= 0 {
		r.Wait = 100 * time.Millisecond
	}
	if r.MaxWait <= 0 {
		r.MaxWait = 3 * time.Second
	}
	c.SetRetryCount(r.Retries).SetRetryWaitTime(r.Wait).SetRetryMaxWaitTime(r.MaxWait).
		AddRetryCondition(func(resp *resty.Response, err error) bool {
			if err != nil || resp == nil {
				return false
			}
			s := resp.StatusCode()
			return s >= 500 || s == http.StatusTooManyRequests || s == http.StatusAccepted
		}).
		SetRetryAfter(func(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
			return retryAfter(resp.Header().Get("Retry-After"), time.Now()), nil
		})
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); 0 lets
// the backoff decide.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

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

// countAttempt is called once per attempt, before it is signed.
func countAttempt(ctx context.Context) {
	if n, ok := ctx.Value(attemptsKey{}).(*atomic.Int32); ok {
		n.Add(1)
	}
}

// logRequest writes the one record of a request: method, path (the
// template, without values or query), status, Request-ID, attempts and
// duration, and what failed. Never headers, bodies or keys: an API error
// is logged by its code and message only, as its detail can quote the
// signed message.
func (b *Builder) logRequest(ctx context.Context, method, path string, start time.Time, attempts *atomic.Int32, resp *Response, err error) {
	if b.logger == nil {
		return
	}
	status, requestID := resp.StatusCode(), resp.RequestID()
	attrs := []slog.Attr{slog.String("method", method), slog.String("path", path)}
	level := slog.LevelInfo
	var apiErr *APIError
	var verr *VerificationError
	var v2Err *V2Error
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
	default:
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	n := int64(0)
	if attempts != nil {
		n = int64(attempts.Load())
	}
	attrs = append(attrs, slog.Int("status", status), slog.String("request_id", requestID),
		slog.Int64("attempts", n), slog.Duration("duration", time.Since(start)))
	b.logger.LogAttrs(ctx, level, "wechatpay request", attrs...)
}
