package certificates

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"slices"
	"time"
)

// minBits is the least RSA key size of a platform certificate: WeChat Pay
// issues 2048-bit keys, and its signature scheme is named for them.
const minBits = 2048

// tenpayRootCA is the name of the CA that issues WeChat Pay's platform
// certificates (and merchant API certificates), as their Issuer spells it.
// WeChat Pay's documentation for its certificate downloader asks users to
// check that the issuer is "Tenpay.com Root CA"; wechatpay-java, from 2023
// to 2024, verified the chain up to that CA.
var tenpayRootCA = pkix.Name{CommonName: "Tenpay.com Root CA", OrganizationalUnit: []string{"Tenpay.com CA Center"},
	Organization: []string{"Tenpay.com"}}

// checkKeySize refuses an RSA key shorter than minBits.
func checkKeySize(pub *rsa.PublicKey) error {
	if bits := pub.N.BitLen(); bits < minBits {
		return fmt.Errorf("its key is a %d-bit RSA key: %d bits or more are required", bits, minBits)
	}
	return nil
}

// checkPlatform says what makes cert, whose key is pub, unlike a platform
// certificate at now: a short key, a self-signature, another issuer, a
// time outside its validity. It checks names only: without Tenpay's CA
// certificate, the issuer's signature is not verified.
func checkPlatform(cert *x509.Certificate, pub *rsa.PublicKey, now time.Time) error {
	if err := checkKeySize(pub); err != nil {
		return err
	}
	// Self-signed by name, or by its own key under any name.
	if bytes.Equal(cert.RawIssuer, cert.RawSubject) ||
		cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil {
		return fmt.Errorf("it is self-signed: platform certificates are issued by %s", tenpayRootCA)
	}
	is := cert.Issuer
	if is.CommonName != tenpayRootCA.CommonName || !slices.Equal(is.Organization, tenpayRootCA.Organization) ||
		!slices.Equal(is.OrganizationalUnit, tenpayRootCA.OrganizationalUnit) {
		return fmt.Errorf("it is issued by %q: platform certificates are issued by %s", is, tenpayRootCA)
	}
	if now.Before(cert.NotBefore) {
		return fmt.Errorf("it is not valid before %s; the time now is %s (is this machine's clock right?)",
			cert.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if now.After(cert.NotAfter) {
		return fmt.Errorf("it expired at %s; the time now is %s",
			cert.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
