package wechatpaytest

import (
	"errors"
	"net/http"
)

// routeContracts serves the papay contract endpoints on the simulation's
// state.
func (s *Simulator) routeContracts() {}

// SignContract has the user sign the PENDING contract pre-signed with
// outContractCode, and sends the signing notification.
func (s *Simulator) SignContract(outContractCode string) error {
	return refuse(http.StatusNotImplemented, "NOT_IMPLEMENTED", "%s", errors.ErrUnsupported)
}

// TerminateContract ends the SIGNED contract pre-signed with
// outContractCode, as the user would in WeChat, and sends the termination
// notification.
func (s *Simulator) TerminateContract(outContractCode string) error {
	return refuse(http.StatusNotImplemented, "NOT_IMPLEMENTED", "%s", errors.ErrUnsupported)
}
