package wechatpay_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// The chains the base URL rule is checked with: one per kind of host the
// catalog gives, and an undocumented path.
var (
	hostGlobal  = "v3/global/papay/contracts/jsapi-pre-entrust-sign" // apihk
	hostCustoms = "v3/customs/orders"                                // apihk, under /global/
	hostWallet  = "v3/transactions/id/4200000001"                    // the HK wallet: api.mch, under /hk/
	hostMain    = "v3/pay/transactions/native"                       // the default host
	hostNew     = "v3/brand-new/endpoint"                            // undocumented
	hostFraud   = "v2/risk/getpublickey"                             // APIv2 on fraud.mch
)

// baseURLRuleCases: which host each chain goes to for each Config.BaseURL.
// A WeChat Pay host in Config.BaseURL (writing the default in, the backup
// api2, apihk, the /hk/ base, api.wechatpay.cn) takes the place of the
// default host only: an endpoint the catalog documents on another host
// still goes there. Any other host (a proxy, a gateway, a look-alike name)
// takes every request.
var baseURLRuleCases = []struct {
	name, base, chain, want string
}{
	{"no base: catalog host", "", hostGlobal, "https://apihk.mch.weixin.qq.com/" + hostGlobal},
	{"no base: catalog host with a path", "", hostCustoms, "https://apihk.mch.weixin.qq.com/global/" + hostCustoms},
	{"no base: default host", "", hostMain, "https://api.mch.weixin.qq.com/" + hostMain},
	{"no base: undocumented", "", hostNew, "https://api.mch.weixin.qq.com/" + hostNew},

	{"default written in: catalog host kept", "https://api.mch.weixin.qq.com/", hostGlobal, "https://apihk.mch.weixin.qq.com/" + hostGlobal},
	{"default written in: catalog base path kept", "https://api.mch.weixin.qq.com/", hostWallet, "https://api.mch.weixin.qq.com/hk/" + hostWallet},
	{"default written in: APIv2 catalog host kept", "https://api.mch.weixin.qq.com/", hostFraud, "https://fraud.mch.weixin.qq.com/risk/getpublickey"},
	{"default written in: default host", "https://api.mch.weixin.qq.com/", hostMain, "https://api.mch.weixin.qq.com/" + hostMain},
	{"default in capitals, port, no slash: catalog host kept", "https://API.Mch.Weixin.QQ.com.:443", hostGlobal, "https://apihk.mch.weixin.qq.com/" + hostGlobal},
	{"default in capitals, port, no slash: as written for the rest", "https://API.Mch.Weixin.QQ.com.:443", hostMain, "https://API.Mch.Weixin.QQ.com.:443/" + hostMain},

	{"backup host: catalog host kept", "https://api2.mch.weixin.qq.com/", hostGlobal, "https://apihk.mch.weixin.qq.com/" + hostGlobal},
	{"backup host: default-host endpoint", "https://api2.mch.weixin.qq.com/", hostMain, "https://api2.mch.weixin.qq.com/" + hostMain},
	{"backup host: undocumented", "https://api2.mch.weixin.qq.com/", hostNew, "https://api2.mch.weixin.qq.com/" + hostNew},
	{"wechatpay.cn host: catalog host kept", "https://api.wechatpay.cn/", hostCustoms, "https://apihk.mch.weixin.qq.com/global/" + hostCustoms},
	{"wechatpay.cn host: default-host endpoint", "https://api.wechatpay.cn/", hostMain, "https://api.wechatpay.cn/" + hostMain},

	{"apihk: global endpoint", "https://apihk.mch.weixin.qq.com/", hostGlobal, "https://apihk.mch.weixin.qq.com/" + hostGlobal},
	{"apihk: HK wallet endpoint keeps its own base", "https://apihk.mch.weixin.qq.com/", hostWallet, "https://api.mch.weixin.qq.com/hk/" + hostWallet},
	{"apihk: default-host endpoint", "https://apihk.mch.weixin.qq.com/", hostMain, "https://apihk.mch.weixin.qq.com/" + hostMain},
	{"/hk/ base: HK wallet endpoint", "https://api.mch.weixin.qq.com/hk/", hostWallet, "https://api.mch.weixin.qq.com/hk/" + hostWallet},
	{"/hk/ base: global endpoint keeps apihk", "https://api.mch.weixin.qq.com/hk/", hostGlobal, "https://apihk.mch.weixin.qq.com/" + hostGlobal},
	{"/hk/ base: undocumented", "https://api.mch.weixin.qq.com/hk/", hostNew, "https://api.mch.weixin.qq.com/hk/" + hostNew},

	{"gateway: global endpoint", "https://wxpay-gateway.example.com/proxy/", hostGlobal, "https://wxpay-gateway.example.com/proxy/" + hostGlobal},
	{"gateway: HK wallet endpoint", "https://wxpay-gateway.example.com/proxy/", hostWallet, "https://wxpay-gateway.example.com/proxy/" + hostWallet},
	{"gateway: APIv2 endpoint", "https://wxpay-gateway.example.com/proxy/", hostFraud, "https://wxpay-gateway.example.com/proxy/risk/getpublickey"},
	{"gateway: default-host endpoint", "https://wxpay-gateway.example.com/proxy/", hostMain, "https://wxpay-gateway.example.com/proxy/" + hostMain},
	{"look-alike name is a gateway", "https://api.mch.weixin.qq.com.example.net/", hostGlobal, "https://api.mch.weixin.qq.com.example.net/" + hostGlobal},
	{"look-alike suffix is a gateway", "https://notweixin.qq.com/", hostGlobal, "https://notweixin.qq.com/" + hostGlobal},
	{"plain-HTTP proxy", "http://10.0.0.8:8080/", hostGlobal, "http://10.0.0.8:8080/" + hostGlobal},
}

// TestBaseURLRule: Chain.URL shows the host the rule of the README's
// "Base URL" section picks.
func TestBaseURLRule(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	for _, tt := range baseURLRuleCases {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(t, srv, func(c *wechatpay.Config) { c.BaseURL = tt.base })
			got, err := b.Chain(tt.chain).URL()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestBaseURLRuleOnTheWire: each APIv3 case sent through the fake server's
// Config reaches the host Chain.URL showed, with the request target it
// showed. Per request, Options.BaseURL and a full-URL chain still choose
// the host whatever Config.BaseURL is.
func TestBaseURLRuleOnTheWire(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	srv.Handle("/", echo) // every APIv3 path, under any base path
	ctx := context.Background()
	for _, tt := range baseURLRuleCases {
		if strings.HasPrefix(tt.chain, "v2/") {
			continue // an APIv2 answer is XML: its URL is checked above
		}
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(t, srv, func(c *wechatpay.Config) { c.BaseURL = tt.base })
			c := b.Chain(tt.chain)
			shown, err := c.URL()
			require.NoError(t, err)
			_, err = c.Post(ctx, wechatpay.Options{JSON: map[string]int{}})
			require.NoError(t, err)
			last := lastAccepted(t, srv)
			scheme, _, _ := strings.Cut(shown, "://")
			assert.Equal(t, shown, scheme+"://"+last.Host+last.RequestURI, "sent where URL said")
		})
	}

	for _, base := range []string{"https://api.mch.weixin.qq.com/", "https://wxpay-gateway.example.com/proxy/"} {
		b := newBuilder(t, srv, func(c *wechatpay.Config) { c.BaseURL = base })
		_, err := b.Chain(hostGlobal).Post(ctx, wechatpay.Options{JSON: map[string]int{}, BaseURL: "https://apius.mch.weixin.qq.com/"})
		require.NoError(t, err)
		assert.Equal(t, "apius.mch.weixin.qq.com", lastAccepted(t, srv).Host, "Options.BaseURL over Config.BaseURL %s", base)
		_, err = b.Chain("https://api2.mch.weixin.qq.com/"+hostGlobal).Post(ctx, wechatpay.Options{JSON: map[string]int{}})
		require.NoError(t, err)
		assert.Equal(t, "api2.mch.weixin.qq.com", lastAccepted(t, srv).Host, "a full-URL chain over Config.BaseURL %s", base)
	}
}

// TestSeedCallReachesApihk is the seed call: a Builder from the
// fake's Config, with and without the default host written in
// Config.BaseURL, sends JSAPI pre-entrust-sign to apihk in each of the
// three styles.
func TestSeedCallReachesApihk(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	srv.Handle("POST /v3/global/papay/contracts/jsapi-pre-entrust-sign", func(w http.ResponseWriter, r *http.Request) {
		wechatpaytest.JSON(w, http.StatusOK, map[string]string{"redirect_url": "https://payapp.weixin.qq.com/papay/entrust?session=S1"})
	})
	ctx := context.Background()
	opts := wechatpay.Options{JSON: map[string]any{"appid": "wxcbda96de0b165486", "plan_id": 123, "out_contract_code": "C1"}}
	for _, base := range []string{"", "https://api.mch.weixin.qq.com/"} {
		b := newBuilder(t, srv, func(c *wechatpay.Config) { c.BaseURL = base })
		lookup, ok := b.Lookup(hostGlobal)
		require.True(t, ok)
		for name, c := range map[string]*wechatpay.Chain{
			"segments": b.V3().Global().Papay().Contracts().JsapiPreEntrustSign(),
			"string":   b.Chain(hostGlobal),
			"lookup":   lookup,
		} {
			resp, err := c.Post(ctx, opts)
			require.NoError(t, err, "%s, Config.BaseURL %q", name, base)
			assert.Equal(t, "https://payapp.weixin.qq.com/papay/entrust?session=S1", resp.Get("redirect_url").String())
			last := lastAccepted(t, srv)
			assert.Equal(t, "apihk.mch.weixin.qq.com", last.Host, "%s, Config.BaseURL %q", name, base)
			assert.Equal(t, "/"+hostGlobal, last.RequestURI)
		}
	}
}

// TestREADMEBaseURLTable: every cell of the README's Base URL table is the
// URL the chain gives, and so is the line its URL example prints.
func TestREADMEBaseURLTable(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	m := readmeLine(t, "(?m)^\\| `Config.BaseURL` \\| `([^`]+)` \\| `([^`]+)` \\|\n\\|[-|]+\n((?:\\|.*\n)+)")
	paths := []string{m[1], m[2]}
	rows := strings.Split(strings.TrimSpace(m[3]), "\n")
	require.Len(t, rows, 4)
	cell := regexp.MustCompile("`([^`]*)`|empty")
	for _, row := range rows {
		cells := strings.Split(strings.Trim(row, "| "), " | ")
		require.Len(t, cells, 3, row)
		for _, base := range cell.FindAllStringSubmatch(cells[0], -1) {
			b := newBuilder(t, srv, func(c *wechatpay.Config) { c.BaseURL = base[1] })
			for i, path := range paths {
				want := strings.Replace(strings.Trim(cells[i+1], "`"), "...", path, 1)
				got, err := b.Chain(path).URL()
				require.NoError(t, err)
				assert.Equal(t, want, got, "Config.BaseURL %q", base[1])
			}
		}
	}
	shown := readmeLine(t, `\.JsapiPreEntrustSign\(\)\.URL\(\)\n(?:.*\n){3}fmt\.Println\(u\) // (\S+)\n`)[1]
	got, err := newBuilder(t, srv, nil).V3().Global().Papay().Contracts().JsapiPreEntrustSign().URL()
	require.NoError(t, err)
	assert.Equal(t, shown, got)
}

// TestUndocumentedGlobalPathsGoToTheGlobalHost: every v3/global/ path is
// served by apihk, the ones the catalog does not list yet included.
func TestUndocumentedGlobalPathsGoToTheGlobalHost(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	b := newBuilder(t, srv, nil)
	u, err := b.Chain("v3/global/not-yet-catalogued/x").URL()
	require.NoError(t, err)
	assert.Equal(t, "https://apihk.mch.weixin.qq.com/v3/global/not-yet-catalogued/x", u)
	u, err = b.Chain("v3/not-yet-catalogued/x").URL()
	require.NoError(t, err)
	assert.Equal(t, "https://api.mch.weixin.qq.com/v3/not-yet-catalogued/x", u)
}
