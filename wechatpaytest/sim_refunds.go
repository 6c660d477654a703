package wechatpaytest

import (
	"errors"
	"net/http"
)

// routeRefunds serves the refund endpoints on the simulation's state.
func (s *Simulator) routeRefunds() {}

// CompleteRefund settles the PROCESSING refund asked for with outRefundNo
// as SUCCESS now, and sends its REFUND.SUCCESS notification.
func (s *Simulator) CompleteRefund(outRefundNo string) error {
	return refuse(http.StatusNotImplemented, "NOT_IMPLEMENTED", "%s", errors.ErrUnsupported)
}

// FailRefund settles the PROCESSING refund asked for with outRefundNo as
// ABNORMAL now (the payer's card was closed, say), and sends its
// REFUND.ABNORMAL notification.
func (s *Simulator) FailRefund(outRefundNo string) error {
	return refuse(http.StatusNotImplemented, "NOT_IMPLEMENTED", "%s", errors.ErrUnsupported)
}
