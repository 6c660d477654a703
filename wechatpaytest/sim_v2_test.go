package wechatpaytest_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// micropay charges total fen to the payer whose code is authCode, through
// the library's APIv2 chain (signed, the answer's sign checked).
func micropay(b *wechatpay.Builder, sim *wechatpaytest.Simulator, outTradeNo, total, authCode string) (*wechatpay.Response, error) {
	return b.V2().Pay().Micropay().Post(context.Background(), wechatpay.Options{XML: map[string]string{
		"appid": "wxd678efh567hg6787", "mch_id": sim.MchID, "body": "便利店-饮料", "out_trade_no": outTradeNo,
		"total_fee": total, "spbill_create_ip": "203.0.113.7", "auth_code": authCode, "attach": "till-3",
	}})
}

// v2Err returns the *wechatpay.V2Error in err.
func v2Err(t *testing.T, err error) *wechatpay.V2Error {
	t.Helper()
	var ve *wechatpay.V2Error
	require.True(t, errors.As(err, &ve), "want a *V2Error, got %v", err)
	return ve
}

// TestSimV2Micropay: a scanned payer's code pays the order at once: a
// SUCCESS MICROPAY order in the simulation's state, with the answer's
// fields; the same out_trade_no again is ORDERPAID.
func TestSimV2Micropay(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	resp, err := micropay(b, sim, "v2-micropay-0001", "888", "134567890123456789")
	require.NoError(t, err)
	x := resp.XML()
	assert.Equal(t, "SUCCESS", x["result_code"])
	assert.Equal(t, "MICROPAY", x["trade_type"])
	assert.Equal(t, "888", x["total_fee"])
	assert.Equal(t, "888", x["cash_fee"])
	assert.Equal(t, "CNY", x["fee_type"])
	assert.Equal(t, "till-3", x["attach"])
	assert.Equal(t, "20260314100000", x["time_end"], "yyyyMMddHHmmss in +08:00")
	assert.Len(t, x["transaction_id"], 28)
	assert.NotEmpty(t, x["openid"])

	o, ok := sim.Order("v2-micropay-0001")
	require.True(t, ok)
	assert.Equal(t, "SUCCESS", o.State)
	assert.Equal(t, "MICROPAY", o.TradeType)
	assert.EqualValues(t, 888, o.Total)
	assert.Equal(t, x["transaction_id"], o.TransactionID)
	assert.Equal(t, x["openid"], o.OpenID)
	assert.True(t, simStart.Equal(o.Paid))

	_, err = micropay(b, sim, "v2-micropay-0001", "888", "134567890123456789")
	ve := v2Err(t, err)
	assert.Equal(t, "FAIL", ve.ResultCode)
	assert.Equal(t, "ORDERPAID", ve.ErrCode)
}

// TestSimV2MicropayRefusals: a code that is not a WeChat Pay payment code
// (18 digits starting 10 to 15) is AUTH_CODE_INVALID, a missing field
// PARAM_ERROR; neither makes an order.
func TestSimV2MicropayRefusals(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	tests := []struct {
		name, authCode, total, code string
	}{
		{"starts 16", "164567890123456789", "100", "AUTH_CODE_INVALID"},
		{"starts 09", "094567890123456789", "100", "AUTH_CODE_INVALID"},
		{"17 digits", "13456789012345678", "100", "AUTH_CODE_INVALID"},
		{"a letter", "13456789012345678x", "100", "AUTH_CODE_INVALID"},
		{"an Alipay code", "284567890123456789", "100", "AUTH_CODE_INVALID"},
		{"no auth_code", "", "100", "PARAM_ERROR"},
		{"a total of zero", "104567890123456789", "0", "PARAM_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			no := "v2-refused-" + tt.name
			_, err := micropay(b, sim, no, tt.total, tt.authCode)
			assert.Equal(t, tt.code, v2Err(t, err).ErrCode)
			_, ok := sim.Order(no)
			assert.False(t, ok)
		})
	}
	_, err := micropay(b, sim, "v2-edge-15", "1", "154567890123456789")
	assert.NoError(t, err, "15 is the last WeChat Pay prefix")
}

// TestSimV2OrderQuery: orderquery answers an order by out_trade_no and by
// transaction_id, and ORDERNOTEXIST for one the simulation does not have.
func TestSimV2OrderQuery(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	paid, err := micropay(b, sim, "v2-query-0001", "250", "104567890123456789")
	require.NoError(t, err)
	query := func(params map[string]string) (*wechatpay.Response, error) {
		params["appid"], params["mch_id"] = "wxd678efh567hg6787", sim.MchID
		return b.V2().Pay().Orderquery().Post(context.Background(), wechatpay.Options{XML: params})
	}
	for name, params := range map[string]map[string]string{
		"by out_trade_no":   {"out_trade_no": "v2-query-0001"},
		"by transaction_id": {"transaction_id": paid.XML()["transaction_id"]},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := query(params)
			require.NoError(t, err)
			x := resp.XML()
			assert.Equal(t, "SUCCESS", x["trade_state"])
			assert.Equal(t, "v2-query-0001", x["out_trade_no"])
			assert.Equal(t, paid.XML()["transaction_id"], x["transaction_id"])
			assert.Equal(t, "250", x["total_fee"])
			assert.Equal(t, "MICROPAY", x["trade_type"])
			assert.Equal(t, "20260314100000", x["time_end"])
		})
	}
	_, err = query(map[string]string{"out_trade_no": "v2-query-never-placed"})
	ve := v2Err(t, err)
	assert.Equal(t, "FAIL", ve.ResultCode)
	assert.Equal(t, "ORDERNOTEXIST", ve.ErrCode)
	_, err = query(map[string]string{})
	assert.Equal(t, "PARAM_ERROR", v2Err(t, err).ErrCode)
}

// TestSimV2Refund: over mutual TLS, a refund of a micropay order is
// PROCESSING, then SUCCESS; the order is REFUND; asking again for the same
// refund answers it again, for more than is left NOTENOUGH; the refund is
// in the day's bill.
func TestSimV2Refund(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t, wechatpaytest.WithTLS())
	ctx := context.Background()
	_, err := micropay(b, sim, "v2-refund-0001", "1000", "114567890123456789")
	require.NoError(t, err)
	refund := func(outRefundNo, fee string) (*wechatpay.Response, error) {
		return b.V2().Secapi().Pay().Refund().Post(ctx, wechatpay.Options{XML: map[string]string{
			"appid": "wxd678efh567hg6787", "mch_id": sim.MchID, "out_trade_no": "v2-refund-0001",
			"out_refund_no": outRefundNo, "total_fee": "1000", "refund_fee": fee,
		}})
	}
	resp, err := refund("v2-refund-R1", "300")
	require.NoError(t, err)
	x := resp.XML()
	assert.Equal(t, "SUCCESS", x["result_code"])
	assert.Equal(t, "300", x["refund_fee"])
	assert.Equal(t, "1000", x["total_fee"])
	assert.NotEmpty(t, x["refund_id"])
	last, _ := sim.LastRequest()
	require.NotNil(t, last.ClientCertificate, "the refund went over mutual TLS")

	r, ok := sim.Refund("v2-refund-R1")
	require.True(t, ok)
	assert.Equal(t, "PROCESSING", r.Status)
	assert.Equal(t, x["refund_id"], r.RefundID)

	again, err := refund("v2-refund-R1", "300")
	require.NoError(t, err)
	assert.Equal(t, x["refund_id"], again.XML()["refund_id"], "the same refund asked for again")
	_, err = refund("v2-refund-R1", "301")
	assert.Equal(t, "REFUND_FEE_MISMATCH", v2Err(t, err).ErrCode)
	_, err = refund("v2-refund-R2", "701")
	assert.Equal(t, "NOTENOUGH", v2Err(t, err).ErrCode, "700 is left while R1 is PROCESSING")

	sim.Advance(5 * time.Second)
	r, _ = sim.Refund("v2-refund-R1")
	assert.Equal(t, "SUCCESS", r.Status)
	assert.True(t, simStart.Add(5*time.Second).Equal(r.Finished))
	o, _ := sim.Order("v2-refund-0001")
	assert.Equal(t, "REFUND", o.State)
	assert.EqualValues(t, 300, o.Refunded)

	q, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{
		"appid": "wxd678efh567hg6787", "mch_id": sim.MchID, "out_trade_no": "v2-refund-0001"}})
	require.NoError(t, err)
	assert.Equal(t, "REFUND", q.XML()["trade_state"])

	_, err = refund("v2-refund-R2", "700")
	require.NoError(t, err, "the rest can be refunded")
	bill, err := sim.TradeBill("2026-03-14", "REFUND")
	require.NoError(t, err)
	assert.Contains(t, string(bill), "`v2-refund-R1,`3.00,", "the settled refund is in the day's bill")
	assert.NotContains(t, string(bill), "v2-refund-R2", "a PROCESSING refund is not billed")
}

// TestSimV2DownloadBill: pay/downloadbill serves the day's trade bill,
// the same file as TradeBill, plain or gzip; a day without one is the
// XML failure "No Bill Exist".
func TestSimV2DownloadBill(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	ctx := context.Background()
	_, err := micropay(b, sim, "v2-bill-0001", "1999", "124567890123456789")
	require.NoError(t, err)
	sim.Advance(time.Hour)
	_, err = micropay(b, sim, "v2-bill-0002", "1", "124567890123456780")
	require.NoError(t, err)
	want, err := sim.TradeBill("2026-03-14", "ALL")
	require.NoError(t, err)
	assert.Contains(t, string(want), "`v2-bill-0002,")

	for _, tar := range []string{"", "GZIP"} {
		t.Run("tar_type "+tar, func(t *testing.T) {
			var got bytes.Buffer
			_, err := b.V2().Pay().Downloadbill().Post(ctx, wechatpay.Options{
				XML:  map[string]string{"appid": "wxd678efh567hg6787", "mch_id": sim.MchID, "bill_date": "20260314", "bill_type": "ALL", "tar_type": tar},
				Sink: &wechatpay.Sink{Writer: &got, Gunzip: true},
			})
			require.NoError(t, err)
			assert.Equal(t, string(want), got.String())
		})
	}

	_, err = b.V2().Pay().Downloadbill().Post(ctx, wechatpay.Options{
		XML: map[string]string{"appid": "wxd678efh567hg6787", "mch_id": sim.MchID, "bill_date": "20260313", "bill_type": "ALL"},
	})
	ve := v2Err(t, err)
	assert.Equal(t, "FAIL", ve.ReturnCode)
	assert.Equal(t, "No Bill Exist", ve.ReturnMsg)
}
