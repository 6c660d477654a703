package wechatpay_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
)

func pemText(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestLoadPrivateKey(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	key := srv.MerchantKey
	pkcs1 := x509.MarshalPKCS1PrivateKey(key)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	pkcs8PEM := pemText("PRIVATE KEY", pkcs8)
	certPEM := pemText("CERTIFICATE", srv.MerchantCert.Raw)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ec8, err := x509.MarshalPKCS8PrivateKey(ecKey)
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString(pkcs8)

	good := map[string]string{
		"PKCS#8 PEM":                     pkcs8PEM,
		"PKCS#1 PEM":                     pemText("RSA PRIVATE KEY", pkcs1),
		"PKCS#1 bytes labelled PKCS#8":   pemText("PRIVATE KEY", pkcs1),
		"CRLF and text around":           "apiclient_key\r\n" + strings.ReplaceAll(pkcs8PEM, "\n", "\r\n") + "\r\n",
		"certificate first, then key":    certPEM + pkcs8PEM,
		"file:// URI":                    "file://" + writeFile(t, "apiclient_key.pem", pkcs8PEM),
		"plain path":                     writeFile(t, "key.pem", pkcs8PEM),
		"private.pkcs8://":               "private.pkcs8://" + b64,
		"private.pkcs8:// with newlines": "private.pkcs8://" + b64[:64] + "\n" + b64[64:],
		"private.pkcs1://":               "private.pkcs1://" + base64.StdEncoding.EncodeToString(pkcs1),
	}
	for name, in := range good {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := wechatpay.LoadPrivateKey(in)
			require.NoError(t, err)
			assert.True(t, key.Equal(got))
		})
	}

	bad := []struct{ name, in, want string }{
		{"certificate", certPEM, "the PEM text holds a CERTIFICATE (such as apiclient_cert.pem or a platform certificate); expected the merchant API private key apiclient_key.pem"},
		{"public key", pemText("PUBLIC KEY", x509.MarshalPKCS1PublicKey(&key.PublicKey)), "holds a PUBLIC KEY (such as the WeChat Pay public key pub_key.pem); expected the merchant API private key"},
		{"EC key in PKCS#8", pemText("PRIVATE KEY", ec8), "the private key is a *ecdsa.PrivateKey; expected the merchant's RSA API private key"},
		{"SEC1 EC key", pemText("EC PRIVATE KEY", sec1), "holds an EC PRIVATE KEY (not RSA)"},
		{"encrypted PKCS#8", pemText("ENCRYPTED PRIVATE KEY", pkcs8), "the ENCRYPTED PRIVATE KEY block: it is encrypted; decrypt it first"},
		{"legacy encrypted PEM", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n", "the RSA PRIVATE KEY block: it is encrypted"},
		{"garbage in the block", pemText("PRIVATE KEY", []byte("nope")), "the PRIVATE KEY block: the bytes are neither a PKCS#8 nor a PKCS#1 private key"},
		{"no such file", "/nonexistent/apiclient_key.pem", `"/nonexistent/apiclient_key.pem" is not PEM text (-----BEGIN ...) and no file has that path`},
		{"file:// to nowhere", "file:///nonexistent/k.pem", `reading "/nonexistent/k.pem": no such file or directory`},
		{"empty", "", "the input is empty"},
		{"bad base64", "private.pkcs8://***", "the private.pkcs8:// value is not base64"},
		{"file without PEM", "file://" + writeFile(t, "empty.pem", "hello"), "holds no PEM block; expected the merchant API private key"},
		{"pasted key body without PEM lines", b64, "the input (not shown) is neither PEM text"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := wechatpay.LoadPrivateKey(tt.in)
			assert.Nil(t, got)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "wechatpay: LoadPrivateKey: "))
			// b64[64:112] is whole on the second PEM line, so it is found
			// whether an input leaks as PEM text or as raw base64.
			assert.NotContains(t, err.Error(), b64[64:112], "key material never appears in an error")
		})
	}
}

func TestLoadPublicKey(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	pub := &srv.PlatformKey.PublicKey
	spki, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecSPKI, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	require.NoError(t, err)

	good := map[string]string{
		"SPKI PEM (pub_key.pem)":  pemText("PUBLIC KEY", spki),
		"PKCS#1 PEM":              pemText("RSA PUBLIC KEY", pkcs1),
		"platform certificate":    pemText("CERTIFICATE", srv.PlatformCert.Raw),
		"file:// URI":             "file://" + writeFile(t, "pub_key.pem", pemText("PUBLIC KEY", spki)),
		"public.spki://":          "public.spki://" + base64.StdEncoding.EncodeToString(spki),
		"public.pkcs1://":         "public.pkcs1://" + base64.StdEncoding.EncodeToString(pkcs1),
		"PKCS#1 labelled as SPKI": pemText("PUBLIC KEY", pkcs1),
	}
	for name, in := range good {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := wechatpay.LoadPublicKey(in)
			require.NoError(t, err)
			assert.True(t, pub.Equal(got))
		})
	}
	bad := []struct{ name, in, want string }{
		{"a private key", pemText("PRIVATE KEY", x509.MarshalPKCS1PrivateKey(srv.PlatformKey)), "holds a PRIVATE KEY (a private key); expected the WeChat Pay public key pub_key.pem"},
		{"EC key", pemText("PUBLIC KEY", ecSPKI), "the public key is a *ecdsa.PublicKey; expected RSA"},
		{"nothing", "file://" + writeFile(t, "x.pem", "x"), "holds no PEM block"},
		{"pasted SPKI body", base64.StdEncoding.EncodeToString(spki), "base64 DER is written public.spki://<base64>"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := wechatpay.LoadPublicKey(tt.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestLoadCertificateAndSerial(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	cert, err := wechatpay.LoadCertificate("file://" + writeFile(t, "apiclient_cert.pem", pemText("CERTIFICATE", srv.MerchantCert.Raw)))
	require.NoError(t, err)
	assert.Equal(t, srv.MerchantSerial, wechatpay.CertificateSerial(cert))
	assert.Regexp(t, `^[0-9A-F]{40}$`, wechatpay.CertificateSerial(cert))

	_, err = wechatpay.LoadCertificate(pemText("PRIVATE KEY", x509.MarshalPKCS1PrivateKey(srv.MerchantKey)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `holds a PRIVATE KEY (a private key); expected a "CERTIFICATE" block such as apiclient_cert.pem`)

	for serial, want := range map[int64]string{0x0ABC: "0ABC", 0x7132D7: "7132D7", 1: "01"} {
		assert.Equal(t, want, wechatpay.CertificateSerial(&x509.Certificate{SerialNumber: big.NewInt(serial)}))
	}
	assert.Equal(t, "", wechatpay.CertificateSerial(nil))
}
