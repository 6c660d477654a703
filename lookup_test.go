package wechatpay_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestHostsFromCatalog: documented endpoints go to the catalog's host
// unless the caller chose one: Options.BaseURL, then a Config.BaseURL that
// is not WeChat Pay's (TestBaseURLRule has the whole rule). The fake's
// Config reaches it whatever the host, and records the host it was sent to.
func TestHostsFromCatalog(t *testing.T) {
	t.Parallel()
	// At the root, not newServer's base path: the request targets are the
	// catalog hosts' own (some with a path, such as /hk/).
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)

	srv.Handle("/", func(w http.ResponseWriter, r *http.Request) {
		wechatpaytest.JSON(w, http.StatusOK, map[string]string{"uri": r.RequestURI, "host": "https://" + r.Host})
	})
	through := func(base string) *wechatpay.Builder {
		return newBuilder(t, srv, func(c *wechatpay.Config) { c.BaseURL = base })
	}
	catalogHosts := through("")
	backup := through("https://api2.mch.weixin.qq.com/")
	gateway := through("https://wxpay-gateway.example.com/")
	ctx := context.Background()
	tests := []struct {
		name      string
		send      func() (*wechatpay.Response, error)
		host, uri string
	}{
		{"global endpoint", func() (*wechatpay.Response, error) {
			return catalogHosts.V3().Global().Transactions().Native().Post(ctx, wechatpay.Options{JSON: map[string]int{}})
		}, "https://apihk.mch.weixin.qq.com", "/v3/global/transactions/native"},
		{"HK wallet endpoint with a literal value", func() (*wechatpay.Response, error) {
			return catalogHosts.V3().Transactions().ID().Value("4200000001").Get(ctx)
		}, "https://api.mch.weixin.qq.com", "/hk/v3/transactions/id/4200000001"},
		{"base with a path from the catalog", func() (*wechatpay.Response, error) {
			return catalogHosts.Chain("v3/customs/orders").Get(ctx)
		}, "https://apihk.mch.weixin.qq.com", "/global/v3/customs/orders"},
		{"mainland endpoint", func() (*wechatpay.Response, error) {
			return catalogHosts.V3().Pay().Transactions().OutTradeNo().Value("N1").Get(ctx)
		}, "https://api.mch.weixin.qq.com", "/v3/pay/transactions/out-trade-no/N1"},
		{"undocumented path", func() (*wechatpay.Response, error) {
			return catalogHosts.Chain("v3/brand-new/endpoint").Get(ctx)
		}, "https://api.mch.weixin.qq.com", "/v3/brand-new/endpoint"},
		{"Options.BaseURL first", func() (*wechatpay.Response, error) {
			return catalogHosts.V3().Global().Transactions().Native().Post(ctx, wechatpay.Options{
				JSON: map[string]int{}, BaseURL: "https://apius.mch.weixin.qq.com/"})
		}, "https://apius.mch.weixin.qq.com", "/v3/global/transactions/native"},
		{"a WeChat Pay host in Config.BaseURL keeps the catalog's hosts", func() (*wechatpay.Response, error) {
			return backup.V3().Global().Transactions().Native().Post(ctx, wechatpay.Options{JSON: map[string]int{}})
		}, "https://apihk.mch.weixin.qq.com", "/v3/global/transactions/native"},
		{"a WeChat Pay host in Config.BaseURL replaces the default host", func() (*wechatpay.Response, error) {
			return backup.V3().Pay().Transactions().Native().Post(ctx, wechatpay.Options{JSON: map[string]int{}})
		}, "https://api2.mch.weixin.qq.com", "/v3/pay/transactions/native"},
		{"a gateway in Config.BaseURL over the catalog", func() (*wechatpay.Response, error) {
			return gateway.V3().Global().Transactions().Native().Post(ctx, wechatpay.Options{JSON: map[string]int{}})
		}, "https://wxpay-gateway.example.com", "/v3/global/transactions/native"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.send()
			require.NoError(t, err)
			assert.Equal(t, tt.host, resp.Get("host").String())
			assert.Equal(t, tt.uri, resp.Get("uri").String())
			assert.Empty(t, lastAccepted(t, srv).Rejected)
		})
	}

	u, err := catalogHosts.V2().Risk().Getpublickey().URL()
	require.NoError(t, err)
	assert.Equal(t, "https://fraud.mch.weixin.qq.com/risk/getpublickey", u, "APIv2 paths drop v2/ and take their catalog host")
}

func TestLookup(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)

	c, ok := b.Lookup("v3/pay/transactions/out-trade-no/{out_trade_no}")
	require.True(t, ok)
	resp, err := c.Get(context.Background(), wechatpay.Options{
		Path: map[string]string{"out_trade_no": "N1"}, Query: url.Values{"mchid": {srv.MchID}}})
	require.NoError(t, err)
	assert.Equal(t, "N1", resp.Get("out_trade_no").String())

	eps := c.Endpoints()
	require.Len(t, eps, 1)
	assert.Equal(t, "GET", eps[0].Method)
	assert.NotEmpty(t, eps[0].Title)

	_, ok = b.Lookup("v3/pay/transactions/out-trade-no/{no}")
	assert.False(t, ok, "placeholder names must be the documented ones")
	assert.NotEmpty(t, b.Chain("v3/pay/transactions/out-trade-no/{no}").Endpoints(), "but Endpoints matches any name")

	_, err = b.Endpoint("v3/pay/transaction/native")
	require.Error(t, err)
	assert.Equal(t, "wechatpay: v3/pay/transaction/native is not a documented WeChat Pay path; did you mean v3/pay/transactions/native or v3/transactions/native or v3/global/transactions/native? (Builder.Chain sends to any path, documented or not)", err.Error())
	c, err = b.Endpoint("v3/pay/transactions/native")
	require.NoError(t, err)
	assert.Equal(t, "v3/pay/transactions/native", c.Path())

	assert.Empty(t, b.Chain("v3/brand-new/endpoint").Endpoints())
	assert.Equal(t, "v3/merchant-service/complaints-v2/{complaint_id}/response",
		b.V3().MerchantService().ComplaintsV2().Seg("_complaint_id_").Response().Path())
	assert.Equal(t, "v3/brand/profitsharing/receivers/delete", b.V3().Brand().Profitsharing().Receivers().DeleteSeg().Path(), "delete is DeleteSeg: Delete is the verb")
}
