package wechatpaytest

// routeRefunds serves the refund endpoints on the simulation's state.
func (s *Simulator) routeRefunds() {}
