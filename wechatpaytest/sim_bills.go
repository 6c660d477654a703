package wechatpaytest

// routeBills serves the bill endpoints on the simulation's state.
func (s *Simulator) routeBills() {}
