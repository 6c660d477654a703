package wechatpay

import "time"

// SetFailoverClock makes b's failover read the time from now, so that tests
// can pass Failover.Stay without waiting for it.
func SetFailoverClock(b *Builder, now func() time.Time) { b.failover.now = now }
