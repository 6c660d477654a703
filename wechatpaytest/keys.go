package wechatpaytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"
)

// Keys are the credentials of a fake merchant and of the fake WeChat Pay it
// talks to. They are generated once per process (RSA key generation is slow)
// and shared by every Server.
type Keys struct {
	// MchID is the merchant id.
	MchID string
	// MerchantKey is the merchant API private key; requests are signed with it.
	MerchantKey *rsa.PrivateKey
	// MerchantCert is the merchant API certificate; its serial is MerchantSerial.
	MerchantCert   *x509.Certificate
	MerchantSerial string // upper-case hex, the value of wechatpay.Config.Serial
	// PlatformKey signs responses under the platform certificate identity.
	PlatformKey    *rsa.PrivateKey
	PlatformCert   *x509.Certificate // the first platform certificate, issued by PlatformCA
	PlatformSerial string            // PlatformCert's serial, upper-case hex, as Wechatpay-Serial names it
	// PublicKeyKey signs responses under the WeChat Pay public key identity;
	// merchants hold its public half as pub_key.pem with id PublicKeyID.
	PublicKeyKey *rsa.PrivateKey
	PublicKeyID  string // PUB_KEY_ID_..., as Wechatpay-Serial names it

	// Secret is the APIv2 key (32 characters).
	Secret string
	// APIv3Key encrypts notification resources and downloaded platform
	// certificates (32 characters).
	APIv3Key string
	// CA issued MerchantCert: a server in TLS mode (WithTLS) accepts client
	// certificates from it, as WeChat Pay accepts the merchant API
	// certificate on its mutual TLS endpoints.
	CA *x509.Certificate
	// PlatformCA issues the platform certificates. It is a local CA under
	// WeChat Pay's CA name (C=CN, O=Tenpay.com, OU=Tenpay.com CA Center,
	// CN=Tenpay.com Root CA), the issuer name certificates.Download checks;
	// its key is the test's own, not Tenpay's. IssuePlatformCertificate
	// issues more.
	PlatformCA    *x509.Certificate
	platformCAKey crypto.Signer
	// ServerCA issues the certificates a server in TLS mode (WithTLS)
	// presents: one for whatever host name a client asks for
	// (api.mch.weixin.qq.com, apihk.mch.weixin.qq.com, a gateway's), and
	// for 127.0.0.1, ::1 and localhost. A client that trusts it (Config's
	// HTTPClient does) verifies the server as it would verify WeChat Pay,
	// host name included.
	ServerCA    *x509.Certificate
	serverCAKey crypto.Signer
	serverKey   crypto.Signer // the key of every server certificate

	// stranger signs responses under a serial no client is configured with.
	stranger       *rsa.PrivateKey
	strangerSerial string
}

var (
	keysOnce sync.Once
	keys     *Keys
)

// sharedKeys generates the process's keys on first use.
func sharedKeys() *Keys {
	keysOnce.Do(func() {
		k := &Keys{MchID: "1900000001", PublicKeyID: "PUB_KEY_ID_0119000000012026112800000000000001", Secret: randomHex(16), APIv3Key: randomHex(16)}
		caKey, ca := newCA(pkix.Name{CommonName: "wechatpaytest CA", Organization: []string{"wechatpaytest"}})
		k.CA = ca
		k.platformCAKey, k.PlatformCA = newCA(tenpayRootCA)
		k.serverCAKey, k.ServerCA = newCA(pkix.Name{CommonName: "wechatpaytest server CA", Organization: []string{"wechatpaytest"}})
		k.serverKey = newECKey()
		k.MerchantKey, k.MerchantCert = newIdentity("1900000001", ca, caKey)
		k.PlatformKey, k.PlatformCert = newPlatform(k.PlatformCA, k.platformCAKey)
		k.PublicKeyKey, _ = newIdentity("", nil, nil)
		k.stranger, _ = newIdentity("", nil, nil)
		k.MerchantSerial = serialOf(k.MerchantCert)
		k.PlatformSerial = serialOf(k.PlatformCert)
		k.strangerSerial = "0123456789ABCDEF0123456789ABCDEF01234567"
		keys = k
	})
	return keys
}

// tenpayRootCA is the name of the CA that issues WeChat Pay's platform
// certificates, as their Issuer spells it.
var tenpayRootCA = pkix.Name{Country: []string{"CN"}, Organization: []string{"Tenpay.com"},
	OrganizationalUnit: []string{"Tenpay.com CA Center"}, CommonName: "Tenpay.com Root CA"}

// platformSubject is the Subject of WeChat Pay's platform certificates.
var platformSubject = pkix.Name{Country: []string{"CN"}, Province: []string{"GuangDong"}, Locality: []string{"ShenZhen"},
	Organization: []string{"Tenpay.com"}, OrganizationalUnit: []string{"Tenpay.com CA Center"}, CommonName: "Tenpay.com sign"}

// newECKey generates a P-256 key: fast, for the CAs and the server
// certificates.
func newECKey() *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: generating an ECDSA key: %v", err))
	}
	return key
}

// newCA makes a test CA named name; ECDSA keeps its generation fast.
func newCA(name pkix.Name) (*ecdsa.PrivateKey, *x509.Certificate) {
	key := newECKey()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               name,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: creating the CA certificate: %v", err))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: parsing the CA certificate: %v", err))
	}
	return key, cert
}

// newIdentity generates an RSA-2048 key and, when cn is set, a certificate
// for it with a 20-byte serial like WeChat Pay's, issued by ca (self-signed
// when ca is nil).
func newIdentity(cn string, ca *x509.Certificate, caKey crypto.Signer) (*rsa.PrivateKey, *x509.Certificate) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: generating an RSA key: %v", err))
	}
	if cn == "" {
		return key, nil
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"wechatpaytest"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	parent, signer := tmpl, crypto.Signer(key)
	if ca != nil {
		parent, signer = ca, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: creating a certificate: %v", err))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: parsing a certificate: %v", err))
	}
	return key, cert
}

// newPlatform generates an RSA-2048 key and a platform certificate for it
// issued by ca, valid from an hour ago for five years.
func newPlatform(ca *x509.Certificate, caKey crypto.Signer) (*rsa.PrivateKey, *x509.Certificate) {
	key, _ := newIdentity("", nil, nil)
	cert, err := issuePlatform(&x509.Certificate{NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(5, 0, 0)},
		&key.PublicKey, ca, caKey)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: %v", err))
	}
	return key, cert
}

// IssuePlatformCertificate issues a certificate for pub from tmpl with
// PlatformCA, as WeChat Pay's CA issues platform certificates; tests make
// good and bad ones with it (a short key, dates outside the validity).
// Where tmpl leaves them empty it sets a random 20-byte serial, the
// platform certificates' Subject (CN=Tenpay.com sign, O=Tenpay.com, ...)
// and KeyUsage; its NotBefore and NotAfter are taken as they are. List the
// result with Server.AddPlatformCertificate.
func (k *Keys) IssuePlatformCertificate(tmpl *x509.Certificate, pub *rsa.PublicKey) (*x509.Certificate, error) {
	if k == nil {
		return issuePlatform(tmpl, pub, nil, nil)
	}
	return issuePlatform(tmpl, pub, k.PlatformCA, k.platformCAKey)
}

// IssuePlatformCertificate is Keys.IssuePlatformCertificate; on a nil
// *Server too, where the promoted method could not reach Keys.
func (s *Server) IssuePlatformCertificate(tmpl *x509.Certificate, pub *rsa.PublicKey) (*x509.Certificate, error) {
	if s == nil {
		return nil, errNotRunning
	}
	return s.Keys.IssuePlatformCertificate(tmpl, pub)
}

func issuePlatform(tmpl *x509.Certificate, pub *rsa.PublicKey, ca *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, error) {
	if tmpl == nil || pub == nil || ca == nil || caKey == nil {
		return nil, errors.New("wechatpaytest: issuing a platform certificate needs a template, a public key and Keys from NewServer")
	}
	t := *tmpl
	if t.SerialNumber == nil {
		t.SerialNumber = newSerial()
	}
	if t.Subject.String() == "" {
		t.Subject = platformSubject
	}
	if t.KeyUsage == 0 {
		t.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, ca, pub, caKey)
	if err != nil {
		return nil, fmt.Errorf("wechatpaytest: creating a platform certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// newSerial is a random 20-byte certificate serial like WeChat Pay's:
// positive, and 40 hex digits.
func newSerial() *big.Int {
	serial := make([]byte, 20)
	if _, err := rand.Read(serial); err != nil {
		panic(fmt.Sprintf("wechatpaytest: generating a serial: %v", err))
	}
	serial[0] = serial[0]&0x7f | 0x10
	return new(big.Int).SetBytes(serial)
}

func serialOf(cert *x509.Certificate) string {
	return strings.ToUpper(hex.EncodeToString(cert.SerialNumber.Bytes()))
}
