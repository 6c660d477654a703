package wechatpaytest

import (
	"testing"
	"time"
)

// The state the bill tests need, made directly: paid orders and settled
// refunds at given times, whatever places and pays orders through the API.

// seedPaid adds a JSAPI order of total fen paid at paid.
func seedPaid(t *testing.T, s *Simulator, outTradeNo, description string, total int64, paid time.Time) *Order {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &Order{
		AppID: "wxd678efh567hg6787", MchID: s.MchID, Description: description, OutTradeNo: outTradeNo,
		TransactionID: s.nextID("4200", 28), TradeType: "JSAPI", State: "SUCCESS", StateDesc: "支付成功",
		Total: total, Currency: "CNY", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		Created: paid.Add(-time.Minute), Expires: paid.Add(2 * time.Hour), Paid: paid,
	}
	s.orders[o.OutTradeNo] = o
	s.txByID[o.TransactionID] = o
	return o
}

// seedRefund adds a refund of amount fen of o, settled SUCCESS at settled.
func seedRefund(t *testing.T, s *Simulator, o *Order, outRefundNo string, amount int64, settled time.Time) *Refund {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &Refund{
		RefundID: s.nextID("50", 29), OutRefundNo: outRefundNo, TransactionID: o.TransactionID, OutTradeNo: o.OutTradeNo,
		Refund: amount, Total: o.Total, Currency: "CNY", Status: "SUCCESS", Channel: "ORIGINAL",
		Created: settled.Add(-time.Minute), Finished: settled,
	}
	s.refunds[r.OutRefundNo] = r
	s.refByID[r.RefundID] = r
	o.Refunded += amount
	o.State, o.StateDesc = "REFUND", "转入退款"
	return r
}
