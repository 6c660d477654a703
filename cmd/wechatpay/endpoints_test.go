package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestEndpointsViews: the listing gives each endpoint's host and Go chain,
// -v everything the catalog has and how to call it, -json the same for
// scripts.
func TestEndpointsViews(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"endpoints", "v3/pay/transactions/out-trade-no/{out_trade_no}"}, exitOK, `GET v3/pay/transactions/out-trade-no/{out_trade_no}  商户订单号查询
    https://api.mch.weixin.qq.com/  b.V3().Pay().Transactions().OutTradeNo().Seg("_out_trade_no_").Get(ctx, opts)
POST v3/pay/transactions/out-trade-no/{out_trade_no}/close  关单
    https://api.mch.weixin.qq.com/  b.V3().Pay().Transactions().OutTradeNo().Seg("_out_trade_no_").Close().Post(ctx, opts)
POST v3/pay/transactions/out-trade-no/{out_trade_no}/reverse  撤销
    https://api.mch.weixin.qq.com/  b.V3().Pay().Transactions().OutTradeNo().Seg("_out_trade_no_").Reverse().Post(ctx, opts)
`},
		{[]string{"endpoints", "-docs", "jsapi-pre-entrust-sign"}, exitOK, `POST v3/global/papay/contracts/jsapi-pre-entrust-sign  JSAPI预签约
    https://apihk.mch.weixin.qq.com/  b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(ctx, opts)
    https://pay.weixin.qq.com/doc/global/v3/zh/4013015447
`},
		{[]string{"endpoints", "-v", "jsapi-pre-entrust-sign"}, exitOK, `POST v3/global/papay/contracts/jsapi-pre-entrust-sign  JSAPI预签约
  host     https://apihk.mch.weixin.qq.com/
  Go       b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(ctx, opts)
  PHP      $instance->v3->global->papay->contracts->jsapiPreEntrustSign->post($options)
  request  wechatpay request POST v3/global/papay/contracts/jsapi-pre-entrust-sign -data @body.json
  json     appid, sub_mchid, sp_appid, sp_mchid, sub_appid, plan_id,
           out_contract_code, user_display_name, success_notify_url, openid,
           return_url, expired_time
  options  base_uri
  docs     https://pay.weixin.qq.com/doc/global/v3/zh/4013015447
`},
		{[]string{"endpoints", "-v", "GET", "v3/pay/transactions/out-trade-no/{out_trade_no}"}, exitOK, `GET v3/pay/transactions/out-trade-no/{out_trade_no}  商户订单号查询
  host     https://api.mch.weixin.qq.com/
  Go       b.V3().Pay().Transactions().OutTradeNo().Seg("_out_trade_no_").Get(ctx, opts)
  PHP      $instance->v3->pay->transactions->outTradeNo->_out_trade_no_->get($options)
  request  wechatpay request GET 'v3/pay/transactions/out-trade-no/{out_trade_no}' -path out_trade_no=... -query mchid=...
  path     out_trade_no
  query    mchid
  docs     https://pay.weixin.qq.com/doc/v3/merchant/4012791859
`},
		{[]string{"endpoints", "-v", "v2/secapi/pay/refund"}, exitOK, `POST v2/secapi/pay/refund  申请退款
  host     https://api.mch.weixin.qq.com/
  Go       b.V2().Secapi().Pay().Refund().Post(ctx, opts)
  PHP      $instance->v2->secapi->pay->refund->post($options)
  request  (none: the endpoint needs mutual TLS, which the command does not do)
  xml      appid, sub_appid, mch_id, sub_mch_id, sign_type, transaction_id,
           out_trade_no, out_refund_no, total_fee, refund_fee, refund_fee_type,
           refund_desc, refund_account, notify_url
  options  security
  docs     https://pay.weixin.qq.com/doc/v2/merchant/4011937624

POST v2/secapi/pay/refundv2  申请退款（支持单品）
  host     https://api.mch.weixin.qq.com/
  Go       b.V2().Secapi().Pay().Refundv2().Post(ctx, opts)
  PHP      $instance->v2->secapi->pay->refundv2->post($options)
  request  (none: the endpoint needs mutual TLS, which the command does not do)
  xml      detail, appid, sub_appid, mch_id, sub_mch_id, sign_type,
           transaction_id, out_trade_no, out_refund_no, total_fee, refund_fee,
           refund_fee_type, refund_desc, refund_account, notify_url
  options  security
  docs     https://pay.weixin.qq.com/doc/v2/partner/4011983308
`},
		{[]string{"endpoints", "-v", "v3/merchant/media/upload"}, exitOK, `POST v3/merchant/media/upload  文件上传
  host     https://api.mch.weixin.qq.com/
  Go       b.V3().Merchant().Media().Upload().Post(ctx, opts)
  PHP      $instance->v3->merchant->media->upload->post($options)
  request  (none: a multipart upload, which the command does not do)
  headers  Content-Type
  body     file, meta
  docs     https://pay.weixin.qq.com/doc/v3/partner/4012760432
`},
		{[]string{"endpoints", "-json", "no-such-endpoint-7c1e"}, exitNothing, "[]\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runBinary(t, nil, "", tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Equal(t, tt.want, out)
		})
	}
}

// TestEndpointsJSON: -json has every field of every match, lists empty
// rather than null.
func TestEndpointsJSON(t *testing.T) {
	t.Parallel()
	code, out, errOut := runBinary(t, nil, "", "endpoints", "-json", "jsapi-pre-entrust-sign")
	require.Equal(t, exitOK, code, errOut)
	var got []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	none := []any{}
	assert.Equal(t, []map[string]any{{
		"method": "POST", "path": "v3/global/papay/contracts/jsapi-pre-entrust-sign", "title": "JSAPI预签约", "api": "v3",
		"host": "https://apihk.mch.weixin.qq.com/", "go": "V3().Global().Papay().Contracts().JsapiPreEntrustSign()",
		"php": "v3.global.papay.contracts.jsapiPreEntrustSign", "docs": "https://pay.weixin.qq.com/doc/global/v3/zh/4013015447",
		"flags": none,
		"params": map[string]any{
			"path": none, "query": none, "xml": none, "headers": none, "body": none, "opts": []any{"base_uri"},
			"json": []any{"appid", "sub_mchid", "sp_appid", "sp_mchid", "sub_appid", "plan_id", "out_contract_code",
				"user_display_name", "success_notify_url", "openid", "return_url", "expired_time"},
		},
	}}, got)

	// Every endpoint, as many as the catalog has.
	code, out, errOut = runBinary(t, nil, "", "endpoints", "-json")
	require.Equal(t, exitOK, code, errOut)
	var all []endpointJSON
	require.NoError(t, json.Unmarshal([]byte(out), &all))
	assert.Len(t, all, len(catalog.All()))
}

// chainCall is one call of a Go chain as goChain writes it: Name() or
// Seg("x").
var chainCall = regexp.MustCompile(`^\.?([A-Z][A-Za-z0-9]*)\(("(?:[^"\\]|\\.)*")?\)`)

// TestGoChainReachesEveryPath runs the Go chain shown for every catalog
// endpoint, method by method, and checks that it builds the endpoint's
// path: the chain shown is one that compiles and goes where it says.
func TestGoChainReachesEveryPath(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	b, err := wechatpay.NewBuilder(srv.Config())
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, ep := range catalog.All() {
		if seen[ep.Path] {
			continue
		}
		seen[ep.Path] = true
		chain := goChain(ep.Path)
		require.NotContains(t, chain, "Chain(", "%s has a segment without a method", ep.Path)
		var c *wechatpay.Chain
		for rest := chain; rest != ""; {
			m := chainCall.FindStringSubmatch(rest)
			require.NotNil(t, m, "%s: cannot read %q", chain, rest)
			rest = rest[len(m[0]):]
			switch {
			case c == nil:
				c = reflect.ValueOf(b).MethodByName(m[1]).Call(nil)[0].Interface().(*wechatpay.Chain)
			case m[1] == "Seg":
				arg, err := strconv.Unquote(m[2])
				require.NoError(t, err)
				c = c.Seg(arg)
			default:
				method := reflect.ValueOf(c).MethodByName(m[1])
				require.True(t, method.IsValid(), "%s: Chain has no method %s", chain, m[1])
				c = method.Call(nil)[0].Interface().(*wechatpay.Chain)
			}
		}
		require.NoError(t, c.Err(), chain)
		want := ep.Path
		if strings.HasSuffix(want, "/") {
			want += "{empty}" // wechatpay-php's _empty_, filled with ""
		}
		assert.Equal(t, want, c.Path(), chain)
	}
}

// TestRequestJSON: with -json, request prints the answer as one JSON
// document, an error answer included, beside the usual exit status.
func TestRequestJSON(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	srv.Handle("GET /v3/cli-test/orders/{no}", func(w http.ResponseWriter, r *http.Request) {
		wechatpaytest.JSON(w, http.StatusOK, map[string]any{"no": r.PathValue("no"), "amount": map[string]int{"total": 1}})
	})
	srv.Handle("POST /v3/cli-test/refused", func(w http.ResponseWriter, r *http.Request) {
		wechatpaytest.Error(w, http.StatusForbidden, "NO_AUTH", "商户无权限")
	})
	failing := wechatpaytest.NewServer()
	t.Cleanup(failing.Close)
	failing.SetFault(wechatpaytest.ResultCodeFail)
	env := verifyingEnv(t, srv)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string // the JSON, request_id aside
	}{
		{"a JSON answer", env, []string{"request", "-json", "GET", "v3/cli-test/orders/{no}", "-path", "no=T 1", "-query", "mchid=1900000001"}, exitOK,
			`{"method":"GET","url":"` + srv.URL + `v3/cli-test/orders/T%201?mchid=1900000001","status":200,"body":{"amount":{"total":1},"no":"T 1"}}`},
		{"no content", env, []string{"request", "-json", "POST", "v3/pay/transactions/out-trade-no/T1/close", "-data", `{"mchid":"1900000001"}`}, exitOK,
			`{"method":"POST","url":"` + srv.URL + `v3/pay/transactions/out-trade-no/T1/close","status":204,"body":null}`},
		{"an error answer", env, []string{"request", "-json", "POST", "v3/cli-test/refused", "-data", `{}`}, exitFailed,
			`{"method":"POST","url":"` + srv.URL + `v3/cli-test/refused","status":403,"body":{"code":"NO_AUTH","message":"商户无权限"},"error":"wechatpay: POST v3/cli-test/refused: 403 NO_AUTH: 商户无权限 [Request-ID *]"}`},
		{"an APIv2 business failure", with(env, "WECHATPAY_BASE_URL", failing.URL), []string{"request", "-json", "POST", "v2/pay/orderquery", "-xml", "out_trade_no=T1", "-xml", "mch_id=1900000001"}, exitFailed,
			`{"method":"POST","url":"` + failing.URL + `pay/orderquery","body":{"err_code":"SYSTEMERROR","err_code_des":"系统错误","mch_id":"1900000001","out_trade_no":"T1","path":"/pay/orderquery","return_code":"SUCCESS","return_msg":"OK","result_code":"FAIL"},"error":"wechatpay: POST v2/pay/orderquery: result_code FAIL: SYSTEMERROR 系统错误"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runBinary(t, tt.env, "", tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(out), &got), out)
			// The Request-ID is random: the error holds the same one.
			id, _ := got["request_id"].(string)
			assert.Equal(t, strings.Contains(tt.name, "APIv2"), id == "", "only an APIv2 answer lacks a Request-ID")
			delete(got, "request_id")
			if msg, ok := got["error"].(string); ok && id != "" {
				got["error"] = strings.Replace(msg, id, "*", 1)
			}
			if body, ok := got["body"].(map[string]any); ok && id == "" {
				assert.Len(t, body["nonce_str"], 32)
				assert.Len(t, body["sign"], 32)
				delete(body, "nonce_str") // random, and the sign over it
				delete(body, "sign")
			}
			var want map[string]any
			require.NoError(t, json.Unmarshal([]byte(tt.want), &want))
			assert.Equal(t, want, got)
			if tt.code == exitFailed {
				assert.Equal(t, "wechatpay request: "+strings.Replace(want["error"].(string), "*", id, 1)+"\n", errOut)
			} else {
				assert.Empty(t, errOut)
			}
		})
	}
}

// TestReadmeShowsEndpointsOutput: the README's example of endpoints -v is
// what the command prints.
func TestReadmeShowsEndpointsOutput(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	const intro = "`wechatpay endpoints -v jsapi-pre-entrust-sign` prints:\n\n```text\n"
	_, block, ok := strings.Cut(string(readme), intro)
	require.True(t, ok, "README.md has no %q", intro)
	block, _, ok = strings.Cut(block, "```\n")
	require.True(t, ok)
	code, out, errOut := runBinary(t, nil, "", "endpoints", "-v", "jsapi-pre-entrust-sign")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, out, block)
}

// TestRequestJSONWithoutAnAnswer: with -json, a request that got no answer
// (the host refused the connection) still prints one JSON document, with
// the error.
func TestRequestJSONWithoutAnAnswer(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath("/base/"))
	t.Cleanup(srv.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "http://" + l.Addr().String() + "/"
	require.NoError(t, l.Close())
	code, out, errOut := runBinary(t, with(verifyingEnv(t, srv), "WECHATPAY_BASE_URL", refused), "", "request", "-json", "GET", "v3/certificates")
	assert.Equal(t, exitFailed, code, errOut)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Equal(t, "GET", got["method"])
	assert.Nil(t, got["body"])
	assert.NotContains(t, got, "status")
	assert.Contains(t, got["error"], "connection refused")
}
