package wechatpaytest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"time"
)

// APIv2 on the simulation's state: a micropay (the payer's code scanned at
// the till) is a paid MICROPAY order at once; orderquery answers any order,
// APIv3 ones too; a refund (mutual TLS: the Simulator needs WithTLS) is a
// Refund like the APIv3 ones, PROCESSING, then SUCCESS; downloadbill
// serves the trade bill of v3/bill/tradebill. Refusals are result_code
// FAIL with WeChat Pay's err_code, as APIv2 answers them.

// v2Time writes t as APIv2 does (time_end): yyyyMMddHHmmss in +08:00.
func v2Time(t time.Time) string { return t.In(cst).Format("20060102150405") }

// v2Fail is an APIv2 business failure: result_code FAIL with err_code.
func v2Fail(code, description string) map[string]string {
	return map[string]string{"result_code": "FAIL", "err_code": code, "err_code_des": description}
}

// v2Missing returns the first of names params lacks, or "".
func v2Missing(params map[string]string, names ...string) string {
	for _, n := range names {
		if params[n] == "" {
			return n
		}
	}
	return ""
}

// v2Fee reads a fee in fen: a positive integer.
func v2Fee(v string) (int64, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n > 0
}

// validAuthCode reports whether code is a payer's WeChat Pay code: 18
// digits starting 10 to 15.
func validAuthCode(code string) bool {
	if len(code) != 18 || code[0] != '1' || code[1] < '0' || code[1] > '5' {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// routeV2 serves APIv2 micropay, orderquery, refund and downloadbill on the
// simulation's state.
func (s *Simulator) routeV2() {
	s.HandleV2("/pay/micropay", s.micropayV2)
	s.HandleV2("/pay/orderquery", s.orderQueryV2)
	s.HandleV2("/secapi/pay/refund", s.refundV2)
	s.Handle("POST /pay/downloadbill", s.downloadBillV2)
}

// micropayV2 charges the payer whose code was scanned: the order is paid
// at once (the simulated payer never needs to enter a password).
func (s *Simulator) micropayV2(p map[string]string) map[string]string {
	if n := v2Missing(p, "appid", "mch_id", "body", "out_trade_no", "total_fee", "spbill_create_ip", "auth_code"); n != "" {
		return v2Fail("PARAM_ERROR", "缺少参数 "+n)
	}
	total, ok := v2Fee(p["total_fee"])
	if !ok {
		return v2Fail("PARAM_ERROR", "total_fee "+p["total_fee"]+" is not a positive integer in fen")
	}
	if p["mch_id"] != s.MchID {
		return v2Fail("MCHID_NOT_EXIST", "mch_id "+p["mch_id"]+" is not the merchant "+s.MchID)
	}
	if !validAuthCode(p["auth_code"]) {
		return v2Fail("AUTH_CODE_INVALID", "付款码无效: auth_code is 18 digits starting 10 to 15")
	}
	currency := p["fee_type"]
	if currency == "" {
		currency = "CNY"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[p["out_trade_no"]]; ok {
		s.expire(o)
		switch o.State {
		case "SUCCESS", "REFUND":
			return v2Fail("ORDERPAID", "订单已支付: out_trade_no "+o.OutTradeNo)
		case "CLOSED":
			return v2Fail("ORDERCLOSED", "订单已关闭: out_trade_no "+o.OutTradeNo)
		}
		return v2Fail("OUT_TRADE_NO_USED", "商户订单号重复: out_trade_no "+o.OutTradeNo+" is another order")
	}
	now := s.now()
	o := &Order{
		AppID: p["appid"], MchID: s.MchID, Description: p["body"], OutTradeNo: p["out_trade_no"],
		TransactionID: s.nextID("4200", 28), TradeType: "MICROPAY", State: "SUCCESS", StateDesc: "支付成功",
		Total: total, Currency: currency, Attach: p["attach"], OpenID: s.nextID("oSim", 28),
		Created: now, Expires: now.Add(2 * time.Hour), Paid: now,
	}
	s.orders[o.OutTradeNo] = o
	s.txByID[o.TransactionID] = o
	answer := s.orderV2(o)
	if p["device_info"] != "" {
		answer["device_info"] = p["device_info"]
	}
	delete(answer, "trade_state")
	delete(answer, "trade_state_desc")
	return answer
}

// orderV2 is o as APIv2 answers it (orderquery, micropay); the caller
// holds s.mu.
func (s *Simulator) orderV2(o *Order) map[string]string {
	currency := o.Currency
	if currency == "" {
		currency = "CNY"
	}
	answer := map[string]string{
		"appid": o.AppID, "mch_id": s.MchID, "out_trade_no": o.OutTradeNo, "trade_type": o.TradeType,
		"trade_state": o.State, "trade_state_desc": o.StateDesc, "total_fee": strconv.FormatInt(o.Total, 10),
		"fee_type": currency, "attach": o.Attach,
	}
	if !o.Paid.IsZero() {
		answer["transaction_id"] = o.TransactionID
		answer["openid"], answer["is_subscribe"], answer["bank_type"] = o.OpenID, "N", "OTHERS"
		answer["cash_fee"], answer["cash_fee_type"] = answer["total_fee"], currency
		answer["time_end"] = v2Time(o.Paid)
	}
	return answer
}

// orderV2For is the order an APIv2 request names, by transaction_id when
// it gives one, else by out_trade_no; nil when there is none. The caller
// holds s.mu.
func (s *Simulator) orderV2For(p map[string]string) *Order {
	if id := p["transaction_id"]; id != "" {
		return s.txByID[id]
	}
	return s.orders[p["out_trade_no"]]
}

// orderQueryV2 answers any order of the simulation, placed through APIv2
// or APIv3, by transaction_id or out_trade_no.
func (s *Simulator) orderQueryV2(p map[string]string) map[string]string {
	if p["transaction_id"] == "" && p["out_trade_no"] == "" {
		return v2Fail("PARAM_ERROR", "缺少参数 transaction_id 或 out_trade_no")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderV2For(p)
	if o == nil {
		return v2Fail("ORDERNOTEXIST", "此交易订单号不存在")
	}
	s.expire(o)
	return s.orderV2(o)
}

// refundV2 asks for a refund of a paid order: PROCESSING, settled SUCCESS
// RefundSettleDelay later. The same out_refund_no with the same amount
// answers the refund again; with another amount it is REFUND_FEE_MISMATCH.
func (s *Simulator) refundV2(p map[string]string) map[string]string {
	if n := v2Missing(p, "appid", "mch_id", "out_refund_no", "total_fee", "refund_fee"); n != "" {
		return v2Fail("PARAM_ERROR", "缺少参数 "+n)
	}
	if p["transaction_id"] == "" && p["out_trade_no"] == "" {
		return v2Fail("PARAM_ERROR", "缺少参数 transaction_id 或 out_trade_no")
	}
	total, ok1 := v2Fee(p["total_fee"])
	amount, ok2 := v2Fee(p["refund_fee"])
	if !ok1 || !ok2 {
		return v2Fail("PARAM_ERROR", "total_fee and refund_fee are positive integers in fen")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderV2For(p)
	if o == nil {
		return v2Fail("ORDERNOTEXIST", "订单不存在")
	}
	if r, ok := s.refunds[p["out_refund_no"]]; ok {
		if r.OutTradeNo != o.OutTradeNo || r.Refund != amount || r.Total != total {
			return v2Fail("REFUND_FEE_MISMATCH", "订单金额或退款金额与之前请求不一致: out_refund_no "+r.OutRefundNo+" was asked for with other content")
		}
		return s.refundAnswerV2(o, r)
	}
	s.expire(o)
	if o.State != "SUCCESS" && o.State != "REFUND" {
		return v2Fail("ERROR", "订单未支付: the order is "+o.State+"; only a paid order can be refunded")
	}
	if total != o.Total {
		return v2Fail("PARAM_ERROR", "total_fee "+p["total_fee"]+" is not the order's total "+strconv.FormatInt(o.Total, 10))
	}
	if left := s.refundable(o); amount > left {
		return v2Fail("NOTENOUGH", "订单可退金额不足: "+p["refund_fee"]+" asked, "+strconv.FormatInt(left, 10)+" left to refund")
	}
	now := s.now()
	r := &Refund{
		RefundID: s.nextID("50", 29), OutRefundNo: p["out_refund_no"], TransactionID: o.TransactionID,
		OutTradeNo: o.OutTradeNo, Reason: p["refund_desc"], Refund: amount, Total: o.Total,
		Currency: o.Currency, Status: "PROCESSING", Channel: "ORIGINAL", Created: now,
		// APIv2 refund notifications (XML, req_info encrypted) are not
		// simulated: no notify_url, no APIv3 notification either.
	}
	s.open(r)
	return s.refundAnswerV2(o, r)
}

// refundAnswerV2 is what secapi/pay/refund answers for r; the caller holds
// s.mu.
func (s *Simulator) refundAnswerV2(o *Order, r *Refund) map[string]string {
	fee := strconv.FormatInt(r.Refund, 10)
	return map[string]string{
		"appid": o.AppID, "mch_id": s.MchID, "transaction_id": r.TransactionID, "out_trade_no": r.OutTradeNo,
		"out_refund_no": r.OutRefundNo, "refund_id": r.RefundID, "refund_fee": fee,
		"total_fee": strconv.FormatInt(r.Total, 10), "cash_fee": strconv.FormatInt(r.Total, 10), "cash_refund_fee": fee,
		"refund_channel": "",
	}
}

// downloadBillV2 serves pay/downloadbill: the trade bill of bill_date
// (yyyyMMdd) as v3/bill/tradebill's file, plain text or gzip (tar_type
// GZIP); when there is none, the XML failure WeChat Pay answers.
func (s *Simulator) downloadBillV2(w http.ResponseWriter, r *http.Request) {
	body, err := readBodyV2(r)
	if err != nil {
		writeXMLFailV2(w, "XML格式错误", "20001")
		return
	}
	p := body
	billType := p["bill_type"]
	if billType == "" {
		billType = "ALL"
	}
	file, err := s.tradeBillFor(p["bill_date"], billType, "20060102")
	if err != nil {
		if se, ok := err.(*SimError); ok && se.Code == "NO_STATEMENT_EXIST" {
			writeXMLFailV2(w, "No Bill Exist", "20002")
			return
		}
		writeXMLFailV2(w, "invalid bill_date or bill_type: "+err.Error(), "20001")
		return
	}
	if p["tar_type"] == "GZIP" {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		_, _ = zw.Write(file)
		_ = zw.Close()
		w.Header().Set("Content-Type", "application/x-gzip")
		_, _ = w.Write(z.Bytes())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(file)
}

// readBodyV2 reads an APIv2 request's XML parameters.
func readBodyV2(r *http.Request) (map[string]string, error) {
	var b bytes.Buffer
	if _, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, 1<<20)); err != nil {
		return nil, err
	}
	return readXMLV2(b.Bytes())
}

// writeXMLFailV2 answers return_code FAIL with msg and error_code,
// unsigned, as WeChat Pay answers a failed download.
func writeXMLFailV2(w http.ResponseWriter, msg, code string) {
	out, _ := writeXMLV2(map[string]string{"return_code": "FAIL", "return_msg": msg, "error_code": code})
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(out)
}
