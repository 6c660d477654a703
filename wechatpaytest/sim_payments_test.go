package wechatpaytest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// simAppID is the appid of the tests' orders.
const simAppID = "wxd678efh567hg6787"

// orderBody is a valid order of 100 fen for the endpoint kind (jsapi,
// native, app, h5, mweb), telling WeChat Pay to notify notifyURL.
func orderBody(sim *wechatpaytest.Simulator, kind, outTradeNo, notifyURL string) map[string]any {
	body := map[string]any{
		"appid": simAppID, "mchid": sim.MchID, "description": "Image形象店-深圳腾大-QQ公仔",
		"out_trade_no": outTradeNo, "notify_url": notifyURL, "attach": "attach-sentinel-7f3a",
		"amount": map[string]any{"total": 100, "currency": "CNY"},
	}
	switch kind {
	case "jsapi":
		body["payer"] = map[string]any{"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o-given"}
	case "h5", "mweb":
		body["scene_info"] = map[string]any{"payer_client_ip": "14.23.150.211", "h5_info": map[string]any{"type": "Wap"}}
	}
	return body
}

// place places an order at path (v3/pay/transactions/native, ...).
func place(t *testing.T, b *wechatpay.Builder, path string, body map[string]any) (*wechatpay.Response, error) {
	t.Helper()
	return b.Chain(path).Post(t.Context(), wechatpay.Options{JSON: body})
}

// queryOrder queries an order by out_trade_no (or transaction_id, with
// byID) on the domestic or global path.
func queryOrder(t *testing.T, b *wechatpay.Builder, mchID string, global, byID bool, id string) (*wechatpay.Response, error) {
	t.Helper()
	path := "v3/pay/transactions/"
	if global {
		path = "v3/global/transactions/"
	}
	if byID {
		path += "id/{id}"
	} else {
		path += "out-trade-no/{id}"
	}
	return b.Chain(path).Get(t.Context(), wechatpay.Options{Path: map[string]string{"id": id}, Query: map[string][]string{"mchid": {mchID}}})
}

// apiError is err as the *wechatpay.APIError it must be.
func apiError(t *testing.T, err error) *wechatpay.APIError {
	t.Helper()
	var ae *wechatpay.APIError
	require.ErrorAs(t, err, &ae)
	return ae
}

// simError is err as the *wechatpaytest.SimError it must be.
func simError(t *testing.T, err error) *wechatpaytest.SimError {
	t.Helper()
	var se *wechatpaytest.SimError
	require.True(t, errors.As(err, &se), "want a *SimError, got %v", err)
	return se
}

// TestSimOrderValidation: each bad order is refused with WeChat Pay's
// status, code and the field at fault, and is not kept.
func TestSimOrderValidation(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	cases := []struct {
		name   string
		path   string
		kind   string
		change func(body map[string]any)
		field  string
	}{
		{"no appid", "v3/pay/transactions/native", "native", func(m map[string]any) { delete(m, "appid") }, "/appid"},
		{"no mchid", "v3/pay/transactions/native", "native", func(m map[string]any) { delete(m, "mchid") }, "/mchid"},
		{"another mchid", "v3/pay/transactions/native", "native", func(m map[string]any) { m["mchid"] = "1900000109" }, "/mchid"},
		{"no description", "v3/pay/transactions/app", "app", func(m map[string]any) { m["description"] = "" }, "/description"},
		{"no out_trade_no", "v3/pay/transactions/native", "native", func(m map[string]any) { delete(m, "out_trade_no") }, "/out_trade_no"},
		{"out_trade_no too short", "v3/pay/transactions/native", "native", func(m map[string]any) { m["out_trade_no"] = "A1234" }, "/out_trade_no"},
		{"out_trade_no too long", "v3/pay/transactions/native", "native", func(m map[string]any) { m["out_trade_no"] = strings.Repeat("7", 33) }, "/out_trade_no"},
		{"out_trade_no with #", "v3/pay/transactions/native", "native", func(m map[string]any) { m["out_trade_no"] = "ORDER#123456" }, "/out_trade_no"},
		{"no notify_url", "v3/pay/transactions/native", "native", func(m map[string]any) { delete(m, "notify_url") }, "/notify_url"},
		{"notify_url not http", "v3/pay/transactions/native", "native", func(m map[string]any) { m["notify_url"] = "ftp://example.com/notify" }, "/notify_url"},
		{"notify_url relative", "v3/pay/transactions/native", "native", func(m map[string]any) { m["notify_url"] = "/notify" }, "/notify_url"},
		{"no amount", "v3/pay/transactions/native", "native", func(m map[string]any) { delete(m, "amount") }, "/amount/total"},
		{"amount zero", "v3/pay/transactions/native", "native", func(m map[string]any) { m["amount"] = map[string]any{"total": 0} }, "/amount/total"},
		{"amount negative", "v3/pay/transactions/native", "native", func(m map[string]any) { m["amount"] = map[string]any{"total": -1} }, "/amount/total"},
		{"amount a string", "v3/pay/transactions/native", "native", func(m map[string]any) { m["amount"] = map[string]any{"total": "100"} }, "/amount/total"},
		{"currency lower case", "v3/pay/transactions/native", "native", func(m map[string]any) { m["amount"] = map[string]any{"total": 1, "currency": "cny"} }, "/amount/currency"},
		{"jsapi without payer", "v3/pay/transactions/jsapi", "jsapi", func(m map[string]any) { delete(m, "payer") }, "/payer/openid"},
		{"jsapi empty openid", "v3/pay/transactions/jsapi", "jsapi", func(m map[string]any) { m["payer"] = map[string]any{"openid": ""} }, "/payer/openid"},
		{"h5 without scene_info", "v3/pay/transactions/h5", "h5", func(m map[string]any) { delete(m, "scene_info") }, "/scene_info/payer_client_ip"},
		{"time_expire not RFC 3339", "v3/pay/transactions/native", "native", func(m map[string]any) { m["time_expire"] = "2026-03-14 12:00:00" }, "/time_expire"},
		{"time_expire past", "v3/pay/transactions/native", "native", func(m map[string]any) { m["time_expire"] = "2026-03-14T09:59:59+08:00" }, "/time_expire"},
		{"global without currency", "v3/global/transactions/native", "native", func(m map[string]any) { m["amount"] = map[string]any{"total": 100} }, "/amount/currency"},
		{"global mweb without scene_info", "v3/global/transactions/mweb", "mweb", func(m map[string]any) { delete(m, "scene_info") }, "/scene_info/payer_client_ip"},
		{"global jsapi without payer", "v3/global/transactions/jsapi", "jsapi", func(m map[string]any) { delete(m, "payer") }, "/payer/openid"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := orderBody(sim, tc.kind, fmt.Sprintf("VALID%03d", i), "https://merchant.example.com/notify")
			tc.change(body)
			_, err := place(t, b, tc.path, body)
			ae := apiError(t, err)
			assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
			assert.Equal(t, "PARAM_ERROR", ae.Code)
			assert.Equal(t, tc.field, gjson.GetBytes(ae.Detail, "field").String(), "detail %s", ae.Detail)
			assert.Equal(t, "body", gjson.GetBytes(ae.Detail, "location").String())
			assert.NotEmpty(t, gjson.GetBytes(ae.Detail, "issue").String())
		})
	}
	for raw, issue := range map[string]string{`[1]`: "the body is a JSON array, expected an object", `{"appid":`: "the body is not JSON: unexpected end of JSON input"} {
		_, err := b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{Body: []byte(raw)})
		ae := apiError(t, err)
		assert.Equal(t, "PARAM_ERROR", ae.Code, raw)
		assert.Equal(t, "/", gjson.GetBytes(ae.Detail, "field").String(), raw)
		assert.Equal(t, issue, gjson.GetBytes(ae.Detail, "issue").String(), raw)
	}
	assert.Empty(t, sim.Orders(), "a refused order is not kept")

	// Each endpoint takes the same order, valid, and answers as WeChat Pay.
	for i, tc := range []struct{ path, kind, key, prefix string }{
		{"v3/pay/transactions/jsapi", "jsapi", "prepay_id", "wx"},
		{"v3/pay/transactions/app", "app", "prepay_id", "wx"},
		{"v3/pay/transactions/native", "native", "code_url", "weixin://wxpay/bizpayurl?pr="},
		{"v3/pay/transactions/h5", "h5", "h5_url", "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx"},
		{"v3/global/transactions/jsapi", "jsapi", "prepay_id", "wx"},
		{"v3/global/transactions/app", "app", "prepay_id", "wx"},
		{"v3/global/transactions/native", "native", "code_url", "weixin://wxpay/bizpayurl?pr="},
		{"v3/global/transactions/mweb", "mweb", "h5_url", "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx"},
	} {
		resp, err := place(t, b, tc.path, orderBody(sim, tc.kind, fmt.Sprintf("GOOD%03d", i), "https://merchant.example.com/notify"))
		require.NoError(t, err, tc.path)
		assert.True(t, strings.HasPrefix(resp.Get(tc.key).String(), tc.prefix), "%s answered %s", tc.path, resp.String())
		assert.Len(t, resp.JSON().Map(), 1, "%s answered %s", tc.path, resp.String())
	}
	assert.Len(t, sim.Orders(), 8)
}

// TestSimOrderLimits: the limits WeChat Pay documents for an order and a
// refund: description at most 127 characters, notify_url at most 256 and
// without parameters, amounts WeChat's int (at most 2147483647 fen), a
// domestic currency CNY. Past a limit it is 400 PARAM_ERROR naming the
// field; at the limit it is taken.
func TestSimOrderLimits(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	const notify = "https://merchant.example.com/notify"
	long := func(n int) string { return notify + "/" + strings.Repeat("n", n-len(notify)-1) }
	cases := []struct {
		name   string
		path   string
		change func(body map[string]any)
		field  string // "" when the order is taken
	}{
		{"description 128 characters", "v3/pay/transactions/native", func(m map[string]any) { m["description"] = strings.Repeat("公", 128) }, "/description"},
		{"description 127 characters", "v3/pay/transactions/native", func(m map[string]any) { m["description"] = strings.Repeat("公", 127) }, ""},
		{"notify_url 257 characters", "v3/pay/transactions/native", func(m map[string]any) { m["notify_url"] = long(257) }, "/notify_url"},
		{"notify_url 256 characters", "v3/pay/transactions/native", func(m map[string]any) { m["notify_url"] = long(256) }, ""},
		{"notify_url with a query", "v3/pay/transactions/native", func(m map[string]any) { m["notify_url"] = notify + "?order=1" }, "/notify_url"},
		{"notify_url with an empty query", "v3/pay/transactions/native", func(m map[string]any) { m["notify_url"] = notify + "?" }, "/notify_url"},
		{"notify_url with a fragment", "v3/pay/transactions/native", func(m map[string]any) { m["notify_url"] = notify + "#top" }, "/notify_url"},
		{"total past int32", "v3/pay/transactions/native", func(m map[string]any) { m["amount"] = map[string]any{"total": int64(2147483648), "currency": "CNY"} }, "/amount/total"},
		{"total past int64", "v3/pay/transactions/native", func(m map[string]any) { m["amount"] = map[string]any{"total": json.Number("99999999999999999999")} }, "/amount/total"},
		{"total at int32", "v3/pay/transactions/native", func(m map[string]any) { m["amount"] = map[string]any{"total": int64(2147483647), "currency": "CNY"} }, ""},
		{"global total past int32", "v3/global/transactions/native", func(m map[string]any) { m["amount"] = map[string]any{"total": int64(2147483648), "currency": "HKD"} }, "/amount/total"},
		{"domestic currency USD", "v3/pay/transactions/native", func(m map[string]any) { m["amount"] = map[string]any{"total": 1, "currency": "USD"} }, "/amount/currency"},
		{"global currency HKD", "v3/global/transactions/native", func(m map[string]any) { m["amount"] = map[string]any{"total": 1, "currency": "HKD"} }, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			outTradeNo := fmt.Sprintf("LIMIT%03d", i)
			body := orderBody(sim, "native", outTradeNo, notify)
			tc.change(body)
			_, err := place(t, b, tc.path, body)
			_, kept := sim.Order(outTradeNo)
			if tc.field == "" {
				require.NoError(t, err)
				assert.True(t, kept)
				return
			}
			ae := apiError(t, err)
			assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
			assert.Equal(t, "PARAM_ERROR", ae.Code)
			assert.Equal(t, tc.field, gjson.GetBytes(ae.Detail, "field").String(), "detail %s", ae.Detail)
			assert.NotEmpty(t, gjson.GetBytes(ae.Detail, "issue").String())
			assert.False(t, kept, "a refused order is not kept")
		})
	}
	o, ok := sim.Order("LIMIT009")
	require.True(t, ok)
	assert.EqualValues(t, 2147483647, o.Total)

	// A refund's amounts are WeChat's int too, and its notify_url takes no
	// parameters either.
	paidOrder(t, sim, b, "LIMITPAID1", notify)
	for _, tc := range []struct {
		name   string
		change func(body map[string]any)
		field  string
	}{
		{"refund past int32", func(m map[string]any) {
			m["amount"] = map[string]any{"refund": int64(2147483648), "total": 100, "currency": "CNY"}
		}, "/amount/refund"},
		{"refund total past int32", func(m map[string]any) {
			m["amount"] = map[string]any{"refund": 1, "total": int64(4294967396), "currency": "CNY"}
		}, "/amount/total"},
		{"refund notify_url with a query", func(m map[string]any) { m["notify_url"] = notify + "?refund=1" }, "/notify_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := refundBody("LIMIT-RF", "LIMITPAID1", 1, 100, notify)
			tc.change(body)
			_, err := askRefund(t, b, body)
			ae := apiError(t, err)
			assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
			assert.Equal(t, "PARAM_ERROR", ae.Code, ae.Message)
			assert.Equal(t, tc.field, gjson.GetBytes(ae.Detail, "field").String(), "detail %s", ae.Detail)
		})
	}
	_, err := askRefund(t, b, refundBody("LIMIT-RF", "LIMITPAID1", 1, 100, notify))
	require.NoError(t, err, "the refund within the limits is taken")
}

// TestSimQueryRefusals: a query or close of an order that does not exist
// is 404 ORDER_NOT_EXIST; without the merchant's mchid it is PARAM_ERROR.
func TestSimQueryRefusals(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	_, err := place(t, b, "v3/pay/transactions/native", orderBody(sim, "native", "KNOWN0001", "https://merchant.example.com/notify"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name         string
		path, method string
		opts         wechatpay.Options
		status       int
		code, field  string
		location     string
	}{
		{"unknown out_trade_no", "v3/pay/transactions/out-trade-no/UNKNOWN0001", "GET", wechatpay.Options{Query: map[string][]string{"mchid": {sim.MchID}}}, 404, "ORDER_NOT_EXIST", "", ""},
		{"unknown transaction_id", "v3/pay/transactions/id/4200000000000000000000000001", "GET", wechatpay.Options{Query: map[string][]string{"mchid": {sim.MchID}}}, 404, "ORDER_NOT_EXIST", "", ""},
		{"global unknown", "v3/global/transactions/out-trade-no/UNKNOWN0001", "GET", wechatpay.Options{Query: map[string][]string{"mchid": {sim.MchID}}}, 404, "ORDER_NOT_EXIST", "", ""},
		{"domestic order on the global path", "v3/global/transactions/out-trade-no/KNOWN0001", "GET", wechatpay.Options{Query: map[string][]string{"mchid": {sim.MchID}}}, 404, "ORDER_NOT_EXIST", "", ""},
		{"no mchid", "v3/pay/transactions/out-trade-no/KNOWN0001", "GET", wechatpay.Options{}, 400, "PARAM_ERROR", "mchid", "query"},
		{"another mchid", "v3/pay/transactions/out-trade-no/KNOWN0001", "GET", wechatpay.Options{Query: map[string][]string{"mchid": {"1900000109"}}}, 400, "PARAM_ERROR", "mchid", "query"},
		{"global no mchid", "v3/global/transactions/out-trade-no/KNOWN0001", "GET", wechatpay.Options{}, 400, "PARAM_ERROR", "mchid", "query"},
		{"close unknown", "v3/pay/transactions/out-trade-no/UNKNOWN0001/close", "POST", wechatpay.Options{JSON: map[string]string{"mchid": sim.MchID}}, 404, "ORDER_NOT_EXIST", "", ""},
		{"close without mchid", "v3/pay/transactions/out-trade-no/KNOWN0001/close", "POST", wechatpay.Options{JSON: map[string]string{}}, 400, "PARAM_ERROR", "/mchid", "body"},
		{"global close unknown id", "v3/global/transactions/id/4200000000000000000000000001/close", "POST", wechatpay.Options{JSON: map[string]string{"mchid": sim.MchID}}, 404, "ORDER_NOT_EXIST", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.method == "GET" {
				_, err = b.Chain(tc.path).Get(t.Context(), tc.opts)
			} else {
				_, err = b.Chain(tc.path).Post(t.Context(), tc.opts)
			}
			ae := apiError(t, err)
			assert.Equal(t, tc.status, ae.StatusCode)
			assert.Equal(t, tc.code, ae.Code, ae.Message)
			assert.Equal(t, tc.field, gjson.GetBytes(ae.Detail, "field").String())
			assert.Equal(t, tc.location, gjson.GetBytes(ae.Detail, "location").String())
		})
	}
	o, ok := sim.Order("KNOWN0001")
	require.True(t, ok)
	assert.Equal(t, "NOTPAY", o.State, "a refused close changes nothing")
}

// TestSimOrderIdempotent: the same order again answers the same code_url;
// the same out_trade_no with other content, or on another endpoint, is
// INVALID_REQUEST.
func TestSimOrderIdempotent(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	body := orderBody(sim, "native", "IDEM00001", "https://merchant.example.com/notify")
	first, err := b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{JSON: body})
	require.NoError(t, err)
	codeURL := first.Get("code_url").String()
	require.NotEmpty(t, codeURL)

	// The same content, its keys in another order and spaced otherwise.
	raw, err := json.MarshalIndent(map[string]any{
		"notify_url": body["notify_url"], "amount": map[string]any{"currency": "CNY", "total": 100},
		"out_trade_no": "IDEM00001", "attach": body["attach"], "description": body["description"],
		"mchid": sim.MchID, "appid": simAppID,
	}, "", "  ")
	require.NoError(t, err)
	again, err := b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{Body: raw})
	require.NoError(t, err)
	assert.Equal(t, codeURL, again.Get("code_url").String())

	other := orderBody(sim, "native", "IDEM00001", "https://merchant.example.com/notify")
	other["amount"] = map[string]any{"total": 101, "currency": "CNY"}
	_, err = b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{JSON: other})
	ae := apiError(t, err)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Equal(t, "INVALID_REQUEST", ae.Code)

	_, err = b.V3().Pay().Transactions().App().Post(t.Context(), wechatpay.Options{JSON: body})
	assert.Equal(t, "INVALID_REQUEST", apiError(t, err).Code, "the same body on another endpoint is another order")

	o, ok := sim.Order("IDEM00001")
	require.True(t, ok)
	assert.EqualValues(t, 100, o.Total)
	assert.Equal(t, "NATIVE", o.TradeType)
	assert.Equal(t, codeURL, o.CodeURL)
	assert.Len(t, sim.Orders(), 1)
}

// TestSimOrderIdempotentDefaults: a field omitted, null or "" is the same
// content, and so is a domestic currency omitted or CNY (the default): the
// repeat answers the first order. A field given another value is still
// INVALID_REQUEST.
func TestSimOrderIdempotentDefaults(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	const notify = "https://merchant.example.com/notify"
	base := func(outTradeNo string) map[string]any {
		return map[string]any{
			"appid": simAppID, "mchid": sim.MchID, "description": "idempotent-defaults", "out_trade_no": outTradeNo,
			"notify_url": notify, "amount": map[string]any{"total": 1},
		}
	}
	for i, tc := range []struct {
		name          string
		first, second func(m map[string]any)
		same          bool
	}{
		{"currency omitted then CNY", func(map[string]any) {}, func(m map[string]any) { m["amount"] = map[string]any{"total": 1, "currency": "CNY"} }, true},
		{"currency CNY then omitted", func(m map[string]any) { m["amount"] = map[string]any{"total": 1, "currency": "CNY"} }, func(map[string]any) {}, true},
		{"currency empty then CNY", func(m map[string]any) { m["amount"] = map[string]any{"total": 1, "currency": ""} }, func(m map[string]any) { m["amount"] = map[string]any{"currency": "CNY", "total": 1} }, true},
		{"attach omitted then empty", func(map[string]any) {}, func(m map[string]any) { m["attach"] = "" }, true},
		{"attach null then omitted", func(m map[string]any) { m["attach"] = nil }, func(map[string]any) {}, true},
		{"time_expire omitted then null", func(map[string]any) {}, func(m map[string]any) { m["time_expire"] = nil }, true},
		{"scene_info empty then omitted", func(m map[string]any) { m["scene_info"] = map[string]any{"payer_client_ip": ""} }, func(map[string]any) {}, true},
		{"attach omitted then given", func(map[string]any) {}, func(m map[string]any) { m["attach"] = "attach-other-sentinel-91c2" }, false},
		{"total 1 then 2", func(map[string]any) {}, func(m map[string]any) { m["amount"] = map[string]any{"total": 2} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outTradeNo := fmt.Sprintf("IDEMDEF%03d", i)
			first, second := base(outTradeNo), base(outTradeNo)
			tc.first(first)
			tc.second(second)
			resp, err := place(t, b, "v3/pay/transactions/native", first)
			require.NoError(t, err)
			again, err := place(t, b, "v3/pay/transactions/native", second)
			if tc.same {
				require.NoError(t, err)
				assert.Equal(t, resp.Get("code_url").String(), again.Get("code_url").String())
			} else {
				assert.Equal(t, "INVALID_REQUEST", apiError(t, err).Code)
			}
			o, ok := sim.Order(outTradeNo)
			require.True(t, ok)
			assert.Equal(t, "CNY", o.Currency)
			assert.EqualValues(t, 1, o.Total)
		})
	}
}

// TestSimPayNotifies: an order paid by the simulated payer is notified,
// verified and decrypted by the notify package, with the transaction as
// the queries by out_trade_no and by transaction_id answer it; after that
// it cannot be placed, paid, declined or closed again.
func TestSimPayNotifies(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	_, err := b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{JSON: orderBody(sim, "native", "PAID00001", rc.URL)})
	require.NoError(t, err)
	sim.Advance(90 * time.Second)

	resp, err := queryOrder(t, b, sim.MchID, false, false, "PAID00001")
	require.NoError(t, err)
	assert.Equal(t, "NOTPAY", resp.Get("trade_state").String())
	assert.Equal(t, "订单未支付", resp.Get("trade_state_desc").String())
	assert.False(t, resp.Get("transaction_id").Exists(), resp.String())
	assert.False(t, resp.Get("success_time").Exists(), resp.String())

	require.NoError(t, sim.Pay("PAID00001"))
	got := rc.Got()
	require.Len(t, got, 1, "the first delivery is done when Pay returns")
	n := got[0]
	assert.Equal(t, "TRANSACTION.SUCCESS", n.EventType)
	assert.Equal(t, "transaction", n.Resource.OriginalType)
	assert.Equal(t, "支付成功", n.Summary)
	plain := gjson.ParseBytes(n.Plaintext)
	txID := plain.Get("transaction_id").String()
	assert.Len(t, txID, 28)
	assert.True(t, strings.HasPrefix(txID, "420020260314"), txID)
	for path, want := range map[string]any{
		"appid": simAppID, "mchid": sim.MchID, "out_trade_no": "PAID00001", "trade_type": "NATIVE",
		"trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS",
		"attach": "attach-sentinel-7f3a", "payer.openid": wechatpaytest.SimPayerOpenID,
		"success_time": "2026-03-14T10:01:30+08:00",
		"amount.total": int64(100), "amount.payer_total": int64(100), "amount.currency": "CNY", "amount.payer_currency": "CNY",
	} {
		if n, ok := want.(int64); ok {
			assert.Equal(t, n, plain.Get(path).Int(), path)
			continue
		}
		assert.Equal(t, want, plain.Get(path).String(), path)
	}

	byNo, err := queryOrder(t, b, sim.MchID, false, false, "PAID00001")
	require.NoError(t, err)
	assert.JSONEq(t, string(n.Plaintext), byNo.String(), "the query answers what was notified")
	byID, err := b.V3().Pay().Transactions().ID().Value(txID).Get(t.Context(), wechatpay.Options{Query: map[string][]string{"mchid": {sim.MchID}}})
	require.NoError(t, err)
	assert.JSONEq(t, string(n.Plaintext), byID.String())

	o, _ := sim.Order("PAID00001")
	assert.Equal(t, "SUCCESS", o.State)
	assert.Equal(t, txID, o.TransactionID)
	assert.True(t, simStart.Add(90*time.Second).Equal(o.Paid))

	for name, err := range map[string]error{"Pay": sim.Pay("PAID00001"), "Decline": sim.Decline("PAID00001")} {
		se := simError(t, err)
		assert.Equal(t, "ORDERPAID", se.Code, name)
		assert.Equal(t, http.StatusBadRequest, se.Status, name)
	}
	_, err = b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{JSON: orderBody(sim, "native", "PAID00001", rc.URL)})
	assert.Equal(t, "ORDERPAID", apiError(t, err).Code)
	_, err = b.V3().Pay().Transactions().OutTradeNo().Value("PAID00001").Close().Post(t.Context(), wechatpay.Options{JSON: map[string]string{"mchid": sim.MchID}})
	assert.Equal(t, "ORDERPAID", apiError(t, err).Code)
	assert.Len(t, sim.Notifications(), 1)
	se := simError(t, sim.Pay("NOSUCHORDER1"))
	assert.Equal(t, "ORDER_NOT_EXIST", se.Code)
	assert.Equal(t, http.StatusNotFound, se.Status)
}

// TestSimDecline: a declined order is PAYERROR, nothing is notified (WeChat
// Pay notifies only successes), and the payer can still pay it.
func TestSimDecline(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	_, err := b.V3().Pay().Transactions().Jsapi().Post(t.Context(), wechatpay.Options{JSON: orderBody(sim, "jsapi", "DECL00001", rc.URL)})
	require.NoError(t, err)
	require.NoError(t, sim.Decline("DECL00001"))
	sim.Advance(time.Minute)
	resp, err := queryOrder(t, b, sim.MchID, false, false, "DECL00001")
	require.NoError(t, err)
	assert.Equal(t, "PAYERROR", resp.Get("trade_state").String())
	assert.Equal(t, "JSAPI", resp.Get("trade_type").String())
	assert.False(t, resp.Get("transaction_id").Exists())
	assert.Empty(t, rc.Got())
	assert.Empty(t, sim.Notifications())

	require.NoError(t, sim.Pay("DECL00001"))
	resp, err = queryOrder(t, b, sim.MchID, false, false, "DECL00001")
	require.NoError(t, err)
	assert.Equal(t, "SUCCESS", resp.Get("trade_state").String())
	assert.Equal(t, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o-given", resp.Get("payer.openid").String(), "a jsapi order keeps its payer")
	require.Len(t, rc.Got(), 1)
}

// TestSimClose: a closed order is CLOSED, cannot be paid, declined or
// placed again; closing it again answers 204, as WeChat Pay does.
func TestSimClose(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	_, err := b.V3().Pay().Transactions().App().Post(t.Context(), wechatpay.Options{JSON: orderBody(sim, "app", "CLOSE0001", "https://merchant.example.com/notify")})
	require.NoError(t, err)
	sim.Advance(10 * time.Minute)
	for range 2 {
		resp, err := b.V3().Pay().Transactions().OutTradeNo().Value("CLOSE0001").Close().Post(t.Context(), wechatpay.Options{JSON: map[string]string{"mchid": sim.MchID}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusNoContent, resp.StatusCode())
	}
	resp, err := queryOrder(t, b, sim.MchID, false, false, "CLOSE0001")
	require.NoError(t, err)
	assert.Equal(t, "CLOSED", resp.Get("trade_state").String())
	assert.Equal(t, "订单已关闭", resp.Get("trade_state_desc").String())
	o, _ := sim.Order("CLOSE0001")
	assert.True(t, simStart.Add(10*time.Minute).Equal(o.Closed), "closed at %s", o.Closed)

	for name, err := range map[string]error{"Pay": sim.Pay("CLOSE0001"), "Decline": sim.Decline("CLOSE0001")} {
		se := simError(t, err)
		assert.Equal(t, "ORDER_CLOSED", se.Code, name)
		assert.Equal(t, http.StatusBadRequest, se.Status, name)
	}
	_, err = b.V3().Pay().Transactions().App().Post(t.Context(), wechatpay.Options{JSON: orderBody(sim, "app", "CLOSE0001", "https://merchant.example.com/notify")})
	assert.Equal(t, "ORDER_CLOSED", apiError(t, err).Code)
	assert.Empty(t, sim.Notifications())
}

// TestSimExpiry: an order unpaid at its time_expire is closed then, and one
// without time_expire two hours after it was placed.
func TestSimExpiry(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	withExpiry := orderBody(sim, "native", "EXPIRE001", "https://merchant.example.com/notify")
	withExpiry["time_expire"] = "2026-03-14T10:30:00+08:00"
	_, err := b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{JSON: withExpiry})
	require.NoError(t, err)
	_, err = b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{JSON: orderBody(sim, "native", "EXPIRE002", "https://merchant.example.com/notify")})
	require.NoError(t, err)

	state := func(no string) string {
		resp, err := queryOrder(t, b, sim.MchID, false, false, no)
		require.NoError(t, err)
		return resp.Get("trade_state").String()
	}
	sim.Advance(30*time.Minute - time.Second)
	assert.Equal(t, "NOTPAY", state("EXPIRE001"))
	sim.Advance(time.Second)
	assert.Equal(t, "CLOSED", state("EXPIRE001"))
	o, _ := sim.Order("EXPIRE001")
	assert.True(t, simStart.Add(30*time.Minute).Equal(o.Closed), "closed at %s", o.Closed)
	assert.Equal(t, "ORDER_CLOSED", simError(t, sim.Pay("EXPIRE001")).Code)

	assert.Equal(t, "NOTPAY", state("EXPIRE002"))
	sim.Advance(90*time.Minute - time.Second)
	assert.Equal(t, "NOTPAY", state("EXPIRE002"))
	sim.Advance(time.Second)
	assert.Equal(t, "CLOSED", state("EXPIRE002"))
	o, _ = sim.Order("EXPIRE002")
	assert.True(t, simStart.Add(wechatpaytest.DefaultOrderLifetime).Equal(o.Expires))
	assert.True(t, o.Expires.Equal(o.Closed))
	// The same order placed again once expired is closed, not a bad time_expire.
	_, err = b.V3().Pay().Transactions().Native().Post(t.Context(), wechatpay.Options{JSON: withExpiry})
	assert.Equal(t, "ORDER_CLOSED", apiError(t, err).Code)
}

// TestSimGlobalOrder: a global order goes to the Hong Kong host, is paid,
// queried and closed through the v3/global/ paths only.
func TestSimGlobalOrder(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	body := orderBody(sim, "native", "GLOBAL001", rc.URL)
	body["amount"] = map[string]any{"total": 250, "currency": "HKD"}
	body["trade_type"] = "NATIVE"
	resp, err := b.Chain("v3/global/transactions/native").Post(t.Context(), wechatpay.Options{JSON: body})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(resp.Get("code_url").String(), "weixin://wxpay/bizpayurl?pr="), resp.String())
	last, ok := sim.LastRequest()
	require.True(t, ok)
	assert.Equal(t, "apihk.mch.weixin.qq.com", last.Host)
	assert.Equal(t, "/v3/global/transactions/native", last.RequestURI)

	h5, err := b.V3().Global().Transactions().Mweb().Post(t.Context(), wechatpay.Options{JSON: orderBody(sim, "mweb", "GLOBAL002", rc.URL)})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h5.Get("h5_url").String(), "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx"), h5.String())

	require.NoError(t, sim.Pay("GLOBAL001"))
	require.Len(t, rc.Got(), 1)
	txID := gjson.GetBytes(rc.Got()[0].Plaintext, "transaction_id").String()
	require.Len(t, txID, 28)
	for _, byID := range []bool{false, true} {
		id := "GLOBAL001"
		if byID {
			id = txID
		}
		q, err := queryOrder(t, b, sim.MchID, true, byID, id)
		require.NoError(t, err)
		assert.Equal(t, "SUCCESS", q.Get("trade_state").String())
		assert.Equal(t, "HKD", q.Get("amount.currency").String())
		assert.EqualValues(t, 250, q.Get("amount.total").Int())
		last, _ := sim.LastRequest()
		assert.Equal(t, "apihk.mch.weixin.qq.com", last.Host)
		_, err = queryOrder(t, b, sim.MchID, false, byID, id)
		assert.Equal(t, "ORDER_NOT_EXIST", apiError(t, err).Code, "a global order is not on the domestic path")
	}
	_, err = b.Chain("v3/global/transactions/id/{transaction_id}/close").Post(t.Context(), wechatpay.Options{
		Path: map[string]string{"transaction_id": txID}, JSON: map[string]string{"mchid": sim.MchID}})
	assert.Equal(t, "ORDERPAID", apiError(t, err).Code)
	closed, err := b.Chain("v3/global/transactions/out-trade-no/{out_trade_no}/close").Post(t.Context(), wechatpay.Options{
		Path: map[string]string{"out_trade_no": "GLOBAL002"}, JSON: map[string]string{"mchid": sim.MchID}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, closed.StatusCode())
	o, _ := sim.Order("GLOBAL002")
	assert.Equal(t, "CLOSED", o.State)
	assert.True(t, o.Global)
	assert.Equal(t, "MWEB", o.TradeType)
}

// TestSimConcurrentOrders: many payers at once, each placing, paying,
// refunding and querying its own order (run with -race).
func TestSimConcurrentOrders(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			no := fmt.Sprintf("CONC%05d", i)
			if _, err := place(t, b, "v3/pay/transactions/native", orderBody(sim, "native", no, rc.URL)); err != nil {
				errs <- fmt.Errorf("%s: place: %w", no, err)
				return
			}
			if err := sim.Pay(no); err != nil {
				errs <- fmt.Errorf("%s: pay: %w", no, err)
				return
			}
			if _, err := b.V3().Refund().Domestic().Refunds().Post(t.Context(), wechatpay.Options{JSON: refundBody("R"+no, no, 40, 100, rc.URL)}); err != nil {
				errs <- fmt.Errorf("%s: refund: %w", no, err)
				return
			}
			resp, err := queryOrder(t, b, sim.MchID, false, false, no)
			if err != nil || resp.Get("trade_state").String() != "SUCCESS" {
				errs <- fmt.Errorf("%s: query: %v %v", no, err, resp)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sim.Advance(wechatpaytest.RefundSettleDelay)
	orders := sim.Orders()
	require.Len(t, orders, n)
	ids := map[string]bool{}
	for _, o := range orders {
		assert.Equal(t, "REFUND", o.State, o.OutTradeNo)
		assert.EqualValues(t, 40, o.Refunded, o.OutTradeNo)
		ids[o.TransactionID] = true
	}
	assert.Len(t, ids, n, "transaction ids are unique")
	events := map[string]int{}
	for _, got := range rc.Got() {
		events[got.EventType]++
	}
	assert.Equal(t, map[string]int{"TRANSACTION.SUCCESS": n, "REFUND.SUCCESS": n}, events)
}

// TestSimActionsNotStarted: the payer's and the refunds' actions on a
// Simulator that NewSimulator did not make say so instead of panicking.
func TestSimActionsNotStarted(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*wechatpaytest.Simulator{"nil": nil, "zero": {}} {
		for action, do := range map[string]func(string) error{
			"Pay": s.Pay, "Decline": s.Decline, "CompleteRefund": s.CompleteRefund, "FailRefund": s.FailRefund,
		} {
			err := do("ORDER0001")
			require.Error(t, err, "%s %s", name, action)
			assert.Equal(t, "wechatpaytest: the Simulator is not running: create it with NewSimulator", err.Error(), "%s %s", name, action)
		}
	}
}
