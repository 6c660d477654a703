package wechatpay

import (
	"crypto/rsa"
	"time"
)

// SetFailoverClock makes b's failover read the time from now, so that tests
// can pass Failover.Stay without waiting for it.
func SetFailoverClock(b *Builder, now func() time.Time) { b.failover.now = now }

// MaxResponseBytes returns the limit b reads answers up to; 0: none.
func MaxResponseBytes(b *Builder) int64 { return b.maxResponse }

// MerchantKey returns the private key b signs and decrypts with.
func MerchantKey(b *Builder) *rsa.PrivateKey { return b.private }
