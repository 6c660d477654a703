package wechatpay

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/wechatpay-chain/wechatpay/internal/rsakey"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// PublicKeys returns the keys the Builder verifies with (Config.Certs, then
// Config.Keys), for a notify.Parser that should trust the same keys.
func (b *Builder) PublicKeys() middleware.PublicKeys { return b.keys }

// WechatpaySerial is the key id this Builder's requests name in
// Wechatpay-Serial, and the key Encrypt uses.
func (b *Builder) WechatpaySerial() string {
	if b.serial == nil {
		return ""
	}
	return b.serial()
}

// Encrypt encrypts a sensitive field (a name, an id card or bank account
// number) for WeChat Pay: RSA-OAEP with SHA-1, base64, with the key named by
// WechatpaySerial, which every request of this Builder carries in its
// Wechatpay-Serial header, so the two always match. At most 214 bytes.
func (b *Builder) Encrypt(plaintext string) (string, error) {
	serial := b.WechatpaySerial()
	if serial == "" {
		return "", errors.New("wechatpay: Encrypt: this Builder has no WeChat Pay key to encrypt with (Config.Certs or Config.Keys)")
	}
	key, ok := b.keys.PublicKey(context.Background(), serial)
	if !ok {
		return "", fmt.Errorf("wechatpay: Encrypt: no key for %s among the verification keys", serial)
	}
	if err := rsakey.Check(rsakey.VerificationKey(serial), key); err != nil {
		return "", fmt.Errorf("wechatpay: Encrypt: %w", err)
	}
	out, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, key, []byte(plaintext), nil)
	if err != nil {
		// The plaintext is sensitive: only its length goes into the error.
		return "", fmt.Errorf("wechatpay: Encrypt: %d bytes do not fit one RSA-OAEP block of key %s (at most %d): %w",
			len(plaintext), serial, key.Size()-2*sha1.Size-2, err)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// Decrypt reads a sensitive field WeChat Pay encrypted for the merchant
// (RSA-OAEP with SHA-1, base64) with Config.PrivateKey.
func (b *Builder) Decrypt(ciphertext string) (string, error) {
	if b.private == nil {
		return "", errors.New("wechatpay: Decrypt: needs Config.PrivateKey (a Config.SigningKey cannot decrypt)")
	}
	data, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return "", errors.New("wechatpay: Decrypt: the ciphertext is not base64")
	}
	plain, err := rsa.DecryptOAEP(sha1.New(), nil, b.private, data, nil)
	if err != nil {
		return "", errors.New("wechatpay: Decrypt: the ciphertext does not decrypt with the merchant API private key: it was encrypted for another key, or altered")
	}
	return string(plain), nil
}
