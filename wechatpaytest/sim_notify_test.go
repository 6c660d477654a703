package wechatpaytest_test

import (
	"net/http"
	"testing"
	"time"

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
