package wechatpaytest

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var internalStart = time.Date(2026, 3, 14, 10, 0, 0, 0, cst)

// TestRetryScheduleVirtual runs WeChat Pay's whole retry schedule on the
// virtual clock: a receiver that always fails gets the first attempt and
// 15 retries, each at its time on the schedule, and nothing after.
func TestRetryScheduleVirtual(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, `{"code":"FAIL","message":"try-again-later-sentinel"}`, http.StatusInternalServerError)
	}))
	defer rcv.Close()
	sim := NewSimulator(WithVirtualClock(internalStart))
	defer sim.Close()

	sim.mu.Lock()
	n := sim.notify(rcv.URL, "TRANSACTION.SUCCESS", "transaction", "支付成功", map[string]string{"out_trade_no": "T1"})
	sim.mu.Unlock()
	sim.waitIdle()
	sim.Advance(48 * time.Hour)

	got := sim.Notifications()
	require.Len(t, got, 1)
	require.Equal(t, n.ID, got[0].ID)
	d := got[0].Deliveries
	require.Len(t, d, 1+len(RetrySchedule))
	assert.EqualValues(t, 1+len(RetrySchedule), calls.Load())
	want := internalStart
	for i, del := range d {
		if i > 0 {
			want = want.Add(RetrySchedule[i-1])
		}
		assert.True(t, want.Equal(del.At), "attempt %d at %s, want %s", i+1, del.At, want)
		assert.Equal(t, i+1, del.Attempt)
		assert.Equal(t, http.StatusInternalServerError, del.Status)
		assert.Contains(t, del.Answer, "try-again-later-sentinel")
	}
	assert.Equal(t, 24*time.Hour+4*time.Minute, d[len(d)-1].At.Sub(internalStart))
	assert.False(t, got[0].Delivered)
	assert.True(t, got[0].Next.IsZero())
}

// TestRetryStopsWhenAccepted: the third attempt is answered 204, and no
// fourth is made; a manual send again afterwards is recorded as such.
func TestRetryStopsWhenAccepted(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	sim := NewSimulator(WithVirtualClock(internalStart))
	defer sim.Close()

	sim.mu.Lock()
	n := sim.notify(rcv.URL, "REFUND.SUCCESS", "refund", "退款成功", map[string]string{"out_refund_no": "R1"})
	sim.mu.Unlock()
	sim.waitIdle()
	sim.Advance(14 * time.Second)
	require.Len(t, sim.Notifications()[0].Deliveries, 1)
	sim.Advance(time.Hour)
	got := sim.Notifications()[0]
	require.Len(t, got.Deliveries, 3)
	assert.True(t, got.Delivered)
	assert.Equal(t, http.StatusNoContent, got.Deliveries[2].Status)
	assert.True(t, internalStart.Add(30*time.Second).Equal(got.Deliveries[2].At))
	sim.Advance(48 * time.Hour)
	assert.Len(t, sim.Notifications()[0].Deliveries, 3)

	d, err := sim.Redeliver(n.ID)
	require.NoError(t, err)
	assert.True(t, d.Manual)
	assert.Equal(t, 4, d.Attempt)
	assert.Equal(t, http.StatusNoContent, d.Status)
	_, err = sim.Redeliver("EV-not-a-notification-id")
	var se *SimError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "RESOURCE_NOT_EXISTS", se.Code)
}

// waitIdle waits until no delivery attempt is under way: the first
// attempt of a notification made by s.notify runs on its own goroutine.
func (s *Simulator) waitIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settled()
}
