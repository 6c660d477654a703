package middleware

import "github.com/wechatpay-chain/wechatpay/internal/rsakey"

// ErrWeakKey matches an RSA key shorter than 2048 bits: a signing key
// (FromCryptoSigner signs nothing with it) or a verification key, which
// fails verification with a *VerificationError of this kind.
var ErrWeakKey = rsakey.ErrWeak
