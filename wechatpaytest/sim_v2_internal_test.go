package wechatpaytest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
)

// TestSimV2SeesV3Orders: APIv2 works on the same state as APIv3: an
// unpaid JSAPI order is NOTPAY to orderquery (no transaction_id, no
// time_end), a paid one SUCCESS; micropay refuses their out_trade_no.
func TestSimV2SeesV3Orders(t *testing.T) {
	t.Parallel()
	s := NewSimulator(WithVirtualClock(internalStart))
	t.Cleanup(s.Close)
	b, err := wechatpay.NewBuilder(s.Config())
	require.NoError(t, err)
	seedPaid(t, s, "v3-paid-0001", "年卡", 2000, internalStart.Add(-time.Minute))
	s.mu.Lock()
	s.orders["v3-unpaid-0001"] = &Order{AppID: "wxd678efh567hg6787", MchID: s.MchID, Description: "月卡",
		OutTradeNo: "v3-unpaid-0001", TransactionID: s.nextID("4200", 28), TradeType: "JSAPI", State: "NOTPAY",
		StateDesc: "未支付", Total: 300, Currency: "CNY", Created: internalStart, Expires: internalStart.Add(2 * time.Hour)}
	s.mu.Unlock()
	ctx := context.Background()
	query := func(no string) map[string]string {
		resp, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{
			"appid": "wxd678efh567hg6787", "mch_id": s.MchID, "out_trade_no": no}})
		require.NoError(t, err)
		return resp.XML()
	}
	x := query("v3-unpaid-0001")
	assert.Equal(t, "NOTPAY", x["trade_state"])
	assert.Equal(t, "JSAPI", x["trade_type"])
	assert.Equal(t, "300", x["total_fee"])
	assert.NotContains(t, x, "transaction_id")
	assert.NotContains(t, x, "time_end")
	x = query("v3-paid-0001")
	assert.Equal(t, "SUCCESS", x["trade_state"])
	assert.Equal(t, "20260314095900", x["time_end"])

	for no, code := range map[string]string{"v3-unpaid-0001": "OUT_TRADE_NO_USED", "v3-paid-0001": "ORDERPAID"} {
		_, err := b.V2().Pay().Micropay().Post(ctx, wechatpay.Options{XML: map[string]string{
			"appid": "wxd678efh567hg6787", "mch_id": s.MchID, "body": "x", "out_trade_no": no,
			"total_fee": "1", "spbill_create_ip": "203.0.113.7", "auth_code": "134567890123456789"}})
		var ve *wechatpay.V2Error
		require.True(t, errors.As(err, &ve), "%v", err)
		assert.Equal(t, code, ve.ErrCode, no)
	}
}
