package wechatpay

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-resty/resty/v2"
)

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
