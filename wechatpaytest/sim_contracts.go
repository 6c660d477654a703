package wechatpaytest

// routeContracts serves the papay contract endpoints on the simulation's
// state.
func (s *Simulator) routeContracts() {}
