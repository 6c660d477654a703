package wechatpaytest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestSimNotificationFullSchedule pays an order whose notify_url fails
// every delivery but the last of WeChat Pay's schedule: the 16 attempts
// come at their times on the virtual clock, the receiver's answers are
// recorded, and the last one, about 24 hours of simulation later, still
// verifies in a notify handler (each attempt is signed when it is sent).
// On the virtual clock the whole day takes no waiting at all.
func TestSimNotificationFullSchedule(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	attempts := 1 + len(wechatpaytest.RetrySchedule)
	rc := newReceiver(t, sim, b, func(n int) int {
		if n < attempts {
			return http.StatusInternalServerError
		}
		return 0 // the notify handler answers
	})
	_, err := b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{JSON: orderBody(sim, "native", "RETRY00001", rc.URL)})
	require.NoError(t, err)
	require.NoError(t, sim.Pay("RETRY00001"))
	sim.Advance(48 * time.Hour)

	notes := sim.Notifications()
	require.Len(t, notes, 1)
	n := notes[0]
	require.Len(t, n.Deliveries, attempts)
	assert.True(t, n.Delivered)
	assert.True(t, n.Next.IsZero())
	at := n.Created
	for i, d := range n.Deliveries {
		if i > 0 {
			at = at.Add(wechatpaytest.RetrySchedule[i-1])
		}
		assert.True(t, at.Equal(d.At), "attempt %d at %s, want %s", i+1, d.At, at)
		assert.Equal(t, i+1, d.Attempt)
		if i < attempts-1 {
			assert.Equal(t, http.StatusInternalServerError, d.Status)
			assert.Contains(t, d.Answer, "receiver-says-no-thanks")
		}
	}
	last := n.Deliveries[attempts-1]
	assert.Equal(t, http.StatusNoContent, last.Status, last.Answer)
	assert.Equal(t, 24*time.Hour+4*time.Minute, last.At.Sub(n.Created))
	got := rc.Got()
	require.Len(t, got, 1, "only the last delivery reached the handler")
	assert.Equal(t, n.ID, got[0].ID)
	assert.Equal(t, "RETRY00001", got[0].Get("out_trade_no").String())
}

// placeOrder places a native order for notifyURL through the library.
func placeOrder(t *testing.T, sim *wechatpaytest.Simulator, b *wechatpay.Builder, outTradeNo, notifyURL string) {
	t.Helper()
	_, err := b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{JSON: orderBody(sim, "native", outTradeNo, notifyURL)})
	require.NoError(t, err)
}

// TestSimReceiverCallsBack: a notify handler that acts on the simulation
// (here it pays another order) is answered at once, and both deliveries
// are recorded as the 204s they were, not as timeouts.
func TestSimReceiverCallsBack(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	var inner error
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/outer" {
			inner = sim.Pay("CALLBACK0002")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	placeOrder(t, sim, b, "CALLBACK0001", rcv.URL+"/outer")
	placeOrder(t, sim, b, "CALLBACK0002", rcv.URL+"/inner")
	require.NoError(t, sim.Pay("CALLBACK0001"))
	require.NoError(t, inner)
	notes := sim.Notifications()
	require.Len(t, notes, 2)
	for _, n := range notes {
		require.Len(t, n.Deliveries, 1, n.URL)
		assert.Equal(t, http.StatusNoContent, n.Deliveries[0].Status, "%s: %s", n.URL, n.Deliveries[0].Err)
		assert.True(t, n.Delivered, n.URL)
	}
}

// TestSimSlowReceiverDelaysNoOther: while one receiver holds its delivery,
// another order's Pay delivers to its own receiver and returns.
func TestSimSlowReceiverDelaysNoOther(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	release, arrived := make(chan struct{}), make(chan struct{})
	var once sync.Once
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer slow.Close()
	defer close(release)
	fast := newReceiver(t, sim, b, nil)
	placeOrder(t, sim, b, "SLOWPAY0001", slow.URL)
	placeOrder(t, sim, b, "FASTPAY0001", fast.URL)
	go func() { _ = sim.Pay("SLOWPAY0001") }()
	<-arrived
	done := make(chan error, 1)
	go func() { done <- sim.Pay("FASTPAY0001") }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second): // a bound on waiting, not a measure
		t.Fatal("Pay of another order waited for the slow receiver")
	}
	require.Len(t, fast.Got(), 1)
	for _, n := range sim.Notifications() {
		if n.URL == slow.URL {
			assert.Empty(t, n.Deliveries, "the slow delivery ended before the other Pay returned")
		}
	}
}

// TestSimHandlerNotificationsGoAtOnce: a notification the API causes (the
// merchant terminates a contract) is delivered without Advance, on the
// virtual clock too.
func TestSimHandlerNotificationsGoAtOnce(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	_, err := b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(t.Context(), wechatpay.Options{JSON: map[string]any{
		"appid": simAppID, "plan_id": 12535, "out_contract_code": "ATONCE0001", "user_display_name": "Mike",
		"success_notify_url": rc.URL, "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
	}})
	require.NoError(t, err)
	require.NoError(t, sim.SignContract("ATONCE0001"))
	c, _ := sim.Contract("ATONCE0001")
	_, err = b.Chain("v3/global/papay/contracts/{contract_id}/terminate").Post(t.Context(), wechatpay.Options{
		Path: map[string]string{"contract_id": c.ContractID},
		JSON: map[string]any{"appid": simAppID, "termination_note": "closing the account"},
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(rc.Got()) == 2 }, 30*time.Second, 5*time.Millisecond,
		"PAPAY.TERMINATE was not delivered without Advance")
	assert.Equal(t, "PAPAY.TERMINATE", rc.Got()[1].EventType)
}

// TestSimNoRedirects: WeChat Pay follows no redirect; a 3xx is a failed
// delivery, retried, and the place it points to is never asked.
func TestSimNoRedirects(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	var followed sync.Once
	hit := false
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Do(func() { hit = true })
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer rcv.Close()
	placeOrder(t, sim, b, "REDIRECT0001", rcv.URL+"/notify")
	require.NoError(t, sim.Pay("REDIRECT0001"))
	n := sim.Notifications()[0]
	require.Len(t, n.Deliveries, 1)
	assert.Equal(t, http.StatusFound, n.Deliveries[0].Status)
	assert.False(t, n.Delivered)
	assert.False(t, n.Next.IsZero(), "a redirect is retried")
	assert.False(t, hit, "the redirect was followed")
}

// TestSimCloseEndsDeliveries: Close makes an attempt under way give up,
// leaves no goroutine behind, and the Simulator refuses to act after it.
func TestSimCloseEndsDeliveries(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	arrived := make(chan struct{})
	var once sync.Once
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server sees the client go away
		once.Do(func() { close(arrived) })
		<-r.Context().Done() // answers only when the sender gives up
	}))
	defer rcv.Close()
	sim := wechatpaytest.NewSimulator(wechatpaytest.WithVirtualClock(simStart))
	b, err := wechatpay.NewBuilder(sim.Config())
	require.NoError(t, err)
	defer b.CloseIdleConnections()
	placeOrder(t, sim, b, "CLOSING0001", rcv.URL)
	paid := make(chan error, 1)
	go func() { paid <- sim.Pay("CLOSING0001") }()
	<-arrived
	sim.Close()
	require.NoError(t, <-paid, "the order was paid before Close; only its delivery was cut short")
	err = sim.Pay("CLOSING0001")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the Simulator is not running")
}

// TestSimConcurrentRedeliver: deliveries sent again at once each get
// their own attempt number.
func TestSimConcurrentRedeliver(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	placeOrder(t, sim, b, "REDELIVER001", rc.URL)
	require.NoError(t, sim.Pay("REDELIVER001"))
	id := sim.Notifications()[0].ID
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := sim.Redeliver(id)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, d := range sim.Notifications()[0].Deliveries {
		assert.False(t, seen[d.Attempt], "attempt %d recorded twice", d.Attempt)
		seen[d.Attempt] = true
	}
	assert.Len(t, seen, 9, fmt.Sprint(seen))
}

// TestSimCloseRacesActions: actions running while Close runs return (paid
// before it, or refused after it); none waits forever for a delivery
// Close prevented.
func TestSimCloseRacesActions(t *testing.T) {
	t.Parallel()
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer rc.Close()
	for round := range 50 {
		sim, b := newSimulator(t)
		const n = 8
		for i := range n {
			placeOrder(t, sim, b, fmt.Sprintf("RACE%02d%04d", round, i), rc.URL)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				if err := sim.Pay(fmt.Sprintf("RACE%02d%04d", round, i)); err != nil {
					assert.Contains(t, err.Error(), "the Simulator is not running")
				}
			})
		}
		wg.Go(func() { <-start; sim.Close() })
		close(start)
		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(30 * time.Second): // a bound on waiting, not a measure
			t.Fatalf("round %d: an action racing Close never returned", round)
		}
	}
}

// TestSimRedeliverRacesRetry: a scheduled retry that fails after a
// delivery sent again by hand succeeded schedules nothing more: the
// notification is delivered, with no next attempt.
func TestSimRedeliverRacesRetry(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	held, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 2: // the scheduled retry: held until the manual one is done
			close(held)
			<-release
			w.WriteHeader(http.StatusInternalServerError)
		case 3: // sent again by hand
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer rcv.Close()
	placeOrder(t, sim, b, "RACERETRY01", rcv.URL)
	require.NoError(t, sim.Pay("RACERETRY01"))
	id := sim.Notifications()[0].ID
	advanced := make(chan struct{})
	go func() { sim.Advance(15 * time.Second); close(advanced) }()
	<-held
	d, err := sim.Redeliver(id)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, d.Status)
	close(release)
	<-advanced
	n := sim.Notifications()[0]
	assert.True(t, n.Delivered)
	assert.True(t, n.Next.IsZero(), "delivered, yet next attempt at %s", n.Next)
	sim.Advance(48 * time.Hour)
	assert.Len(t, sim.Notifications()[0].Deliveries, 3, "nothing is attempted after the delivery")
}
