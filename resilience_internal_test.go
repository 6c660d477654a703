package wechatpay

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":     0,
		"3":    3 * time.Second,
		"0":    0,
		"-1":   0,
		"soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		assert.Equal(t, want, retryAfter(v, now), v)
	}
}

// TestConnectBudget: connecting to the primary may take Failover's
// ConnectTimeout (5 s by default), but never more than half of what the
// request's deadline leaves, so that the backup has the other half.
func TestConnectBudget(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		limit    time.Duration
		deadline time.Duration // from now; 0: none
		want     time.Duration
	}{
		{"the default, without a deadline", 0, 0, 5 * time.Second},
		{"the default, within the 30 s default timeout", 0, 30 * time.Second, 5 * time.Second},
		{"the default, capped by a short deadline", 0, 6 * time.Second, 3 * time.Second},
		{"a set limit", 2 * time.Second, 0, 2 * time.Second},
		{"a set limit, capped", 2 * time.Second, time.Second, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, connectBudget(tt.limit, now, now.Add(tt.deadline), tt.deadline != 0))
		})
	}
}
