package wechatpay_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
)

// TestErrorsUseTheCatalog: a 404 for a path or method the catalog does not
// document says what it does document.
func TestErrorsUseTheCatalog(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	native := wechatpay.Options{JSON: map[string]any{"appid": "wx1", "mchid": srv.MchID, "description": "d", "out_trade_no": "T-HINT-1", "notify_url": "https://example.com/n", "amount": map[string]int{"total": 1}}}
	for _, tc := range []struct {
		name string
		call func() error
		hint string
	}{
		{"a typo in the path", func() error {
			_, err := b.Chain("v3/pay/transaction/native").Post(ctx, native)
			return err
		}, "not a documented endpoint; did you mean POST v3/pay/transactions/native?"},
		{"the wrong method", func() error {
			_, err := b.Chain("v3/pay/transactions/native").Get(ctx)
			return err
		}, "v3/pay/transactions/native is documented as POST, not GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var apiErr *wechatpay.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
			// The fake's own 404 says it; the client does not say it again.
			assert.Contains(t, apiErr.Message, tc.hint)
			assert.Empty(t, apiErr.Hint)
			assert.Equal(t, 1, strings.Count(err.Error(), tc.hint), "%v", err)
		})
	}
	t.Run("a documented endpoint gets no hint", func(t *testing.T) {
		_, err := b.Chain("v3/pay/transactions/out-trade-no/{out_trade_no}").Get(ctx, wechatpay.Options{
			Path: map[string]string{"out_trade_no": "NO-SUCH-ORDER-1"}, Query: map[string][]string{"mchid": {srv.MchID}}})
		var apiErr *wechatpay.APIError
		if errors.As(err, &apiErr) {
			assert.Empty(t, apiErr.Hint)
		}
	})
}

// TestErrorsUseTheCatalogWhenTheServerDoesNot: WeChat Pay's own 404 does
// not name the documented endpoint: the client's hint does.
func TestErrorsUseTheCatalogWhenTheServerDoesNot(t *testing.T) {
	t.Parallel()
	fake := newServer(t)
	notFound := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Request-ID", "08F0A5A3B50610B3A9D2D1D40118A9A12B0000")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"code":"NOT_FOUND","message":"无可用的平台证书"}`))
	}))
	defer notFound.Close()
	b := newBuilder(t, fake, func(c *wechatpay.Config) { c.BaseURL = notFound.URL + "/" })
	_, err := b.Chain("v3/pay/transaction/native").Post(context.Background(), wechatpay.Options{JSON: map[string]int{"n": 1}})
	var apiErr *wechatpay.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "not a documented endpoint; did you mean POST v3/pay/transactions/native?", apiErr.Hint)
	assert.Contains(t, err.Error(), apiErr.Hint)
}

// TestAnswerNotFromWeChatPay: a proxy's or gateway's answer (no Request-ID,
// no WeChat Pay error JSON) says so and what to check.
func TestAnswerNotFromWeChatPay(t *testing.T) {
	t.Parallel()
	fake := newServer(t)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
	}))
	defer proxy.Close()
	b := newBuilder(t, fake, func(c *wechatpay.Config) { c.BaseURL = proxy.URL + "/" })
	_, err := b.Chain("v3/pay/transactions/native").Post(context.Background(), wechatpay.Options{JSON: map[string]int{"n": 1}})
	var apiErr *wechatpay.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Hint, "this answer did not come from WeChat Pay")
	assert.Contains(t, err.Error(), "check the base URL (Config.BaseURL, Options.BaseURL) and any proxy or gateway in between")
}

// TestUnreachableHostSaysWhatToCheck: a refused connection names the host
// and what to check, and on the primary host without Failover, that
// Failover would try the backup.
func TestUnreachableHostSaysWhatToCheck(t *testing.T) {
	t.Parallel()
	fake := newServer(t)
	addr := refusedAddr(t)
	b := newBuilder(t, fake, func(c *wechatpay.Config) { c.BaseURL = "http://" + addr + "/" })
	_, err := b.Chain("v3/x").Get(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "(could not reach "+addr+": check the network, DNS, any proxy, and the base URL (Config.BaseURL, Options.BaseURL))")
	assert.NotContains(t, err.Error(), "Config.Failover would send", "only for the primary WeChat Pay host")
}

// TestAQueryInThePathStaysOutOfErrors: a query written into a chain's
// path (a download token) is sent, but no error names it.
func TestAQueryInThePathStaysOutOfErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	_, err := b.Chain("v3/billdownload/nofile?token=TOKENINPATH5e8d1c").Get(context.Background())
	var apiErr *wechatpay.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, err.Error(), "TOKENINPATH5e8d1c")
	assert.Equal(t, "v3/billdownload/nofile", apiErr.Path)
	last, ok := srv.LastRequest()
	require.True(t, ok)
	assert.Contains(t, last.RequestURI, "token=TOKENINPATH5e8d1c", "the query is still sent")
}
