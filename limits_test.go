package wechatpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/internal/memtest"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// Every answer is read whole before it is verified: Config.MaxResponseBytes
// bounds what that may cost, decompressed, for APIv3, APIv2 and error
// answers, uploads' answers and downloads' error answers alike.
func TestAnswersLargerThanTheLimitAreRefused(t *testing.T) {
	// Not parallel: memtest counts what every goroutine allocates.
	const limit = 1 << 20
	srv := newServer(t) // answers of 64 MiB
	ctx := context.Background()
	b := newBuilder(t, srv, func(c *wechatpay.Config) { c.MaxResponseBytes = limit })
	// With compression off in the transport, net/http leaves a gzip answer
	// as it came and the Builder undoes it.
	builderGunzips := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.MaxResponseBytes = limit
		c.HTTPClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}
	})
	// A 500 is retried, but not one over the limit: it would cost as much again.
	retrying := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.MaxResponseBytes = limit
		c.Retry = &wechatpay.Retry{Wait: time.Millisecond, MaxWait: time.Millisecond}
	})
	v3 := func(b *wechatpay.Builder) func() error {
		return func() error {
			_, err := b.Chain("v3/pay/transactions/id/{transaction_id}").Get(ctx, wechatpay.Options{
				Path: map[string]string{"transaction_id": "4200000001"}, Query: map[string][]string{"mchid": {srv.MchID}}})
			return err
		}
	}
	v2 := func() error {
		_, err := b.Chain("v2/pay/orderquery").Post(ctx, wechatpay.Options{XML: map[string]string{"out_trade_no": "1217752501201407033233368018"}})
		return err
	}
	v2Bill := func(sink *wechatpay.Sink) func() error {
		return func() error {
			_, err := b.Chain("v2/pay/downloadbill").Post(ctx, wechatpay.Options{
				XML: map[string]string{"bill_date": "20261127", "bill_type": "ALL"}, Sink: sink})
			return err
		}
	}
	download := func() error {
		_, err := b.Chain("v3/billdownload/file").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: io.Discard}})
		return err
	}
	upload := func() error {
		_, err := b.V3().Merchant().Media().Upload().Post(ctx, wechatpay.Options{Media: &wechatpay.Media{Filename: "a.png", Reader: bytes.NewReader(png)}})
		return err
	}

	// Lazy set-up on first use (the catalog's index, ...) is not the
	// answers' cost: pay it before measuring.
	for _, call := range []func() error{v3(b), v3(builderGunzips), v3(retrying), v2, v2Bill(nil), v2Bill(&wechatpay.Sink{Writer: io.Discard}), download, upload} {
		_ = call()
	}

	tests := []struct {
		name   string
		fault  wechatpaytest.Fault
		call   func() error
		status int
	}{
		{"APIv3: a 200 larger than the limit", wechatpaytest.HugeAnswer, v3(b), 200},
		{"APIv3: a 500 larger than the limit", wechatpaytest.HugeError, v3(b), 500},
		{"APIv3: an endless answer", wechatpaytest.EndlessAnswer, v3(b), 200},
		{"APIv3: a small gzip answer that inflates beyond the limit", wechatpaytest.GzipBomb, v3(b), 200},
		{"APIv3: the same, undone by the Builder", wechatpaytest.GzipBomb, v3(builderGunzips), 200},
		{"APIv3 with Config.Retry: a 500 larger than the limit", wechatpaytest.HugeError, v3(retrying), 500},
		{"APIv2: a 200 larger than the limit", wechatpaytest.HugeAnswer, v2, 200},
		{"APIv2: a 500 larger than the limit", wechatpaytest.HugeError, v2, 500},
		{"APIv2: an endless answer", wechatpaytest.EndlessAnswer, v2, 200},
		{"APIv2: a small gzip answer that inflates beyond the limit", wechatpaytest.GzipBomb, v2, 200},
		{"APIv2 bill download: a 200 larger than the limit", wechatpaytest.HugeAnswer, v2Bill(nil), 200},
		{"APIv2 bill download: an endless answer", wechatpaytest.EndlessAnswer, v2Bill(nil), 200},
		{"APIv2 bill download to a Sink: a 500 larger than the limit", wechatpaytest.HugeError, v2Bill(&wechatpay.Sink{Writer: io.Discard}), 500},
		{"download: a 500 larger than the limit", wechatpaytest.HugeError, download, 500},
		{"upload: a 200 larger than the limit", wechatpaytest.HugeAnswer, upload, 200},
		{"upload: an endless answer", wechatpaytest.EndlessAnswer, upload, 200},
		{"upload: a 500 larger than the limit", wechatpaytest.HugeError, upload, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.SetFault(tt.fault)
			defer srv.SetFault(wechatpaytest.NoFault)
			before := len(srv.Requests())
			var err error
			cost := memtest.Allocated(func() { err = tt.call() })
			require.ErrorIs(t, err, wechatpay.ErrResponseTooLarge)
			var tooLarge *wechatpay.ResponseTooLargeError
			require.ErrorAs(t, err, &tooLarge)
			assert.Equal(t, tt.status, tooLarge.StatusCode)
			assert.Equal(t, int64(limit), tooLarge.Limit)
			assert.Regexp(t, `^08[0-9A-F]{32}$`, tooLarge.Header.Get("Request-ID"))
			assert.Contains(t, err.Error(), "is larger than 1048576 bytes, the limit Config.MaxResponseBytes sets")
			assert.Len(t, srv.Requests(), before+1, "sent once, not retried")
			// The answer is 64 MiB (or endless); reading it whole cost
			// several times that. Reading up to the limit costs a few times
			// the limit.
			assert.Less(t, cost, uint64(8*limit), "allocated %.1f MiB", float64(cost)/(1<<20))
			t.Logf("allocated %.2f MiB", float64(cost)/(1<<20))
		})
	}
}

// An answer of exactly the limit is read (and, unsigned, fails
// verification); one byte more is refused.
func TestAnswersUpToTheLimitAreRead(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	srv := newServer(t)
	ctx := context.Background()
	b := newBuilder(t, srv, func(c *wechatpay.Config) { c.MaxResponseBytes = limit })
	srv.SetFault(wechatpaytest.HugeError)
	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"APIv3", func() error { _, err := b.Chain("v3/x").Get(ctx); return err }},
		{"APIv2", func() error {
			_, err := b.Chain("v2/pay/orderquery").Post(ctx, wechatpay.Options{XML: map[string]string{"out_trade_no": "1"}})
			return err
		}},
		{"download", func() error {
			_, err := b.Chain("v3/billdownload/file").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: io.Discard}})
			return err
		}},
		{"APIv2 bill download to a Sink", func() error {
			_, err := b.Chain("v2/pay/downloadbill").Post(ctx, wechatpay.Options{XML: map[string]string{"bill_date": "20261127"},
				Sink: &wechatpay.Sink{Writer: io.Discard}})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv.SetAnswerSize(limit)
			err := tt.call()
			var apiErr *wechatpay.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 500, apiErr.StatusCode)
			assert.Len(t, apiErr.Body, limit)

			srv.SetAnswerSize(limit + 1)
			err = tt.call()
			assert.ErrorIs(t, err, wechatpay.ErrResponseTooLarge)
			assert.False(t, errorsAsAPIError(err), "an answer over the limit is no APIError: %v", err)
		})
	}
}

func errorsAsAPIError(err error) bool {
	var apiErr *wechatpay.APIError
	return errors.As(err, &apiErr)
}

func TestMaxResponseBytesDefaults(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, tt := range []struct {
		set, want int64
	}{
		{0, wechatpay.DefaultMaxResponseBytes},
		{-1, 0},
		{5 << 20, 5 << 20},
	} {
		b := newBuilder(t, srv, func(c *wechatpay.Config) { c.MaxResponseBytes = tt.set })
		assert.Equal(t, tt.want, wechatpay.MaxResponseBytes(b), "Config.MaxResponseBytes %d", tt.set)
	}
	assert.Equal(t, int64(32<<20), int64(wechatpay.DefaultMaxResponseBytes))
	assert.Equal(t, "wechatpay.Config{MchID:1900000001 MaxResponseBytes:1048576}", wechatpay.Config{MchID: "1900000001", MaxResponseBytes: 1 << 20}.String())

	t.Run("no limit", func(t *testing.T) {
		b := newBuilder(t, srv, func(c *wechatpay.Config) { c.MaxResponseBytes = -1 })
		srv.SetAnswerSize(2 << 20)
		srv.SetFault(wechatpaytest.HugeError)
		defer srv.SetFault(wechatpaytest.NoFault)
		_, err := b.Chain("v3/x").Get(context.Background())
		var apiErr *wechatpay.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Len(t, apiErr.Body, 2<<20, "read whole")
	})
}

// The log record of an answer over the limit has its status and Request-ID.
func TestAnswerOverTheLimitIsLogged(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var logs bytes.Buffer
	b := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.MaxResponseBytes = 64 << 10
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	srv.SetFault(wechatpaytest.HugeError)
	_, err := b.Chain("v3/x").Get(context.Background())
	var tooLarge *wechatpay.ResponseTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(logs.Bytes(), &rec))
	assert.Equal(t, "ERROR", rec["level"])
	assert.Equal(t, float64(500), rec["status"])
	assert.Equal(t, tooLarge.Header.Get("Request-ID"), rec["request_id"])
	assert.Equal(t, "the answer (status 500, Request-ID "+tooLarge.Header.Get("Request-ID")+
		") is larger than 65536 bytes, the limit Config.MaxResponseBytes sets: refused unread past the limit and unverified", rec["error"])
}
