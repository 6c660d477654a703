package wechatpay

import (
	"crypto"
	"crypto/rsa"
	"fmt"

	"github.com/wechatpay-chain/wechatpay/internal/rsakey"
)

// checkKeySizes refuses every RSA key of cfg shorter than 2048 bits, naming
// the field and the key.
func (cfg *Config) checkKeySizes() error {
	if cfg.PrivateKey != nil {
		if err := rsakey.Check(rsakey.Merchant, &cfg.PrivateKey.PublicKey); err != nil {
			return fmt.Errorf("wechatpay: Config.PrivateKey: %w", err)
		}
	}
	// middleware.FromCryptoSigner's keys, like any crypto.Signer, tell
	// their public key; other SigningKeys cannot be checked here.
	if err := checkSigner(cfg.SigningKey); err != nil {
		return fmt.Errorf("wechatpay: Config.SigningKey: %w", err)
	}
	for _, id := range sortedKeys(cfg.Certs) {
		what := rsakey.Platform
		if pubKeyIDPattern.MatchString(id) {
			what = rsakey.Public
		}
		if err := rsakey.Check(what, cfg.Certs[id]); err != nil {
			return fmt.Errorf("wechatpay: Config.Certs[%q]: %w", id, err)
		}
	}
	if cfg.TLSCertificate != nil {
		if err := checkSigner(cfg.TLSCertificate.PrivateKey); err != nil {
			return fmt.Errorf("wechatpay: Config.TLSCertificate: %w", err)
		}
	}
	return nil
}

// checkSigner checks the size of key's RSA public key, if it tells one.
func checkSigner(key any) error {
	if k, ok := key.(*rsa.PrivateKey); ok {
		if k == nil {
			return nil
		}
		return rsakey.Check(rsakey.Merchant, &k.PublicKey)
	}
	if s, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		if pub, ok := s.Public().(*rsa.PublicKey); ok {
			return rsakey.Check(rsakey.Merchant, pub)
		}
	}
	return nil
}
