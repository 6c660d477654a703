package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wechatpay-chain/wechatpay/middleware"
)

// Failover sends requests for the mainland primary host to the backup host
// when the primary cannot be reached (Config.Failover; off by default). The
// signature covers the path, not the host: the backup attempt is signed
// anew, like every attempt, by the same middleware.
type Failover struct {
	// Primary and Backup are hosts ("host" or "host:port"); empty means
	// api.mch.weixin.qq.com and api2.mch.weixin.qq.com.
	Primary, Backup string
	// Stay is how long requests keep going to the backup once it answered
	// in the primary's place, before the primary is tried again; 0 means
	// 3 minutes. A backup that did not answer is not stayed on.
	Stay time.Duration
	// ConnectTimeout bounds connecting to the primary (DNS and TCP), so
	// that a primary that drops packets leaves the backup time to answer
	// within the request's deadline; 0 means 5 s. It is further capped at
	// half the time the request's deadline leaves. It applies when the
	// transport is an *http.Transport (the default, or Config.HTTPClient's,
	// of which the Builder then uses a copy); another RoundTripper keeps its
	// own dial timeouts.
	ConnectTimeout time.Duration
	// AllowResend also fails over after an error that may come after the
	// request reached the primary (a reset, a timeout awaiting the answer).
	// Only for requests that are safe to repeat: by default a request is
	// resent only when it certainly never left (DNS failure, refused or
	// timed-out connection).
	AllowResend bool
}

// defaultConnectTimeout is Failover.ConnectTimeout's default: long enough
// for a slow network, short against the 30 s default request timeout.
const defaultConnectTimeout = 5 * time.Second

// failover is the shared state of the failover transports (one per HTTP
// client: with and without the merchant certificate).
type failover struct {
	Failover
	mu    sync.Mutex
	until time.Time // requests go to the backup until then
	now   func() time.Time
}

// The hosts Failover uses by default.
const (
	failoverPrimary = "api.mch.weixin.qq.com"
	failoverBackup  = "api2.mch.weixin.qq.com"
)

func newFailover(f Failover) *failover {
	if f.Primary == "" {
		f.Primary = failoverPrimary
	}
	if f.Backup == "" {
		f.Backup = failoverBackup
	}
	if f.Stay <= 0 {
		f.Stay = 3 * time.Minute
	}
	if f.ConnectTimeout <= 0 {
		f.ConnectTimeout = defaultConnectTimeout
	}
	return &failover{Failover: f, now: time.Now}
}

// onBackup reports whether requests go to the backup for now.
func (f *failover) onBackup() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now().Before(f.until)
}

// stay keeps requests on the backup for Stay, from now.
func (f *failover) stay() {
	f.mu.Lock()
	f.until = f.now().Add(f.Stay)
	f.mu.Unlock()
}

// failoverTransport is the RoundTripper that applies a failover.
type failoverTransport struct {
	*failover
	// base runs the request steps: the backup attempt is signed anew.
	base http.RoundTripper
}

func (t failoverTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !sameHost(req.URL, t.Primary) {
		return t.base.RoundTrip(req)
	}
	if t.onBackup() {
		r := req.Clone(req.Context())
		r.URL.Host, r.Host = t.Backup, ""
		return t.base.RoundTrip(r)
	}
	resp, err := t.base.RoundTrip(t.withConnectBudget(req))
	var stepErr *middleware.StepError
	if err == nil || req.Context().Err() != nil || errors.As(err, &stepErr) || !(unreached(err) || t.AllowResend) {
		// A request step's error (a signer's, even one that could not reach
		// its key service) says nothing of the primary: nothing was sent.
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return nil, err // the body is gone and cannot be read again
	}
	resp, err2 := t.toBackup(req)
	if err2 != nil {
		return nil, &FailoverError{Primary: t.Primary, Backup: t.Backup, PrimaryErr: err, BackupErr: err2}
	}
	// Only a backup that answered is worth staying on: after a moment with
	// both hosts down, the next request tries the primary again.
	t.stay()
	return resp, nil
}

// toBackup sends a copy of req to the backup host as a new attempt: its
// body read again, and signed anew (a fresh timestamp and nonce) by the
// request steps underneath.
func (t failoverTransport) toBackup(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context()) // a RoundTripper must not change the request it was given
	r.URL.Host, r.Host = t.Backup, ""
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("reading the body again: %w", err)
		}
		r.Body = body
	}
	return t.base.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the transport
// underneath, as http.Client.CloseIdleConnections expects.
func (t failoverTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// connectBudgetKey carries how long connecting for a request may take.
type connectBudgetKey struct{}

// withConnectBudget gives the attempt on the primary its connect budget,
// for the dialer (budgetDial) to apply.
func (t failoverTransport) withConnectBudget(req *http.Request) *http.Request {
	deadline, ok := req.Context().Deadline()
	budget := connectBudget(t.ConnectTimeout, time.Now(), deadline, ok)
	return req.WithContext(context.WithValue(req.Context(), connectBudgetKey{}, budget))
}

// connectBudget is how long connecting to the primary may take: limit,
// but at most half of what the deadline leaves, the other half being the
// backup's.
func connectBudget(limit time.Duration, now, deadline time.Time, hasDeadline bool) time.Duration {
	if limit <= 0 {
		limit = defaultConnectTimeout
	}
	if hasDeadline {
		if half := deadline.Sub(now) / 2; half < limit {
			return half
		}
	}
	return limit
}

// budgetTransport returns a copy of rt whose dials honour the connect
// budget a failover transport puts in a request's context (the dial keeps
// the request's context values), or rt itself when it is not an
// *http.Transport or dials without a context.
func budgetTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok || t.DialContext == nil && t.Dial != nil {
		return rt // a caller's deprecated Dial is left alone
	}
	t = t.Clone()
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if budget, ok := ctx.Value(connectBudgetKey{}).(time.Duration); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, budget)
			defer cancel()
		}
		return dial(ctx, network, addr)
	}
	return t
}

// sameHost reports whether u is on host ("host" or "host:port") as a
// server reads it: names in any case and with or without the trailing dot,
// a missing port the scheme's default.
func sameHost(u *url.URL, host string) bool {
	name, port := host, ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		name, port = h, p
	}
	defaultPort := "443"
	if u.Scheme == "http" {
		defaultPort = "80"
	}
	got, gotPort := u.Hostname(), u.Port()
	if port == "" {
		port = defaultPort
	}
	if gotPort == "" {
		gotPort = defaultPort
	}
	return strings.EqualFold(strings.TrimSuffix(got, "."), strings.TrimSuffix(name, ".")) && gotPort == port
}

// unreached reports whether err certainly came before the request left:
// the name did not resolve, or the connection was refused or timed out.
func unreached(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial"
}
