package wechatpaytest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// refundBody asks for refund fen of the order outTradeNo of total fen.
func refundBody(outRefundNo, outTradeNo string, refund, total int, notifyURL string) map[string]any {
	return map[string]any{
		"out_trade_no": outTradeNo, "out_refund_no": outRefundNo, "reason": "商品已售完",
		"notify_url": notifyURL, "amount": map[string]any{"refund": refund, "total": total, "currency": "CNY"},
	}
}

// paidOrder places a native order of 100 fen and pays it.
func paidOrder(t *testing.T, sim *wechatpaytest.Simulator, b *wechatpay.Builder, outTradeNo, notifyURL string) {
	t.Helper()
	_, err := place(t, b, "v3/pay/transactions/native", orderBody(sim, "native", outTradeNo, notifyURL))
	require.NoError(t, err)
	require.NoError(t, sim.Pay(outTradeNo))
}

// askRefund posts a domestic refund.
func askRefund(t *testing.T, b *wechatpay.Builder, body map[string]any) (*wechatpay.Response, error) {
	t.Helper()
	return b.V3().Refund().Domestic().Refunds().Post(t.Context(), wechatpay.Options{JSON: body})
}

// queryRefund queries a domestic refund.
func queryRefund(t *testing.T, b *wechatpay.Builder, outRefundNo string) gjson.Result {
	t.Helper()
	resp, err := b.V3().Refund().Domestic().Refunds().Value(outRefundNo).Get(t.Context())
	require.NoError(t, err)
	return resp.JSON()
}

// TestSimRefundSettles: a refund is PROCESSING, settles SUCCESS
// RefundSettleDelay later, notifies REFUND.SUCCESS, and the order is
// REFUND; a query and the same request again answer it as it is.
func TestSimRefundSettles(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	paidOrder(t, sim, b, "REFUND001", rc.URL)
	require.Len(t, rc.Got(), 1)
	txID := gjson.GetBytes(rc.Got()[0].Plaintext, "transaction_id").String()

	body := refundBody("RF-001", "REFUND001", 30, 100, rc.URL)
	resp, err := askRefund(t, b, body)
	require.NoError(t, err)
	refundID := resp.Get("refund_id").String()
	assert.Len(t, refundID, 29)
	assert.True(t, strings.HasPrefix(refundID, "5020260314"), refundID)
	for path, want := range map[string]string{
		"out_refund_no": "RF-001", "out_trade_no": "REFUND001", "transaction_id": txID, "status": "PROCESSING",
		"channel": "ORIGINAL", "create_time": "2026-03-14T10:00:00+08:00", "amount.currency": "CNY",
	} {
		assert.Equal(t, want, resp.Get(path).String(), path)
	}
	assert.EqualValues(t, 30, resp.Get("amount.refund").Int())
	assert.EqualValues(t, 100, resp.Get("amount.total").Int())
	assert.False(t, resp.Get("success_time").Exists())

	sim.Advance(wechatpaytest.RefundSettleDelay - time.Second)
	assert.Equal(t, "PROCESSING", queryRefund(t, b, "RF-001").Get("status").String())
	assert.Len(t, rc.Got(), 1)
	sim.Advance(time.Second)
	q := queryRefund(t, b, "RF-001")
	assert.Equal(t, "SUCCESS", q.Get("status").String())
	assert.Equal(t, "2026-03-14T10:00:05+08:00", q.Get("success_time").String())
	assert.Equal(t, refundID, q.Get("refund_id").String())

	got := rc.Got()
	require.Len(t, got, 2)
	n := got[1]
	assert.Equal(t, "REFUND.SUCCESS", n.EventType)
	assert.Equal(t, "refund", n.Resource.OriginalType)
	plain := gjson.ParseBytes(n.Plaintext)
	for path, want := range map[string]string{
		"mchid": sim.MchID, "out_trade_no": "REFUND001", "transaction_id": txID, "out_refund_no": "RF-001",
		"refund_id": refundID, "refund_status": "SUCCESS", "success_time": "2026-03-14T10:00:05+08:00",
		"user_received_account": "支付用户零钱",
	} {
		assert.Equal(t, want, plain.Get(path).String(), path)
	}
	for path, want := range map[string]int64{"amount.total": 100, "amount.refund": 30, "amount.payer_total": 100, "amount.payer_refund": 30} {
		assert.Equal(t, want, plain.Get(path).Int(), path)
	}

	o, _ := sim.Order("REFUND001")
	assert.Equal(t, "REFUND", o.State)
	assert.EqualValues(t, 30, o.Refunded)
	order, err := queryOrder(t, b, sim.MchID, false, false, "REFUND001")
	require.NoError(t, err)
	assert.Equal(t, "REFUND", order.Get("trade_state").String())

	again, err := askRefund(t, b, body)
	require.NoError(t, err)
	assert.Equal(t, refundID, again.Get("refund_id").String())
	assert.Equal(t, "SUCCESS", again.Get("status").String())
	r, ok := sim.Refund("RF-001")
	require.True(t, ok)
	assert.Equal(t, "SUCCESS", r.Status)
	assert.True(t, simStart.Add(wechatpaytest.RefundSettleDelay).Equal(r.Finished))
	assert.Len(t, sim.Refunds(), 1)
	assert.Equal(t, "INVALID_REQUEST", simError(t, sim.CompleteRefund("RF-001")).Code)
}

// TestSimRefundFail: FailRefund settles a PROCESSING refund ABNORMAL and
// notifies REFUND.ABNORMAL; it no longer settles on its own, and its
// amount can be refunded again.
func TestSimRefundFail(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	paidOrder(t, sim, b, "ABNORMAL1", rc.URL)
	_, err := askRefund(t, b, refundBody("RF-ABN-1", "ABNORMAL1", 100, 100, rc.URL))
	require.NoError(t, err)
	require.NoError(t, sim.FailRefund("RF-ABN-1"))

	got := rc.Got()
	require.Len(t, got, 2)
	assert.Equal(t, "REFUND.ABNORMAL", got[1].EventType)
	plain := gjson.ParseBytes(got[1].Plaintext)
	assert.Equal(t, "ABNORMAL", plain.Get("refund_status").String())
	assert.False(t, plain.Get("success_time").Exists(), got[1].Plaintext)
	assert.Equal(t, "ABNORMAL", queryRefund(t, b, "RF-ABN-1").Get("status").String())

	sim.Advance(time.Minute)
	assert.Equal(t, "ABNORMAL", queryRefund(t, b, "RF-ABN-1").Get("status").String())
	assert.Len(t, rc.Got(), 2)
	o, _ := sim.Order("ABNORMAL1")
	assert.Equal(t, "SUCCESS", o.State)
	assert.Zero(t, o.Refunded)
	for name, err := range map[string]error{"FailRefund": sim.FailRefund("RF-ABN-1"), "CompleteRefund": sim.CompleteRefund("RF-ABN-1")} {
		se := simError(t, err)
		assert.Equal(t, "INVALID_REQUEST", se.Code, name)
		assert.Contains(t, se.Message, "ABNORMAL", name)
	}
	assert.Equal(t, "RESOURCE_NOT_EXISTS", simError(t, sim.CompleteRefund("RF-NONE-1")).Code)

	_, err = askRefund(t, b, refundBody("RF-ABN-2", "ABNORMAL1", 100, 100, rc.URL))
	require.NoError(t, err, "an ABNORMAL refund's amount can be refunded again")
	require.NoError(t, sim.CompleteRefund("RF-ABN-2"))
	assert.Equal(t, "REFUND.SUCCESS", rc.Got()[2].EventType)
	o, _ = sim.Order("ABNORMAL1")
	assert.EqualValues(t, 100, o.Refunded)
}

// TestSimRefundNotEnough: refunds PROCESSING and SUCCESS count against what
// is left to refund; beyond it is 403 NOT_ENOUGH.
func TestSimRefundNotEnough(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	paidOrder(t, sim, b, "NOTENOUGH", "https://merchant.example.com/notify")
	_, err := askRefund(t, b, refundBody("RF-NE-1", "NOTENOUGH", 60, 100, ""))
	require.NoError(t, err)
	_, err = askRefund(t, b, refundBody("RF-NE-2", "NOTENOUGH", 41, 100, ""))
	ae := apiError(t, err)
	assert.Equal(t, http.StatusForbidden, ae.StatusCode)
	assert.Equal(t, "NOT_ENOUGH", ae.Code)
	assert.Contains(t, ae.Message, "40 left")

	sim.Advance(wechatpaytest.RefundSettleDelay)
	_, err = askRefund(t, b, refundBody("RF-NE-2", "NOTENOUGH", 41, 100, ""))
	assert.Equal(t, "NOT_ENOUGH", apiError(t, err).Code, "still 40 left once the first settled")
	_, err = askRefund(t, b, refundBody("RF-NE-3", "NOTENOUGH", 40, 100, ""))
	require.NoError(t, err)
	_, err = askRefund(t, b, refundBody("RF-NE-4", "NOTENOUGH", 1, 100, ""))
	assert.Equal(t, "NOT_ENOUGH", apiError(t, err).Code)
	sim.Advance(wechatpaytest.RefundSettleDelay)
	o, _ := sim.Order("NOTENOUGH")
	assert.EqualValues(t, 100, o.Refunded)
	assert.Len(t, sim.Refunds(), 2)
	assert.Len(t, sim.Notifications(), 1, "no notify_url, no refund notification")
}

// TestSimRefundRefusals: refunds of orders that do not exist or are not
// paid, with the wrong total or missing fields, and an out_refund_no again
// with other content, are refused with WeChat Pay's codes.
func TestSimRefundRefusals(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	paidOrder(t, sim, b, "REFUSED01", "https://merchant.example.com/notify")
	_, err := place(t, b, "v3/pay/transactions/native", orderBody(sim, "native", "UNPAID001", "https://merchant.example.com/notify"))
	require.NoError(t, err)
	_, err = askRefund(t, b, refundBody("RF-TAKEN", "REFUSED01", 10, 100, ""))
	require.NoError(t, err)

	for _, tc := range []struct {
		name   string
		change func(m map[string]any)
		status int
		code   string
		field  string
	}{
		{"unknown order", func(m map[string]any) { m["out_trade_no"] = "NOSUCHORDER" }, 404, "RESOURCE_NOT_EXISTS", ""},
		{"unknown transaction_id", func(m map[string]any) {
			delete(m, "out_trade_no")
			m["transaction_id"] = "4200000000000000000000000001"
		}, 404, "RESOURCE_NOT_EXISTS", ""},
		{"unpaid order", func(m map[string]any) { m["out_trade_no"] = "UNPAID001" }, 400, "INVALID_REQUEST", ""},
		{"total not the order's", func(m map[string]any) { m["amount"] = map[string]any{"refund": 10, "total": 99, "currency": "CNY"} }, 400, "PARAM_ERROR", "/amount/total"},
		{"currency not the order's", func(m map[string]any) { m["amount"] = map[string]any{"refund": 10, "total": 100, "currency": "HKD"} }, 400, "PARAM_ERROR", "/amount/currency"},
		{"no order named", func(m map[string]any) { delete(m, "out_trade_no") }, 400, "PARAM_ERROR", "/out_trade_no"},
		{"no out_refund_no", func(m map[string]any) { delete(m, "out_refund_no") }, 400, "PARAM_ERROR", "/out_refund_no"},
		{"out_refund_no with a space", func(m map[string]any) { m["out_refund_no"] = "RF 1" }, 400, "PARAM_ERROR", "/out_refund_no"},
		{"no amount", func(m map[string]any) { delete(m, "amount") }, 400, "PARAM_ERROR", "/amount/refund"},
		{"refund zero", func(m map[string]any) { m["amount"] = map[string]any{"refund": 0, "total": 100, "currency": "CNY"} }, 400, "PARAM_ERROR", "/amount/refund"},
		{"no total", func(m map[string]any) { m["amount"] = map[string]any{"refund": 10, "currency": "CNY"} }, 400, "PARAM_ERROR", "/amount/total"},
		{"no currency", func(m map[string]any) { m["amount"] = map[string]any{"refund": 10, "total": 100} }, 400, "PARAM_ERROR", "/amount/currency"},
		{"notify_url not a URL", func(m map[string]any) { m["notify_url"] = "merchant.example.com" }, 400, "PARAM_ERROR", "/notify_url"},
		{"taken out_refund_no, other amount", func(m map[string]any) {
			m["out_refund_no"] = "RF-TAKEN"
			m["amount"] = map[string]any{"refund": 11, "total": 100, "currency": "CNY"}
		}, 400, "INVALID_REQUEST", ""},
		{"taken out_refund_no, other reason", func(m map[string]any) { m["out_refund_no"] = "RF-TAKEN"; m["reason"] = "another-reason" }, 400, "INVALID_REQUEST", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := refundBody("RF-NEW", "REFUSED01", 10, 100, "")
			delete(body, "notify_url")
			tc.change(body)
			_, err := askRefund(t, b, body)
			ae := apiError(t, err)
			assert.Equal(t, tc.status, ae.StatusCode)
			assert.Equal(t, tc.code, ae.Code, ae.Message)
			assert.Equal(t, tc.field, gjson.GetBytes(ae.Detail, "field").String(), "detail %s", ae.Detail)
		})
	}
	assert.Len(t, sim.Refunds(), 1, "a refused refund is not kept")
	_, err = b.V3().Refund().Domestic().Refunds().Value("RF-NONE").Get(t.Context())
	ae := apiError(t, err)
	assert.Equal(t, http.StatusNotFound, ae.StatusCode)
	assert.Equal(t, "RESOURCE_NOT_EXISTS", ae.Code)

	// By transaction_id alone, the same refund.
	o, _ := sim.Order("REFUSED01")
	resp, err := askRefund(t, b, map[string]any{"transaction_id": o.TransactionID, "out_refund_no": "RF-TAKEN", "reason": "商品已售完",
		"amount": map[string]any{"refund": 10, "total": 100, "currency": "CNY"}})
	require.NoError(t, err)
	r, _ := sim.Refund("RF-TAKEN")
	assert.Equal(t, r.RefundID, resp.Get("refund_id").String())
}

// TestSimGlobalRefund: a global order is refunded through v3/global/refunds
// on the Hong Kong host, and queried by out_refund_no and by id.
func TestSimGlobalRefund(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	body := orderBody(sim, "app", "GREFUND01", rc.URL)
	body["amount"] = map[string]any{"total": 500, "currency": "HKD"}
	_, err := b.Chain("v3/global/transactions/app").Post(t.Context(), wechatpay.Options{JSON: body})
	require.NoError(t, err)
	require.NoError(t, sim.Pay("GREFUND01"))
	o, _ := sim.Order("GREFUND01")

	refund := map[string]any{"mchid": sim.MchID, "appid": simAppID, "transaction_id": o.TransactionID, "out_refund_no": "GRF-001",
		"notify_url": rc.URL, "amount": map[string]any{"refund": 200, "total": 500, "currency": "HKD"}}
	_, err = askRefund(t, b, refund)
	assert.Equal(t, "RESOURCE_NOT_EXISTS", apiError(t, err).Code, "a global order is not refunded on the domestic path")
	noMchID := map[string]any{}
	for k, v := range refund {
		noMchID[k] = v
	}
	delete(noMchID, "mchid")
	_, err = b.Chain("v3/global/refunds").Post(t.Context(), wechatpay.Options{JSON: noMchID})
	assert.Equal(t, "/mchid", gjson.GetBytes(apiError(t, err).Detail, "field").String())

	resp, err := b.Chain("v3/global/refunds").Post(t.Context(), wechatpay.Options{JSON: refund})
	require.NoError(t, err)
	last, _ := sim.LastRequest()
	assert.Equal(t, "apihk.mch.weixin.qq.com", last.Host)
	assert.Equal(t, "PROCESSING", resp.Get("status").String())
	refundID := resp.Get("refund_id").String()
	assert.Equal(t, refundID, resp.Get("id").String())

	require.NoError(t, sim.CompleteRefund("GRF-001"))
	for path, value := range map[string]string{"out-refund-no/{v}": "GRF-001", "id/{v}": refundID} {
		q, err := b.Chain("v3/global/refunds/"+path).Get(t.Context(), wechatpay.Options{
			Path: map[string]string{"v": value}, Query: map[string][]string{"mchid": {sim.MchID}}})
		require.NoError(t, err, path)
		assert.Equal(t, "SUCCESS", q.Get("status").String(), path)
		assert.Equal(t, "GRF-001", q.Get("out_refund_no").String(), path)
		assert.EqualValues(t, 200, q.Get("amount.refund").Int(), path)
		assert.Equal(t, "HKD", q.Get("amount.currency").String(), path)
		_, err = b.Chain("v3/global/refunds/"+path).Get(t.Context(), wechatpay.Options{Path: map[string]string{"v": value}})
		assert.Equal(t, "PARAM_ERROR", apiError(t, err).Code, path)
	}
	_, err = b.V3().Refund().Domestic().Refunds().Value("GRF-001").Get(t.Context())
	assert.Equal(t, "RESOURCE_NOT_EXISTS", apiError(t, err).Code)
	got := rc.Got()
	require.Len(t, got, 2)
	assert.Equal(t, "REFUND.SUCCESS", got[1].EventType)
	assert.EqualValues(t, 200, gjson.GetBytes(got[1].Plaintext, "amount.refund").Int())
}

// TestSimMachineClock: on the machine's clock (no WithVirtualClock), an
// order expires and a refund settles once Advance moves the clock past
// their time.
func TestSimMachineClock(t *testing.T) {
	t.Parallel()
	sim := wechatpaytest.NewSimulator()
	t.Cleanup(sim.Close)
	b, err := wechatpay.NewBuilder(sim.Config())
	require.NoError(t, err)
	rc := newReceiver(t, sim, b, nil)
	paidOrder(t, sim, b, "MACHINE01", rc.URL)
	_, err = place(t, b, "v3/pay/transactions/native", orderBody(sim, "native", "MACHINE02", rc.URL))
	require.NoError(t, err)
	_, err = askRefund(t, b, refundBody("RF-MACHINE", "MACHINE01", 100, 100, rc.URL))
	require.NoError(t, err)

	sim.Advance(wechatpaytest.DefaultOrderLifetime)
	r, _ := sim.Refund("RF-MACHINE")
	assert.Equal(t, "SUCCESS", r.Status)
	o, _ := sim.Order("MACHINE02")
	assert.Equal(t, "CLOSED", o.State)
	events := []string{}
	for _, n := range rc.Got() {
		events = append(events, n.EventType)
	}
	assert.Equal(t, []string{"TRANSACTION.SUCCESS", "REFUND.SUCCESS"}, events)
}
