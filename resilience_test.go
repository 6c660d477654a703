package wechatpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// refusedAddr returns a loopback address that refuses connections.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}

func TestFailover(t *testing.T) {
	t.Parallel()
	backup := newServer(t)
	backup.Handle("/", echo)
	primaryAddr := refusedAddr(t)
	ctx := context.Background()
	builder := func(f wechatpay.Failover) *wechatpay.Builder {
		f.Primary, f.Backup = primaryAddr, hostOf(t, backup.URL)
		return newBuilder(t, backup, func(c *wechatpay.Config) {
			c.BaseURL = "http://" + primaryAddr + basePath
			c.Failover = &f
		})
	}

	t.Run("a refused connection goes to the backup, which stays in use (TestFailoverStay: until Stay has passed)", func(t *testing.T) {
		b := builder(wechatpay.Failover{})
		resp, err := b.Chain("v3/x").Post(ctx, wechatpay.Options{JSON: map[string]int{"n": 1}})
		require.NoError(t, err, "sent again, body and signature included, to the backup")
		assert.Equal(t, `{"n":1}`, resp.Get("body").String())
		assert.Empty(t, lastAccepted(t, backup).Rejected)

		primary := newServer(t, wechatpaytest.WithAddr(primaryAddr)) // the primary is back
		primary.Handle("/", echo)
		_, err = b.Chain("v3/x").Get(ctx)
		require.NoError(t, err)
		assert.Empty(t, primary.Requests(), "requests stay on the backup for a while")
		assert.Len(t, backup.Requests(), 2)
	})

	t.Run("an upload fails over too", func(t *testing.T) {
		b := builder(wechatpay.Failover{})
		_, err := b.V3().Merchant().Media().Upload().Post(ctx, wechatpay.Options{Media: &wechatpay.Media{
			Filename: "logo.png", Reader: bytes.NewReader(png)}})
		require.NoError(t, err)
		got := lastAccepted(t, backup)
		require.NotNil(t, got.Upload)
		assert.Equal(t, png, got.Upload.File)
	})

	t.Run("never on an HTTP status", func(t *testing.T) {
		primary := newServer(t, wechatpaytest.WithAddr(refusedAddr(t)))
		primary.SetFault(wechatpaytest.ServerError)
		f := wechatpay.Failover{Primary: hostOf(t, primary.URL), Backup: hostOf(t, backup.URL)}
		b := newBuilder(t, primary, func(c *wechatpay.Config) { c.Failover = &f })
		before := len(backup.Requests())
		_, err := b.Chain("v3/x").Get(ctx)
		var apiErr *wechatpay.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 500, apiErr.StatusCode)
		assert.Len(t, backup.Requests(), before)
	})

	t.Run("not after the request may have reached the primary, unless allowed", func(t *testing.T) {
		primary := newServer(t, wechatpaytest.WithAddr(refusedAddr(t)))
		f := wechatpay.Failover{Primary: hostOf(t, primary.URL), Backup: hostOf(t, backup.URL)}
		b := newBuilder(t, primary, func(c *wechatpay.Config) { c.Failover = &f })
		primary.SetFaultN(wechatpaytest.DropConnection, 1)
		before := len(backup.Requests())
		_, err := b.Chain("v3/x").Post(ctx, wechatpay.Options{JSON: map[string]int{"n": 1}})
		require.Error(t, err)
		assert.Len(t, backup.Requests(), before, "a dropped POST may have been processed: it is not sent again")

		f.AllowResend = true
		b = newBuilder(t, primary, func(c *wechatpay.Config) { c.Failover = &f })
		primary.SetFaultN(wechatpaytest.DropConnection, 1)
		_, err = b.Chain("v3/x").Post(ctx, wechatpay.Options{JSON: map[string]int{"n": 1}})
		require.NoError(t, err)
		assert.Len(t, backup.Requests(), before+1)
	})

	t.Run("both down", func(t *testing.T) {
		f := wechatpay.Failover{Primary: refusedAddr(t), Backup: refusedAddr(t)}
		b := newBuilder(t, backup, func(c *wechatpay.Config) {
			c.BaseURL = "http://" + f.Primary + basePath
			c.Failover = &f
		})
		_, err := b.Chain("v3/x").Get(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "and so did backup host "+f.Backup)
	})
}

func TestRetry(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", echo)
	var logs bytes.Buffer
	b := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.Retry = &wechatpay.Retry{Retries: 2, Wait: time.Millisecond, MaxWait: 10 * time.Millisecond}
		c.Logger = testLogger(&logs, slog.LevelInfo)
	})
	ctx := context.Background()
	lastLog := func(t *testing.T) map[string]any {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &rec))
		return rec
	}

	tests := []struct {
		name     string
		fault    wechatpaytest.Fault
		n        int
		ok       bool
		attempts float64
	}{
		{"500 twice, then the answer", wechatpaytest.ServerError, 2, true, 3},
		{"202, then the answer", wechatpaytest.Accepted, 1, true, 2},
		{"429 with Retry-After", wechatpaytest.RateLimited, 1, true, 2},
		{"500 every time: the last answer", wechatpaytest.ServerError, 0, false, 3},
		{"a verification failure is never retried", wechatpaytest.TamperedBody, 0, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.SetFaultN(tt.fault, tt.n)
			defer srv.SetFault(wechatpaytest.NoFault)
			before := len(srv.Requests())
			resp, err := b.Chain("v3/x").Post(ctx, wechatpay.Options{JSON: map[string]int{"n": 1}})
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, `{"n":1}`, resp.Get("body").String(), "every attempt carries the body")
			} else {
				require.Error(t, err)
			}
			reqs := srv.Requests()[before:]
			assert.Len(t, reqs, int(tt.attempts))
			seen := map[string]bool{}
			for _, r := range reqs {
				assert.Empty(t, r.Rejected, "every attempt is signed anew (a replayed nonce is refused)")
				seen[r.Header.Get("Authorization")] = true
			}
			assert.Len(t, seen, len(reqs))
			assert.Equal(t, tt.attempts, lastLog(t)["attempts"])
		})
	}
	t.Run("a 4xx is never retried", func(t *testing.T) {
		srv.Handle("POST /v3/bad", func(w http.ResponseWriter, r *http.Request) {
			wechatpaytest.Error(w, http.StatusBadRequest, "PARAM_ERROR", "bad")
		})
		before := len(srv.Requests())
		_, err := b.Chain("v3/bad").Post(ctx, wechatpay.Options{JSON: map[string]string{}})
		var apiErr *wechatpay.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 400, apiErr.StatusCode)
		assert.Len(t, srv.Requests(), before+1)
		rec := lastLog(t)
		assert.Equal(t, float64(1), rec["attempts"])
		assert.Equal(t, "PARAM_ERROR", rec["code"])
		assert.Equal(t, "WARN", rec["level"])
	})
	t.Run("cancelling the context stops the retries", func(t *testing.T) {
		slow := newBuilder(t, srv, func(c *wechatpay.Config) {
			c.Retry = &wechatpay.Retry{Retries: 5, Wait: time.Hour, MaxWait: time.Hour}
		})
		srv.SetFault(wechatpaytest.ServerError)
		defer srv.SetFault(wechatpaytest.NoFault)
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		before := len(srv.Requests())
		_, err := slow.Chain("v3/x").Get(cctx)
		require.Error(t, err)
		assert.Len(t, srv.Requests(), before+1, "no second attempt after the context ended")
	})
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", echo)
	srv.SetDelay(5 * time.Second)
	srv.SetFault(wechatpaytest.Slow)
	ctx := context.Background()

	b := newBuilder(t, srv, func(c *wechatpay.Config) { c.Timeout = 50 * time.Millisecond })
	_, err := b.Chain("v3/x").Get(ctx)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "Config.Timeout bounds a request without a deadline: %v", err)

	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = newBuilder(t, srv, nil).Chain("v3/x").Get(dctx)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "the caller's deadline: %v", err)
	srv.SetFault(wechatpaytest.NoFault)
}

func TestLoggingLeavesSecretsOut(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", echo)
	srv.HandleV2("/pay/orderquery", func(map[string]string) map[string]string { return nil }) // signed XML, not the echo
	var logs bytes.Buffer
	b := newBuilder(t, srv, func(c *wechatpay.Config) { c.Logger = testLogger(&logs, slog.LevelDebug) })
	ctx := context.Background()
	// Every value below is a sentinel: absent from a clean log by any chance.
	const card, order, v2Order = "CARD-NO-SECRET-5e1d9b", "ORDER-SECRET-7f3a9c", "V2-ORDER-SECRET-4c8e2a"
	secretField, err := b.Encrypt(card)
	require.NoError(t, err)

	_, err = b.Chain("v3/x/{id}").Post(ctx, wechatpay.Options{Path: map[string]string{"id": order}, JSON: map[string]string{"account": secretField}})
	require.NoError(t, err)
	srv.SetFaultN(wechatpaytest.TamperedBody, 1)
	_, err = b.Chain("v3/x").Get(ctx)
	require.Error(t, err)
	wrong := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.Serial = "0123456789ABCDEF"
		c.Logger = testLogger(&logs, slog.LevelInfo)
	})
	_, err = wrong.Chain("v3/x").Post(ctx, wechatpay.Options{JSON: map[string]string{"account": secretField}})
	require.Error(t, err)
	_, err = b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID, "out_trade_no": v2Order}})
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 4, "one record per request")
	var first map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	assert.Equal(t, "POST", first["method"])
	assert.Equal(t, "v3/x/{id}", first["path"])
	assert.Equal(t, float64(200), first["status"])
	assert.Regexp(t, `^08[0-9A-F]{32}$`, first["request_id"])
	assert.Equal(t, float64(1), first["attempts"])
	assert.Contains(t, first, "duration")
	assert.NotContains(t, first, "time", "the test logger drops the time")
	assert.Contains(t, lines[1], `"level":"ERROR"`)
	assert.Contains(t, lines[2], `"code":"SIGN_ERROR"`)

	secrets := []string{"Authorization", "WECHATPAY2-SHA256-RSA2048", secretField[:40], card, order, v2Order, srv.Secret, srv.APIv3Key}
	authorization := regexp.MustCompile(`nonce_str="([^"]+)",signature="([^"]+)"`)
	reqs := srv.Requests()
	require.Len(t, reqs, 4)
	for _, r := range reqs[:3] {
		m := authorization.FindStringSubmatch(r.Header.Get("Authorization"))
		require.Len(t, m, 3, r.Header.Get("Authorization"))
		secrets = append(secrets, m[1], m[2])
	}
	secrets = append(secrets, reqs[3].Params["nonce_str"], reqs[3].Params["sign"])
	all := logs.String()
	for _, secret := range secrets {
		require.GreaterOrEqual(t, len(secret), 12, "a needle this short could be in the log by chance: %q", secret)
		assert.NotContains(t, all, secret)
	}
}

// TestDefaultTimeoutDoesNotCutDownloads: Config.Timeout bounds requests,
// not downloads, which only their context bounds.
func TestDefaultTimeoutDoesNotCutDownloads(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) {
		for range 5 {
			_, _ = w.Write(bytes.Repeat([]byte("x"), 1024))
			w.(http.Flusher).Flush()
			time.Sleep(30 * time.Millisecond)
		}
	})
	b := newBuilder(t, srv, func(c *wechatpay.Config) { c.Timeout = 50 * time.Millisecond })
	var out bytes.Buffer
	_, err := b.Chain("v3/billdownload/file").Get(context.Background(), wechatpay.Options{Sink: &wechatpay.Sink{Writer: &out}})
	require.NoError(t, err)
	assert.Equal(t, 5*1024, out.Len())
}
