package wechatpaytest

import (
	"errors"
	"net/http"
)

// routeBills serves the bill endpoints on the simulation's state.
func (s *Simulator) routeBills() {}

// TradeBill is the trade bill of date ("2006-01-02", in +08:00) as the
// download_url of v3/bill/tradebill serves it, uncompressed: billType is
// ALL, SUCCESS or REFUND.
func (s *Simulator) TradeBill(date, billType string) ([]byte, error) {
	return nil, refuse(http.StatusNotImplemented, "NOT_IMPLEMENTED", "%s", errors.ErrUnsupported)
}

// FundFlowBill is the fund flow bill of date ("2006-01-02", in +08:00) of
// the basic account, as v3/bill/fundflowbill's download_url serves it.
func (s *Simulator) FundFlowBill(date string) ([]byte, error) {
	return nil, refuse(http.StatusNotImplemented, "NOT_IMPLEMENTED", "%s", errors.ErrUnsupported)
}
