package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// syncBuffer is a log destination handlers may write to at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// capture returns a logger writing JSON records to the returned buffer.
func capture() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// post sends a notification as WeChat Pay does and returns the status and
// the answer's body.
func post(t *testing.T, url string, header http.Header, body []byte) (int, string) {
	t.Helper()
	status, answer, err := send(url, header, body)
	require.NoError(t, err)
	return status, answer
}

// send is post for goroutines other than the test's.
func send(url string, header http.Header, body []byte) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), err
}

// TestHandlerMethods: WeChat Pay only POSTs; anything else is 405 with
// Allow: POST, and the function is not called.
func TestHandlerMethods(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	calls := 0
	h := parser(srv).Handler(func(context.Context, *notify.Notification) error { calls++; return nil })
	header, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
	require.NoError(t, err)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch,
		http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace, "PROPFIND"} {
		t.Run(method, func(t *testing.T) {
			req := httptest.NewRequest(method, "/notify", bytes.NewReader(body))
			req.Header = header.Clone()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
			assert.Equal(t, "POST", rec.Header().Get("Allow"))
			assert.JSONEq(t, `{"code":"FAIL","message":"method not allowed"}`, rec.Body.String())
			assert.Equal(t, 0, calls)
		})
	}
	req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
	req.Header = header.Clone()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNoContent, rec.Code, "POST")
	assert.Equal(t, 1, calls)
}

// TestHandlerAnswersAreGeneric: anyone can POST to a notify_url, so the
// answer says only the protocol's FAIL and a generic message; the details
// (the configured key ids, the clock offset, the function's error text) go
// to the log. The APIv3 key goes to neither.
func TestHandlerAnswersAreGeneric(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const (
		keyID     = "PUB_KEY_ID_SENTINEL_KEYID_0042"
		userError = "USER-ERROR-SENTINEL-the-ledger-is-locked"
		otherKey  = "APIV3-SENTINEL-0123456789abcdefg" // 32 characters
	)
	good := parser(srv)
	unknown := parser(srv)
	unknown.Keys = middleware.StaticKeys{keyID: &srv.PublicKeyKey.PublicKey}
	ahead := parser(srv)
	ahead.Now = func() time.Time { return time.Now().Add(1234 * time.Second) }
	wrongAPIv3 := parser(srv)
	wrongAPIv3.APIv3Key = otherKey
	noKeys := parser(srv)
	noKeys.Keys = nil

	notification := func(f wechatpaytest.Fault) func() (http.Header, []byte) {
		return func() (http.Header, []byte) {
			h, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, f)
			require.NoError(t, err)
			return h, body
		}
	}
	tests := []struct {
		name    string
		parser  *notify.Parser
		fnErr   error
		input   func() (http.Header, []byte)
		status  int
		message string
		logged  []string // in the log record, never in the answer
	}{
		{"unknown serial names the configured key ids", unknown, nil, notification(wechatpaytest.NoFault),
			http.StatusUnauthorized, "invalid notification", []string{keyID, srv.PublicKeyID, "not among the configured verification keys"}},
		{"clock offset", ahead, nil, notification(wechatpaytest.NoFault),
			http.StatusUnauthorized, "invalid notification", []string{"older than local time"}},
		{"sign test probe", good, nil, notification(wechatpaytest.SignTest),
			http.StatusUnauthorized, "invalid notification", []string{"WECHATPAY/SIGNTEST/"}},
		{"tampered body", good, nil, notification(wechatpaytest.TamperedBody),
			http.StatusUnauthorized, "invalid notification", []string{"does not match the body and headers"}},
		{"unsigned", good, nil, func() (http.Header, []byte) { return http.Header{}, []byte(`{"id":"EV-unsigned-sentinel"}`) },
			http.StatusUnauthorized, "invalid notification", []string{"Wechatpay-Timestamp, Wechatpay-Nonce"}},
		{"signed, not a notification", good, nil, func() (http.Header, []byte) {
			body := []byte(`{"hello":"MALFORMED-SENTINEL-world"}`)
			return signByHand(t, srv.PublicKeyKey, srv.PublicKeyID, body), body
		}, http.StatusBadRequest, "malformed notification", []string{"no id or no resource.ciphertext"}},
		{"another APIv3 key", wrongAPIv3, nil, notification(wechatpaytest.NoFault),
			http.StatusBadRequest, "malformed notification", []string{"does not decrypt"}},
		{"misconfigured parser", noKeys, nil, notification(wechatpaytest.NoFault),
			http.StatusInternalServerError, "notification not processed", []string{"no verification keys"}},
		{"the function fails", good, errors.New(userError), notification(wechatpaytest.NoFault),
			http.StatusInternalServerError, "notification not processed", []string{userError, "TRANSACTION.SUCCESS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := capture()
			h := tt.parser.Handler(func(context.Context, *notify.Notification) error { return tt.fnErr })
			h.Logger = logger
			merchant := httptest.NewServer(h)
			defer merchant.Close()

			header, body := tt.input()
			status, answer := post(t, merchant.URL, header, body)
			assert.Equal(t, tt.status, status)
			assert.JSONEq(t, `{"code":"FAIL","message":"`+tt.message+`"}`, answer)
			for _, detail := range tt.logged {
				assert.NotContains(t, answer, detail)
				assert.Contains(t, logs.String(), detail)
			}
			assert.Contains(t, logs.String(), `"status":`+jsonNumber(tt.status))
			for _, secret := range []string{srv.APIv3Key, otherKey} {
				assert.NotContains(t, answer, secret)
				assert.NotContains(t, logs.String(), secret)
			}
		})
	}
}

func jsonNumber(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestHandlerLogsToDefault: with no Logger the details go to
// slog.Default(), so a misconfiguration is not silent.
func TestHandlerLogsToDefault(t *testing.T) {
	// Not parallel: it sets slog.Default.
	srv := newServer(t)
	logger, logs := capture()
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(logger)

	const keyID = "PUB_KEY_ID_SENTINEL_DEFAULT_LOG"
	p := parser(srv)
	p.Keys = middleware.StaticKeys{keyID: &srv.PublicKeyKey.PublicKey}
	merchant := httptest.NewServer(p.Handler(func(context.Context, *notify.Notification) error { return nil }))
	defer merchant.Close()
	header, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
	require.NoError(t, err)
	status, answer := post(t, merchant.URL, header, body)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.NotContains(t, answer, keyID)
	assert.Contains(t, logs.String(), keyID)
}

// TestHandlerRepeats: a repeat of an event processed successfully is
// answered 204 without calling the function again; one whose processing
// failed is processed again, as WeChat Pay's retry expects.
func TestHandlerRepeats(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	logger, logs := capture()
	calls := map[string]int{}
	failures := 0 // how many calls fail next
	h := parser(srv).Handler(func(ctx context.Context, n *notify.Notification) error {
		calls[n.ID]++
		if failures > 0 {
			failures--
			return errors.New("the database is down")
		}
		return nil
	})
	h.Logger = logger
	merchant := httptest.NewServer(h)
	defer merchant.Close()

	first, firstBody, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
	require.NoError(t, err)
	var ev struct{ ID string }
	require.NoError(t, json.Unmarshal(firstBody, &ev))

	status, _ := post(t, merchant.URL, first, firstBody)
	assert.Equal(t, http.StatusNoContent, status)
	for range 3 {
		status, answer := post(t, merchant.URL, first, firstBody)
		assert.Equal(t, http.StatusNoContent, status, "a repeat")
		assert.Empty(t, answer)
	}
	assert.Equal(t, 1, calls[ev.ID], "the function ran once for four deliveries")
	assert.Contains(t, logs.String(), ev.ID)

	// A failed processing leaves the id free: the retry runs the function again.
	second, secondBody, err := srv.Notification("REFUND.SUCCESS", transaction, wechatpaytest.NoFault)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(secondBody, &ev))
	failures = 2
	for i, want := range []int{http.StatusInternalServerError, http.StatusInternalServerError, http.StatusNoContent, http.StatusNoContent} {
		status, _ := post(t, merchant.URL, second, secondBody)
		assert.Equal(t, want, status, "delivery %d", i+1)
	}
	assert.Equal(t, 3, calls[ev.ID], "two failures, one success, then a repeat")

	// Each Handler built by Parser.Handler has its own memory.
	other := parser(srv).Handler(func(context.Context, *notify.Notification) error { calls[ev.ID]++; return nil })
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(secondBody))
	req.Header = second.Clone()
	other.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, 4, calls[ev.ID])
}

// TestHandlerConcurrentRepeats: deliveries of one event that arrive while
// it is being processed do not call the function a second time at once:
// they are answered 409, which WeChat Pay retries.
func TestHandlerConcurrentRepeats(t *testing.T) {
	// Not parallel: goleak would see other tests' goroutines.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
	defer srv.Close()

	entered := make(chan struct{})
	release := make(chan struct{})
	var calls, running, overlapped atomic.Int32
	h := parser(srv).Handler(func(ctx context.Context, n *notify.Notification) error {
		if running.Add(1) > 1 {
			overlapped.Add(1)
		}
		defer running.Add(-1)
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
		return nil
	})
	h.Logger = slog.New(slog.DiscardHandler)
	merchant := httptest.NewServer(h)
	defer merchant.Close()
	defer http.DefaultClient.CloseIdleConnections()

	header, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
	require.NoError(t, err)
	firstStatus := make(chan int, 1)
	go func() {
		status, _, err := send(merchant.URL, header, body)
		assert.NoError(t, err)
		firstStatus <- status
	}()
	<-entered // the first delivery is being processed

	const repeats = 8
	statuses := make(chan int, repeats)
	var wg sync.WaitGroup
	for range repeats {
		wg.Go(func() {
			status, answer, err := send(merchant.URL, header, body)
			assert.NoError(t, err)
			assert.JSONEq(t, `{"code":"FAIL","message":"notification already being processed"}`, answer)
			statuses <- status
		})
	}
	wg.Wait()
	close(statuses)
	for status := range statuses {
		assert.Equal(t, http.StatusConflict, status)
	}
	close(release)
	assert.Equal(t, http.StatusNoContent, <-firstStatus)

	status, _ := post(t, merchant.URL, header, body)
	assert.Equal(t, http.StatusNoContent, status, "after the first succeeded")
	assert.Equal(t, int32(1), calls.Load())
	assert.Equal(t, int32(0), overlapped.Load())
}

// TestHandlerPanicReleasesTheClaim: a function that panics does not leave
// the id marked as being processed for ever.
func TestHandlerPanicReleasesTheClaim(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	calls := 0
	h := parser(srv).Handler(func(context.Context, *notify.Notification) error {
		calls++
		if calls == 1 {
			panic("PANIC-SENTINEL-first-call")
		}
		return nil
	})
	h.Logger = slog.New(slog.DiscardHandler)
	header, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
	require.NoError(t, err)
	serve := func() int {
		req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
		req.Header = header.Clone()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.PanicsWithValue(t, "PANIC-SENTINEL-first-call", func() { serve() })
	assert.Equal(t, http.StatusNoContent, serve())
	assert.Equal(t, 2, calls)
}

// brokenDeduper fails as a shared store that is down does.
type brokenDeduper struct {
	claim      notify.ClaimResult
	claimErr   error
	doneErr    error
	releaseErr error
	done       []string
	released   []string
}

func (d *brokenDeduper) Claim(context.Context, string) (notify.ClaimResult, error) {
	return d.claim, d.claimErr
}

func (d *brokenDeduper) Done(ctx context.Context, id string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	d.done = append(d.done, id)
	return d.doneErr
}

func (d *brokenDeduper) Release(ctx context.Context, id string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	d.released = append(d.released, id)
	return d.releaseErr
}

// TestHandlerDeduperFailures: a Deduper that cannot say whether an event is
// new fails the delivery (WeChat Pay retries) without calling the
// function; one that cannot record a success does not turn the done work
// into a failure. Either way the log says so.
func TestHandlerDeduperFailures(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name     string
		deduper  *brokenDeduper
		fnErr    error
		status   int
		message  string
		calls    int
		done     int
		released int
		logged   string
	}{
		{"claim fails", &brokenDeduper{claimErr: errors.New("CLAIM-SENTINEL-redis-unreachable")}, nil,
			http.StatusInternalServerError, "notification not processed", 0, 0, 0, "CLAIM-SENTINEL-redis-unreachable"},
		{"an unknown claim result", &brokenDeduper{claim: notify.ClaimResult(42)}, nil,
			http.StatusInternalServerError, "notification not processed", 0, 0, 0, "ClaimResult(42)"},
		{"recording success fails", &brokenDeduper{doneErr: errors.New("DONE-SENTINEL-redis-unreachable")}, nil,
			http.StatusNoContent, "", 1, 1, 0, "DONE-SENTINEL-redis-unreachable"},
		{"releasing fails", &brokenDeduper{releaseErr: errors.New("RELEASE-SENTINEL-redis-unreachable")}, errors.New("fn failed"),
			http.StatusInternalServerError, "notification not processed", 1, 0, 1, "RELEASE-SENTINEL-redis-unreachable"},
		{"processed already", &brokenDeduper{claim: notify.Processed}, nil,
			http.StatusNoContent, "", 0, 0, 0, "processed"},
		{"in progress", &brokenDeduper{claim: notify.InProgress}, nil,
			http.StatusConflict, "notification already being processed", 0, 0, 0, "in progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := capture()
			calls := 0
			h := &notify.Handler{Parser: parser(srv), Deduper: tt.deduper, Logger: logger}
			header, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
			require.NoError(t, err)
			// The delivery's context ends with the request: recording the
			// outcome must not depend on it.
			ctx, cancel := context.WithCancel(context.Background())
			h.Func = func(context.Context, *notify.Notification) error { calls++; cancel(); return tt.fnErr }
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/notify", bytes.NewReader(body))
			req.Header = header
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			cancel()
			assert.Equal(t, tt.status, rec.Code)
			if tt.message != "" {
				assert.JSONEq(t, `{"code":"FAIL","message":"`+tt.message+`"}`, rec.Body.String())
			} else {
				assert.Empty(t, rec.Body.String())
			}
			assert.Equal(t, tt.calls, calls)
			assert.Len(t, tt.deduper.done, tt.done)
			assert.Len(t, tt.deduper.released, tt.released)
			assert.Contains(t, logs.String(), tt.logged)
			if strings.Contains(tt.logged, "SENTINEL") {
				assert.NotContains(t, rec.Body.String(), tt.logged)
			}
		})
	}
}

// TestHandlerZeroValue: a Handler without a Parser or a function answers
// 500 and logs why; it does not panic.
func TestHandlerZeroValue(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	header, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
	require.NoError(t, err)
	for name, h := range map[string]*notify.Handler{
		"zero":        {},
		"no function": {Parser: parser(srv)},
		"no parser":   {Func: func(context.Context, *notify.Notification) error { return nil }},
	} {
		t.Run(name, func(t *testing.T) {
			logger, logs := capture()
			h.Logger = logger
			req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
			req.Header = header.Clone()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.JSONEq(t, `{"code":"FAIL","message":"notification not processed"}`, rec.Body.String())
			assert.Contains(t, logs.String(), "notify.Handler has no")
		})
	}
}

// clock is a time source tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestMemoryDeduper: claims, releases, and a memory bounded in time and
// size.
func TestMemoryDeduper(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &clock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	claim := func(d notify.Deduper, id string) notify.ClaimResult {
		t.Helper()
		r, err := d.Claim(ctx, id)
		require.NoError(t, err)
		return r
	}

	t.Run("claim, release, done", func(t *testing.T) {
		d := &notify.MemoryDeduper{Now: c.Now}
		assert.Equal(t, notify.Claimed, claim(d, "EV-1"))
		assert.Equal(t, notify.InProgress, claim(d, "EV-1"))
		require.NoError(t, d.Release(ctx, "EV-1"))
		assert.Equal(t, notify.Claimed, claim(d, "EV-1"), "released: the retry processes it")
		require.NoError(t, d.Done(ctx, "EV-1"))
		assert.Equal(t, notify.Processed, claim(d, "EV-1"))
		assert.Equal(t, notify.Processed, claim(d, "EV-1"))
		assert.Equal(t, notify.Claimed, claim(d, "EV-2"))
		require.NoError(t, d.Release(ctx, "EV-never-claimed"))
		assert.Equal(t, 1, d.Len())
	})
	t.Run("remembered for 25 hours by default", func(t *testing.T) {
		d := &notify.MemoryDeduper{Now: c.Now}
		require.NoError(t, d.Done(ctx, "EV-1"))
		c.Add(notify.DefaultDedupTTL - time.Second)
		assert.Equal(t, notify.Processed, claim(d, "EV-1"))
		c.Add(time.Second)
		assert.Equal(t, notify.Claimed, claim(d, "EV-1"), "forgotten after 25 h")
		assert.Equal(t, 25*time.Hour, notify.DefaultDedupTTL)
	})
	t.Run("TTL", func(t *testing.T) {
		d := &notify.MemoryDeduper{Now: c.Now, TTL: time.Minute}
		require.NoError(t, d.Done(ctx, "EV-1"))
		c.Add(30 * time.Second)
		require.NoError(t, d.Done(ctx, "EV-2"))
		c.Add(30 * time.Second)
		require.NoError(t, d.Done(ctx, "EV-3")) // EV-1 expires, and goes
		assert.Equal(t, 2, d.Len())
		assert.Equal(t, notify.Processed, claim(d, "EV-2"))
		c.Add(time.Minute)
		assert.Equal(t, notify.Claimed, claim(d, "EV-3"))
		assert.Equal(t, 0, d.Len())
	})
	t.Run("at most MaxEntries, oldest forgotten first", func(t *testing.T) {
		d := &notify.MemoryDeduper{Now: c.Now, MaxEntries: 3}
		for _, id := range []string{"EV-1", "EV-2", "EV-3", "EV-4", "EV-5"} {
			require.NoError(t, d.Done(ctx, id))
			c.Add(time.Second)
		}
		assert.Equal(t, 3, d.Len())
		for id, want := range map[string]notify.ClaimResult{"EV-1": notify.Claimed, "EV-2": notify.Claimed,
			"EV-3": notify.Processed, "EV-4": notify.Processed, "EV-5": notify.Processed} {
			assert.Equal(t, want, claim(d, id), id)
		}
	})
	t.Run("done twice keeps the later time", func(t *testing.T) {
		d := &notify.MemoryDeduper{Now: c.Now, TTL: time.Minute, MaxEntries: 2}
		require.NoError(t, d.Done(ctx, "EV-1"))
		c.Add(50 * time.Second)
		require.NoError(t, d.Done(ctx, "EV-1"))
		require.NoError(t, d.Done(ctx, "EV-2"))
		c.Add(50 * time.Second)
		assert.Equal(t, notify.Processed, claim(d, "EV-1"), "its first record expired, its second not")
		assert.Equal(t, 2, d.Len())
	})
	t.Run("zero value", func(t *testing.T) {
		var d notify.MemoryDeduper
		assert.Equal(t, notify.Claimed, claim(&d, "EV-1"))
		require.NoError(t, d.Done(ctx, "EV-1"))
		assert.Equal(t, notify.Processed, claim(&d, "EV-1"))
		var zero notify.MemoryDeduper
		require.NoError(t, zero.Release(ctx, "EV-1"))
		assert.Equal(t, 0, zero.Len())
	})
	t.Run("bounded under a long stream", func(t *testing.T) {
		d := &notify.MemoryDeduper{Now: c.Now, MaxEntries: 100}
		for i := range 10_000 {
			id := "EV-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + jsonNumber(i)
			assert.Equal(t, notify.Claimed, claim(d, id))
			require.NoError(t, d.Done(ctx, id))
		}
		assert.Equal(t, 100, d.Len())
	})
}

// TestMemoryDeduperConcurrent: of many claims of one id at once, exactly
// one wins.
func TestMemoryDeduperConcurrent(t *testing.T) {
	// Not parallel: goleak would see other tests' goroutines.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	d := &notify.MemoryDeduper{}
	ctx := context.Background()
	var claimed atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			r, err := d.Claim(ctx, "EV-concurrent")
			assert.NoError(t, err)
			if r == notify.Claimed {
				claimed.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), claimed.Load())
}

func TestClaimResultString(t *testing.T) {
	t.Parallel()
	for r, want := range map[notify.ClaimResult]string{notify.Claimed: "claimed", notify.InProgress: "in progress",
		notify.Processed: "processed", notify.ClaimResult(42): "ClaimResult(42)"} {
		assert.Equal(t, want, r.String())
	}
}
