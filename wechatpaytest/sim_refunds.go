package wechatpaytest

import (
	"fmt"
	"net/http"
	"regexp"
	"time"
)

// The simulated refunds. A refund asked for through
//
//	POST v3/refund/domestic/refunds   (a domestic order)
//	POST v3/global/refunds            (a global order, Hong Kong host)
//
// is PROCESSING, then settles SUCCESS on its own RefundSettleDelay later
// (or earlier with CompleteRefund), or ABNORMAL with FailRefund; settling
// sends REFUND.SUCCESS or REFUND.ABNORMAL to its notify_url (none when it
// gave none). It is queried with GET v3/refund/domestic/refunds/{out_refund_no},
// or GET v3/global/refunds/out-refund-no/{out_refund_no} and
// v3/global/refunds/id/{refund_id} (query mchid required). The global
// answers carry the refund id as "id" too, the global API's name for it.
//
// Refusals: an unknown order 404 (RESOURCE_NOT_EXISTS domestic,
// ORDER_NOT_EXIST global), an unpaid one 400 INVALID_REQUEST, an
// amount.total other than the order's 400 PARAM_ERROR, more than is left
// to refund (the total less the refunds SUCCESS or PROCESSING) 403
// NOT_ENOUGH, an out_refund_no asked for again with other content 400
// INVALID_REQUEST; asked for again with the same content it answers the
// refund as it is now.

// RefundSettleDelay is how long, in simulation time, a PROCESSING refund
// takes to settle SUCCESS on its own, unless CompleteRefund or FailRefund
// settles it before.
const RefundSettleDelay = 5 * time.Second

// outRefundNoPattern is what WeChat Pay accepts as out_refund_no.
var outRefundNoPattern = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,64}$`)

// refundRequest is the body of a v3/refund/domestic/refunds or
// v3/global/refunds request.
type refundRequest struct {
	MchID         string `json:"mchid"` // global only
	TransactionID string `json:"transaction_id"`
	OutTradeNo    string `json:"out_trade_no"`
	OutRefundNo   string `json:"out_refund_no"`
	Reason        string `json:"reason"`
	NotifyURL     string `json:"notify_url"`
	Amount        *struct {
		Refund   *int64 `json:"refund"`
		Total    *int64 `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

// check checks a refund request's fields as WeChat Pay does.
func (req *refundRequest) check(global bool, mchID string) error {
	required := func(field string) error { return &badField{"body", field, "required, missing or empty"} }
	switch {
	case global && req.MchID == "":
		return required("/mchid")
	case global && req.MchID != mchID:
		return &badField{"body", "/mchid", fmt.Sprintf("%s is not the merchant %s of the request signature", req.MchID, mchID)}
	case req.TransactionID == "" && req.OutTradeNo == "":
		return &badField{"body", "/out_trade_no", "required: give transaction_id or out_trade_no"}
	case req.OutRefundNo == "":
		return required("/out_refund_no")
	case !outRefundNoPattern.MatchString(req.OutRefundNo):
		return &badField{"body", "/out_refund_no", fmt.Sprintf("%q is not 1 to 64 characters of [0-9A-Za-z_-|*@]", req.OutRefundNo)}
	case req.Amount == nil || req.Amount.Refund == nil:
		return required("/amount/refund")
	case *req.Amount.Refund <= 0:
		return &badField{"body", "/amount/refund", fmt.Sprintf("%d is not a positive amount in fen", *req.Amount.Refund)}
	case req.Amount.Total == nil:
		return required("/amount/total")
	case *req.Amount.Total <= 0:
		return &badField{"body", "/amount/total", fmt.Sprintf("%d is not a positive amount in fen", *req.Amount.Total)}
	case req.Amount.Currency == "":
		return required("/amount/currency")
	}
	if req.NotifyURL != "" {
		return checkURL("/notify_url", req.NotifyURL)
	}
	return nil
}

// sameRefund reports whether req asks for r again.
func (req *refundRequest) sameRefund(r *Refund, global bool) bool {
	return r.Global == global &&
		(req.TransactionID == "" || req.TransactionID == r.TransactionID) &&
		(req.OutTradeNo == "" || req.OutTradeNo == r.OutTradeNo) &&
		req.Reason == r.Reason && req.NotifyURL == r.NotifyURL &&
		*req.Amount.Refund == r.Refund && *req.Amount.Total == r.Total && req.Amount.Currency == r.Currency
}

// routeRefunds serves the refund endpoints on the simulation's state.
func (s *Simulator) routeRefunds() {
	s.Handle("POST /v3/refund/domestic/refunds", s.askRefund(false))
	s.Handle("POST /v3/global/refunds", s.askRefund(true))
	s.Handle("GET /v3/refund/domestic/refunds/{out_refund_no}", s.queryRefund(false))
	s.Handle("GET /v3/global/refunds/out-refund-no/{out_refund_no}", s.queryRefund(true))
	s.Handle("GET /v3/global/refunds/id/{refund_id}", s.queryRefund(true))
}

// askRefund answers a refund request.
func (s *Simulator) askRefund(global bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req refundRequest
		if _, err := readJSON(r, &req); err != nil {
			writeSimError(w, err)
			return
		}
		if err := req.check(global, s.MchID); err != nil {
			writeSimError(w, err)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		ref, err := s.refund(&req, global)
		if err != nil {
			writeSimError(w, err)
			return
		}
		JSON(w, http.StatusOK, s.refundJSON(ref))
	}
}

// refund makes the refund req asks for, or returns the one it asked for
// before; the caller holds s.mu.
func (s *Simulator) refund(req *refundRequest, global bool) (*Refund, error) {
	if ref, ok := s.refunds[req.OutRefundNo]; ok {
		if !req.sameRefund(ref, global) {
			return nil, refuse(http.StatusBadRequest, "INVALID_REQUEST", "商户退款单号重复: out_refund_no %s was asked for with other content; a repeated refund must be identical", req.OutRefundNo)
		}
		return ref, nil
	}
	var o *Order
	if req.TransactionID != "" {
		o = s.txByID[req.TransactionID]
	} else {
		o = s.orders[req.OutTradeNo]
	}
	if o == nil || o.Global != global || (req.OutTradeNo != "" && o.OutTradeNo != req.OutTradeNo) {
		code := "RESOURCE_NOT_EXISTS"
		if global {
			code = "ORDER_NOT_EXIST"
		}
		return nil, refuse(http.StatusNotFound, code, "订单不存在: no paid order with transaction_id %q / out_trade_no %q", req.TransactionID, req.OutTradeNo)
	}
	s.expire(o)
	if o.State != "SUCCESS" && o.State != "REFUND" {
		return nil, refuse(http.StatusBadRequest, "INVALID_REQUEST", "订单未支付: order %s is %s; only a paid order can be refunded", o.OutTradeNo, o.State)
	}
	if *req.Amount.Total != o.Total {
		return nil, &badField{"body", "/amount/total", fmt.Sprintf("%d is not the order's total %d", *req.Amount.Total, o.Total)}
	}
	if req.Amount.Currency != o.Currency {
		return nil, &badField{"body", "/amount/currency", fmt.Sprintf("%s is not the order's currency %s", req.Amount.Currency, o.Currency)}
	}
	left := s.refundable(o)
	if *req.Amount.Refund > left {
		return nil, refuse(http.StatusForbidden, "NOT_ENOUGH", "订单可退金额不足: %d asked, %d left to refund of order %s (%d paid)", *req.Amount.Refund, left, o.OutTradeNo, o.Total)
	}
	now := s.now()
	ref := &Refund{
		Global: global, RefundID: s.nextID("50", 29), OutRefundNo: req.OutRefundNo,
		TransactionID: o.TransactionID, OutTradeNo: o.OutTradeNo, Reason: req.Reason, NotifyURL: req.NotifyURL,
		Refund: *req.Amount.Refund, Total: o.Total, Currency: o.Currency,
		Status: "PROCESSING", Channel: "ORIGINAL", Created: now,
	}
	s.open(ref)
	return ref, nil
}

// refundable is what is left to refund of o: its total less the refunds
// that succeeded or are in progress; the caller holds s.mu.
func (s *Simulator) refundable(o *Order) int64 {
	left := o.Total
	for _, other := range s.refunds {
		if other.OutTradeNo == o.OutTradeNo && (other.Status == "SUCCESS" || other.Status == "PROCESSING") {
			left -= other.Refund
		}
	}
	return left
}

// open records the PROCESSING refund ref (APIv3 or APIv2) and has it
// settle SUCCESS RefundSettleDelay later unless settled before; the
// caller holds s.mu.
func (s *Simulator) open(ref *Refund) {
	s.refunds[ref.OutRefundNo] = ref
	s.refByID[ref.RefundID] = ref
	s.schedule(ref.Created.Add(RefundSettleDelay), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if ref.Status == "PROCESSING" {
			s.settle(ref, "SUCCESS")
		}
	})
}

// queryRefund answers a refund.
func (s *Simulator) queryRefund(global bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if global {
			if err := s.checkQueryMchID(r); err != nil {
				writeSimError(w, err)
				return
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		var ref *Refund
		if id := r.PathValue("refund_id"); id != "" {
			ref = s.refByID[id]
		} else {
			ref = s.refunds[r.PathValue("out_refund_no")]
		}
		if ref == nil || ref.Global != global {
			writeSimError(w, refuse(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在: no such refund"))
			return
		}
		JSON(w, http.StatusOK, s.refundJSON(ref))
	}
}

// refundJSON is ref as WeChat Pay answers a refund request or query.
func (s *Simulator) refundJSON(ref *Refund) map[string]any {
	out := map[string]any{
		"refund_id": ref.RefundID, "out_refund_no": ref.OutRefundNo,
		"transaction_id": ref.TransactionID, "out_trade_no": ref.OutTradeNo,
		"channel": ref.Channel, "user_received_account": "支付用户零钱",
		"create_time": wxTime(ref.Created), "status": ref.Status, "funds_account": "AVAILABLE",
		"amount": map[string]any{
			"total": ref.Total, "refund": ref.Refund, "payer_total": ref.Total, "payer_refund": ref.Refund,
			"settlement_total": ref.Total, "settlement_refund": ref.Refund, "discount_refund": 0,
			"currency": ref.Currency, "payer_currency": ref.Currency, "refund_fee": 0,
		},
		"promotion_detail": []any{},
	}
	if ref.Global {
		out["id"] = ref.RefundID
	}
	if !ref.Finished.IsZero() && ref.Status == "SUCCESS" {
		out["success_time"] = wxTime(ref.Finished)
	}
	return out
}

// settle ends a PROCESSING refund as status (SUCCESS or ABNORMAL) now and
// notifies it; the caller holds s.mu.
func (s *Simulator) settle(ref *Refund, status string) {
	ref.Status, ref.Finished = status, s.now()
	eventType, summary := "REFUND.SUCCESS", "退款成功"
	if status == "SUCCESS" {
		if o := s.orders[ref.OutTradeNo]; o != nil {
			o.Refunded += ref.Refund
			o.State, o.StateDesc = "REFUND", tradeStateDesc["REFUND"]
		}
	} else {
		eventType, summary = "REFUND.ABNORMAL", "退款异常"
	}
	resource := map[string]any{
		"mchid": s.MchID, "out_trade_no": ref.OutTradeNo, "transaction_id": ref.TransactionID,
		"out_refund_no": ref.OutRefundNo, "refund_id": ref.RefundID, "refund_status": status,
		"user_received_account": "支付用户零钱",
		"amount":                map[string]any{"total": ref.Total, "refund": ref.Refund, "payer_total": ref.Total, "payer_refund": ref.Refund},
	}
	if status == "SUCCESS" {
		resource["success_time"] = wxTime(ref.Finished)
	}
	s.notify(ref.NotifyURL, eventType, "refund", summary, resource)
}

// settleNow settles the PROCESSING refund asked for with outRefundNo as
// status, and makes the first attempt to notify it.
func (s *Simulator) settleNow(outRefundNo, status string) error {
	return s.act(func() error {
		ref, ok := s.refunds[outRefundNo]
		switch {
		case !ok:
			return refuse(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在: no refund %q", outRefundNo)
		case ref.Status != "PROCESSING":
			return refuse(http.StatusBadRequest, "INVALID_REQUEST", "refund %s is %s: only a PROCESSING refund settles", outRefundNo, ref.Status)
		}
		s.settle(ref, status)
		return nil
	})
}

// CompleteRefund settles the PROCESSING refund asked for with outRefundNo
// as SUCCESS now, and sends its REFUND.SUCCESS notification; it returns
// when the first attempt to deliver it is done. A refund that is not
// PROCESSING gives a *SimError (INVALID_REQUEST; RESOURCE_NOT_EXISTS when
// there is none).
func (s *Simulator) CompleteRefund(outRefundNo string) error {
	return s.settleNow(outRefundNo, "SUCCESS")
}

// FailRefund settles the PROCESSING refund asked for with outRefundNo as
// ABNORMAL now (the payer's card was closed, say), and sends its
// REFUND.ABNORMAL notification; it returns when the first attempt to
// deliver it is done. Its amount can then be refunded again. A refund that
// is not PROCESSING gives a *SimError, as for CompleteRefund.
func (s *Simulator) FailRefund(outRefundNo string) error {
	return s.settleNow(outRefundNo, "ABNORMAL")
}
