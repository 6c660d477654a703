package wechatpaytest

import (
	"errors"
	"net/http"
)

// routePayments serves the payment endpoints on the simulation's state.
func (s *Simulator) routePayments() {}

// expire closes o when its time_expire has passed unpaid; the caller holds
// s.mu.
func (s *Simulator) expire(o *Order) {}

// Pay pays the order placed with outTradeNo as its payer would, and sends
// the TRANSACTION.SUCCESS notification; it returns when the first attempt
// to deliver it is done.
func (s *Simulator) Pay(outTradeNo string) error {
	return refuse(http.StatusNotImplemented, "NOT_IMPLEMENTED", "%s", errors.ErrUnsupported)
}

// Decline has the payer of the order placed with outTradeNo refuse to pay.
func (s *Simulator) Decline(outTradeNo string) error {
	return refuse(http.StatusNotImplemented, "NOT_IMPLEMENTED", "%s", errors.ErrUnsupported)
}
