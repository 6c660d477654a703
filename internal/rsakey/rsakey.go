// Package rsakey holds the one size rule every RSA key entering the library
// meets, wherever it enters: 2048 bits or more, the size WeChat Pay issues
// and its signature scheme (WECHATPAY2-SHA256-RSA2048) names.
package rsakey

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
)

// MinBits is the smallest RSA modulus accepted, in bits.
const MinBits = 2048

// ErrWeak matches every error Check returns (errors.Is).
var ErrWeak = errors.New("the RSA key is shorter than 2048 bits")

// Weak reports whether pub is shorter than MinBits, for callers that name
// the key (an allocation) only when it is.
func Weak(pub *rsa.PublicKey) bool {
	return pub != nil && pub.N != nil && pub.N.BitLen() < MinBits
}

// Check returns an error naming the key (what, such as "the merchant API
// private key") when pub is shorter than MinBits. A nil key or one without
// a modulus is left to the caller's own checks.
func Check(what string, pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil {
		return nil
	}
	if bits := pub.N.BitLen(); bits < MinBits {
		return &weakError{what: what, bits: bits}
	}
	return nil
}

type weakError struct {
	what string
	bits int
}

func (e *weakError) Error() string {
	return fmt.Sprintf("%s is a %d-bit RSA key: %d bits or more are required", e.what, e.bits, MinBits)
}

func (e *weakError) Is(target error) bool { return target == ErrWeak }

// VerificationKey names the WeChat Pay key with id serial: the WeChat Pay
// public key (PUB_KEY_ID_...) or a platform certificate's key.
func VerificationKey(serial string) string {
	if strings.HasPrefix(serial, "PUB_KEY_ID_") {
		return fmt.Sprintf("the WeChat Pay public key %q", serial)
	}
	return fmt.Sprintf("the key of platform certificate %q", serial)
}

// The names of the keys, as errors give them.
const (
	Merchant = "the merchant API private key"   // signs requests
	Public   = "the WeChat Pay public key"      // verifies answers, id PUB_KEY_ID_...
	Platform = "the platform certificate's key" // verifies answers, by certificate serial
)
