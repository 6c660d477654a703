package wechatpaytest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// simStart is where the simulations of the tests start their virtual
// clock: a fixed moment, so that no test depends on the machine's date.
var simStart = time.Date(2026, 3, 14, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// newSimulator starts a simulation at the root path with a virtual clock
// at simStart, and a Builder for it; both go when t is done.
func newSimulator(t testing.TB, opts ...wechatpaytest.Option) (*wechatpaytest.Simulator, *wechatpay.Builder) {
	t.Helper()
	sim := wechatpaytest.NewSimulator(append([]wechatpaytest.Option{wechatpaytest.WithVirtualClock(simStart)}, opts...)...)
	t.Cleanup(sim.Close)
	b, err := wechatpay.NewBuilder(sim.Config())
	require.NoError(t, err)
	return sim, b
}

// receiver is a merchant's notify_url built with the notify package: it
// keeps every notification that verified and decrypted, and answers with
// status (204 when it returns 0).
type receiver struct {
	URL    string
	mu     sync.Mutex
	got    []*notify.Notification
	status func(n int) int // n: deliveries received so far, 1 for the first
	calls  int
}

// newReceiver starts a receiver for sim's notifications.
func newReceiver(t testing.TB, sim *wechatpaytest.Simulator, b *wechatpay.Builder, status func(n int) int) *receiver {
	t.Helper()
	parser, err := notify.NewParser(b.PublicKeys(), sim.APIv3Key)
	require.NoError(t, err)
	rc := &receiver{status: status}
	h := parser.Handler(func(_ context.Context, n *notify.Notification) error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.got = append(rc.got, n)
		return nil
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.calls++
		n := rc.calls
		rc.mu.Unlock()
		if rc.status != nil {
			if code := rc.status(n); code != 0 {
				w.WriteHeader(code)
				_, _ = w.Write([]byte(`{"code":"FAIL","message":"receiver-says-no-thanks"}`))
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL + "/notify"
	return rc
}

// Got returns the notifications received and accepted so far.
func (rc *receiver) Got() []*notify.Notification {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*notify.Notification(nil), rc.got...)
}
