package wechatpay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// weakIdentity is a 1024-bit RSA key and a certificate for it, valid now.
// (Go itself refuses to generate keys under 1024 bits.)
func weakIdentity(t *testing.T) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x5EA4), Subject: pkix.Name{CommonName: "weak"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return key, cert
}

// TestWeakKeysAreRefused walks every place an RSA key enters: loaders,
// Config, the crypto.Signer adapter, verification and encryption. Each
// refuses a 1024-bit key with an error that names the key and says 2048
// bits or more are required (errors.Is ErrWeakKey).
func TestWeakKeysAreRefused(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	weak, weakCert := weakIdentity(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(weak)
	require.NoError(t, err)
	spki, err := x509.MarshalPKIXPublicKey(&weak.PublicKey)
	require.NoError(t, err)
	p12, err := pkcs12.Modern.Encode(weak, weakCert, nil, srv.MchID)
	require.NoError(t, err)
	newBuilderErr := func(edit func(*wechatpay.Config)) error {
		cfg := srv.Config()
		edit(&cfg)
		b, err := wechatpay.NewBuilder(cfg)
		assert.Nil(t, b)
		return err
	}
	const merchant = "the merchant API private key is a 1024-bit RSA key: 2048 bits or more are required"
	const public = "the WeChat Pay public key is a 1024-bit RSA key: 2048 bits or more are required"
	const platform = "the platform certificate's key is a 1024-bit RSA key: 2048 bits or more are required"

	tests := []struct {
		name string
		try  func() error
		want string
	}{
		{"LoadPrivateKey PEM", func() error { _, err := wechatpay.LoadPrivateKey(pemText("PRIVATE KEY", pkcs8)); return err },
			"wechatpay: LoadPrivateKey: the PEM text: the PRIVATE KEY block: " + merchant},
		{"LoadPrivateKey private.pkcs1://", func() error {
			_, err := wechatpay.LoadPrivateKey("private.pkcs1://" + base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(weak)))
			return err
		}, "wechatpay: LoadPrivateKey: private.pkcs1:// value: " + merchant},
		{"LoadPublicKey PEM", func() error { _, err := wechatpay.LoadPublicKey(pemText("PUBLIC KEY", spki)); return err },
			"wechatpay: LoadPublicKey: the PEM text: the PUBLIC KEY block: " + public},
		{"LoadPublicKey public.spki://", func() error {
			_, err := wechatpay.LoadPublicKey("public.spki://" + base64.StdEncoding.EncodeToString(spki))
			return err
		}, "wechatpay: LoadPublicKey: public.spki:// value: " + public},
		{"LoadPublicKey certificate", func() error { _, err := wechatpay.LoadPublicKey(pemText("CERTIFICATE", weakCert.Raw)); return err },
			"wechatpay: LoadPublicKey: the PEM text: the CERTIFICATE block: " + platform},
		{"LoadCertificate", func() error { _, err := wechatpay.LoadCertificate(pemText("CERTIFICATE", weakCert.Raw)); return err },
			"wechatpay: LoadCertificate: the PEM text: the CERTIFICATE block: the key of certificate 5EA4 is a 1024-bit RSA key: 2048 bits or more are required"},
		{"LoadTLSCertificate", func() error {
			_, err := wechatpay.LoadTLSCertificate(pemText("CERTIFICATE", srv.MerchantCert.Raw), pemText("PRIVATE KEY", pkcs8))
			return err
		}, merchant},
		{"ParsePKCS12", func() error { _, err := wechatpay.ParsePKCS12(p12, srv.MchID); return err },
			"wechatpay: ParsePKCS12: " + merchant},
		{"Config.PrivateKey", func() error { return newBuilderErr(func(c *wechatpay.Config) { c.PrivateKey = weak }) },
			"wechatpay: Config.PrivateKey: " + merchant},
		{"Config.SigningKey from FromCryptoSigner", func() error {
			return newBuilderErr(func(c *wechatpay.Config) { c.PrivateKey, c.SigningKey = nil, middleware.FromCryptoSigner(weak) })
		}, "wechatpay: Config.SigningKey: " + merchant},
		{"Config.Certs WeChat Pay public key", func() error {
			return newBuilderErr(func(c *wechatpay.Config) { c.Certs[srv.PublicKeyID] = &weak.PublicKey })
		}, `wechatpay: Config.Certs["` + srv.PublicKeyID + `"]: ` + public},
		{"Config.Certs platform certificate", func() error {
			return newBuilderErr(func(c *wechatpay.Config) { c.Certs[srv.PlatformSerial] = &weak.PublicKey })
		}, `wechatpay: Config.Certs["` + srv.PlatformSerial + `"]: ` + platform},
		{"Config.TLSCertificate", func() error {
			return newBuilderErr(func(c *wechatpay.Config) {
				c.TLSCertificate = &tls.Certificate{Certificate: [][]byte{weakCert.Raw}, PrivateKey: weak, Leaf: weakCert}
			})
		}, "wechatpay: Config.TLSCertificate: " + merchant},
		{"FromCryptoSigner signs nothing", func() error {
			req, _ := http.NewRequest("GET", "https://api.mch.weixin.qq.com/v3/certificates", nil)
			err := (&middleware.Signer{MchID: "1", Serial: "A", Key: middleware.FromCryptoSigner(weak)}).Sign(req)
			assert.Empty(t, req.Header.Get("Authorization"), "nothing half-signed")
			return err
		}, "middleware: " + merchant},
		{"verification with a weak key from a key source", func() error {
			v := middleware.Verifier{Keys: middleware.StaticKeys{"5EA4": &weak.PublicKey}}
			h := http.Header{"Wechatpay-Timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "Wechatpay-Nonce": {"n"},
				"Wechatpay-Signature": {"c2ln"}, "Wechatpay-Serial": {"5EA4"}}
			err := v.VerifyNotification(context.Background(), h, []byte("{}"))
			assert.ErrorIs(t, err, wechatpay.ErrVerification)
			return err
		}, `notification verification failed: the key of platform certificate "5EA4" is a 1024-bit RSA key: 2048 bits or more are required`},
		{"Encrypt with a weak key from a key source", func() error {
			b := newBuilder(t, srv, func(c *wechatpay.Config) {
				c.Keys, c.WechatpaySerial = middleware.StaticKeys{"5EA4": &weak.PublicKey}, "5EA4"
			})
			_, err := b.Encrypt("6222021234567890")
			return err
		}, `wechatpay: Encrypt: the key of platform certificate "5EA4" is a 1024-bit RSA key: 2048 bits or more are required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.try()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, errors.Is(err, wechatpay.ErrWeakKey), "errors.Is(%v, ErrWeakKey)", err)
		})
	}
}

// TestKeysOf2048BitsAndMoreAreAccepted: the bound is 2048 itself.
func TestKeysOf2048BitsAndMoreAreAccepted(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.Equal(t, 2048, srv.MerchantKey.N.BitLen())
	pkcs8, err := x509.MarshalPKCS8PrivateKey(srv.MerchantKey)
	require.NoError(t, err)
	_, err = wechatpay.LoadPrivateKey(pemText("PRIVATE KEY", pkcs8))
	require.NoError(t, err)
	_, err = wechatpay.LoadPublicKey(pemText("CERTIFICATE", srv.PlatformCert.Raw))
	require.NoError(t, err)
	_, err = wechatpay.NewBuilder(srv.Config())
	require.NoError(t, err)
}
