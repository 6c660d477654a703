package wechatpay

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/wechatpay-chain/wechatpay/internal/rsakey"
)

// LoadPrivateKey reads the merchant API private key (apiclient_key.pem) from
//
//   - PEM text: "-----BEGIN PRIVATE KEY-----" (PKCS#8, what the WeChat Pay
//     certificate tool writes) or "-----BEGIN RSA PRIVATE KEY-----" (PKCS#1);
//   - "file:///path/apiclient_key.pem" or a plain file path;
//   - wechatpay-php's "private.pkcs8://<base64 DER>" and
//     "private.pkcs1://<base64 DER>".
//
// Either DER form is accepted under either label, since mislabelled files
// are common. A key under 2048 bits is refused (ErrWeakKey). An error says
// what was found and what was expected; it never contains the key material,
// nor the input unless it is evidently a file name.
func LoadPrivateKey(s string) (*rsa.PrivateKey, error) {
	return loader[*rsa.PrivateKey]{
		name:     "LoadPrivateKey",
		schemes:  []string{"private.pkcs1://", "private.pkcs8://"},
		suggest:  "private.pkcs8://",
		expected: "expected the merchant API private key apiclient_key.pem: a PEM \"PRIVATE KEY\" (PKCS#8) or \"RSA PRIVATE KEY\" (PKCS#1) block",
		der:      parsePrivateDER,
		block: func(b *pem.Block) (*rsa.PrivateKey, bool, error) {
			switch {
			case b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED"):
				return nil, true, errors.New("it is encrypted; decrypt it first (openssl pkey -in key.pem -out apiclient_key.pem)")
			case b.Type == "PRIVATE KEY" || b.Type == "RSA PRIVATE KEY":
				key, err := parsePrivateDER(b.Bytes)
				return key, true, err
			}
			return nil, false, nil
		},
	}.load(s)
}

// LoadPublicKey reads a WeChat Pay verification key: the WeChat Pay public
// key (pub_key.pem, "-----BEGIN PUBLIC KEY-----"), a PKCS#1 "RSA PUBLIC KEY",
// or the key of an X.509 platform certificate ("-----BEGIN CERTIFICATE-----"),
// as PEM text, "file://..." or a path, or wechatpay-php's
// "public.spki://<base64 DER>" and "public.pkcs1://<base64 DER>". A key
// under 2048 bits is refused (ErrWeakKey).
func LoadPublicKey(s string) (*rsa.PublicKey, error) {
	return loader[*rsa.PublicKey]{
		name:     "LoadPublicKey",
		schemes:  []string{"public.spki://", "public.pkcs1://"},
		suggest:  "public.spki://",
		expected: "expected the WeChat Pay public key pub_key.pem (\"PUBLIC KEY\"), a PKCS#1 \"RSA PUBLIC KEY\" or a platform \"CERTIFICATE\"",
		der:      parsePublicDER,
		block: func(b *pem.Block) (*rsa.PublicKey, bool, error) {
			switch b.Type {
			case "PUBLIC KEY", "RSA PUBLIC KEY":
				key, err := parsePublicDER(b.Bytes)
				return key, true, err
			case "CERTIFICATE":
				cert, err := parseCertificate(b)
				if err != nil {
					return nil, true, err
				}
				key, ok := cert.PublicKey.(*rsa.PublicKey)
				if !ok {
					return nil, true, fmt.Errorf("the certificate holds a %T key; expected RSA", cert.PublicKey)
				}
				return key, true, rsakey.Check(rsakey.Platform, key)
			}
			return nil, false, nil
		},
	}.load(s)
}

// LoadCertificate reads an X.509 certificate (the merchant API certificate
// apiclient_cert.pem, or a WeChat Pay platform certificate) from PEM text,
// "file://..." or a path. CertificateSerial gives its serial. A certificate
// whose RSA key has under 2048 bits is refused (ErrWeakKey).
func LoadCertificate(s string) (*x509.Certificate, error) {
	return loader[*x509.Certificate]{
		name:     "LoadCertificate",
		expected: "expected a \"CERTIFICATE\" block such as apiclient_cert.pem",
		block: func(b *pem.Block) (*x509.Certificate, bool, error) {
			if b.Type != "CERTIFICATE" {
				return nil, false, nil
			}
			cert, err := parseCertificate(b)
			if err == nil {
				if key, ok := cert.PublicKey.(*rsa.PublicKey); ok {
					err = rsakey.Check("the key of certificate "+CertificateSerial(cert), key)
				}
			}
			return cert, true, err
		},
	}.load(s)
}

func parseCertificate(b *pem.Block) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the CERTIFICATE block does not parse (%s)", errDetail(err))
	}
	return cert, nil
}

// loader is what the three loaders share: URI schemes of base64 DER, then
// PEM text from the input, a file:// URI or a path, scanned block by block.
type loader[K any] struct {
	name     string   // the loader's name, for errors
	schemes  []string // wechatpay-php's base64 DER URI schemes
	suggest  string   // the scheme to suggest for pasted base64 DER
	expected string   // what the caller should have given
	der      func([]byte) (K, error)
	// block parses a PEM block; ok is false for a block of another type.
	block func(*pem.Block) (key K, ok bool, err error)
}

func (l loader[K]) load(s string) (K, error) {
	var zero K
	fail := func(format string, args ...any) (K, error) {
		return zero, fmt.Errorf("wechatpay: "+l.name+": "+format, args...)
	}
	for _, scheme := range l.schemes {
		if der, ok, err := uriDER(s, scheme); ok {
			if err != nil {
				return fail("%v", err)
			}
			key, err := l.der(der)
			if err != nil {
				return fail("%s value: %w", scheme, err)
			}
			return key, nil
		}
	}
	text, source, err := pemSource(s, l.suggest)
	if err != nil {
		return fail("%v", err)
	}
	var found []string
	for rest := text; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		key, ok, err := l.block(block)
		if err != nil {
			return fail("%s: the %s block: %w", source, block.Type, err)
		}
		if ok {
			return key, nil
		}
		found = append(found, describeBlock(block.Type))
	}
	if len(found) == 0 {
		return fail("%s holds no PEM block; %s", source, l.expected)
	}
	return fail("%s holds %s; %s", source, strings.Join(found, " and "), l.expected)
}

// LoadTLSCertificate pairs the merchant API certificate (apiclient_cert.pem)
// with its private key (apiclient_key.pem), each given as LoadCertificate
// and LoadPrivateKey take them, for Config.TLSCertificate.
func LoadTLSCertificate(cert, key string) (*tls.Certificate, error) {
	c, err := LoadCertificate(cert)
	if err != nil {
		return nil, err
	}
	k, err := LoadPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return tlsCertificate(c, k, "wechatpay: LoadTLSCertificate")
}

// LoadPKCS12 reads the apiclient_cert.p12 bundle (a path or "file://...")
// for Config.TLSCertificate. Its password is the merchant id unless the
// merchant changed it.
func LoadPKCS12(path, password string) (*tls.Certificate, error) {
	path = strings.TrimPrefix(path, "file://")
	data, err := readKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: LoadPKCS12: reading %s", readError(path, err))
	}
	return ParsePKCS12(data, password)
}

// ParsePKCS12 is LoadPKCS12 for bytes already in memory. The bundle may
// carry the CA chain: the leaf is the certificate of the private key,
// wherever it is in the bundle, and the rest of the chain follows it in
// the result. A bundle whose MAC or encryption asks for more than
// MaxPKCS12Iterations rounds is refused before any is computed, and a key
// under 2048 bits is refused (ErrWeakKey).
func ParsePKCS12(data []byte, password string) (*tls.Certificate, error) {
	const op = "wechatpay: ParsePKCS12"
	if err := checkPKCS12Iterations(data); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	key, first, rest, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			// The password is never repeated back.
			return nil, errors.New(op + ": the password is wrong: the apiclient_cert.p12 password is the merchant id unless it was changed")
		}
		return nil, fmt.Errorf("%s: expected the apiclient_cert.p12 bundle (PKCS#12): %s", op, errDetail(err))
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: the bundle holds a %T key; expected the merchant's RSA key", op, key)
	}
	if err := rsakey.Check(rsakey.Merchant, &rsaKey.PublicKey); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	certs := append([]*x509.Certificate{first}, rest...)
	leaf := slices.IndexFunc(certs, func(c *x509.Certificate) bool { return rsaKey.PublicKey.Equal(c.PublicKey) })
	if leaf < 0 {
		return tlsCertificate(first, rsaKey, op) // says that the key is not the certificate's
	}
	tc, err := tlsCertificate(certs[leaf], rsaKey, op)
	if err != nil {
		return nil, err
	}
	for i, c := range certs {
		if i != leaf {
			tc.Certificate = append(tc.Certificate, c.Raw)
		}
	}
	return tc, nil
}

func tlsCertificate(cert *x509.Certificate, key *rsa.PrivateKey, op string) (*tls.Certificate, error) {
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s: the private key does not belong to the certificate %s: expected apiclient_key.pem with its apiclient_cert.pem", op, CertificateSerial(cert))
	}
	return &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, nil
}

// CertificateSerial returns a certificate's serial number as upper-case hex
// with an even number of digits, the form WeChat Pay uses (Config.Serial,
// Wechatpay-Serial).
func CertificateSerial(cert *x509.Certificate) string {
	if cert == nil || cert.SerialNumber == nil {
		return ""
	}
	return strings.ToUpper(hex.EncodeToString(cert.SerialNumber.Bytes()))
}

// uriDER decodes s when it starts with scheme (wechatpay-php's
// "private.pkcs8://<base64>" forms). ok reports whether the scheme matched.
func uriDER(s, scheme string) (der []byte, ok bool, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), scheme)
	if !ok {
		return nil, false, nil
	}
	rest = strings.Join(strings.Fields(rest), "")
	der, err = base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, true, fmt.Errorf("the %s value is not base64 (standard alphabet, the DER bytes of the key)", scheme)
	}
	return der, true, nil
}

// pemSource returns the PEM text s holds or names (a file:// URI or a
// path), and how to refer to it in an error without quoting key material.
func pemSource(s, derScheme string) (text []byte, source string, err error) {
	if strings.Contains(s, "-----BEGIN") {
		return []byte(s), "the PEM text", nil
	}
	path, isURI := strings.CutPrefix(s, "file://")
	// Only something that could be a path is echoed: a pasted key body
	// without its PEM lines must not end up in a log.
	quotable := len(path) <= 255 && !strings.ContainsAny(path, "\r\n")
	if !quotable {
		hint := ""
		if derScheme != "" {
			hint = fmt.Sprintf("; base64 DER is written %s<base64>", derScheme)
		}
		return nil, "", fmt.Errorf("the input (not shown) is neither PEM text (-----BEGIN ...), a file:// URI nor a file path%s", hint)
	}
	if path == "" {
		return nil, "", errors.New("the input is empty: expected PEM text, a file:// URI or a file path")
	}
	b, err := readKeyFile(path)
	if err != nil {
		if !isURI && os.IsNotExist(err) {
			return nil, "", fmt.Errorf("%s is not PEM text (-----BEGIN ...) and no file has that path", showPath(path))
		}
		return nil, "", fmt.Errorf("reading %s", readError(path, err))
	}
	return b, fmt.Sprintf("file %q", path), nil
}

// maxKeyFile bounds what the loaders read: key, certificate and p12 files
// are a few KB.
const maxKeyFile = 1 << 20

var (
	errNotRegular = errors.New("not a regular file: expected a key or certificate file")
	errTooLarge   = errors.New("larger than 1 MiB: key and certificate files are a few KB")
)

// readKeyFile reads a regular file of at most maxKeyFile bytes: a device,
// a pipe or a huge file given by mistake would be read for ever.
func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err == nil && len(b) > maxKeyFile {
		err = errTooLarge
	}
	return b, err
}

// readError is an os error reading path, with path shown as showPath does.
func readError(path string, err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Sprintf("%s: %v", showPath(path), err)
}

// showPath quotes path for an error when it is evidently a file name: it
// exists, or it ends in an extension key and certificate files have. Any
// other text may be a secret given by mistake (an APIv3 key where a key
// file belongs) and is only counted.
func showPath(path string) string {
	if !strings.ContainsFunc(path, unicode.IsControl) && len(path) <= 4096 {
		if _, err := os.Lstat(path); err == nil || keyFileExt[strings.ToLower(filepath.Ext(path))] {
			return strconv.Quote(path)
		}
	}
	return fmt.Sprintf("the input (%d characters, not shown as it may be key material)", len(path))
}

var keyFileExt = map[string]bool{".pem": true, ".key": true, ".crt": true, ".cer": true, ".der": true, ".p12": true, ".pfx": true}

// errDetail is err's text for an error message, unless it may quote what
// it parsed (x509 quotes a name it cannot parse).
func errDetail(err error) string {
	if msg := err.Error(); len(msg) <= 200 && !strings.ContainsAny(msg, "\"`") {
		return msg
	}
	return "the bytes do not parse"
}

// parsePrivateDER accepts PKCS#8 or PKCS#1: the bytes say which they are,
// and files labelled one way but holding the other are common. The key
// must have 2048 bits or more.
func parsePrivateDER(der []byte) (*rsa.PrivateKey, error) {
	key, err := parsePrivateDERAnySize(der)
	if err != nil {
		return nil, err
	}
	return key, rsakey.Check(rsakey.Merchant, &key.PublicKey)
}

func parsePrivateDERAnySize(der []byte) (*rsa.PrivateKey, error) {
	if key, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return key, nil
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("the bytes are neither a PKCS#8 nor a PKCS#1 private key")
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the private key is a %T; expected the merchant's RSA API private key", key)
	}
	return rsaKey, nil
}

// parsePublicDER accepts SPKI or PKCS#1, like parsePrivateDER, of 2048
// bits or more.
func parsePublicDER(der []byte) (*rsa.PublicKey, error) {
	key, err := parsePublicDERAnySize(der)
	if err != nil {
		return nil, err
	}
	return key, rsakey.Check(rsakey.Public, key)
}

func parsePublicDERAnySize(der []byte) (*rsa.PublicKey, error) {
	if key, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return key, nil
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("the bytes are neither an SPKI nor a PKCS#1 public key")
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the public key is a %T; expected RSA", key)
	}
	return rsaKey, nil
}

// describeBlock names a PEM block type the way a merchant would recognise it.
func describeBlock(typ string) string {
	switch typ {
	case "CERTIFICATE":
		return "a CERTIFICATE (such as apiclient_cert.pem or a platform certificate)"
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return fmt.Sprintf("a %s (such as the WeChat Pay public key pub_key.pem)", typ)
	case "PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return fmt.Sprintf("a %s (a private key)", typ)
	case "EC PRIVATE KEY":
		return "an EC PRIVATE KEY (not RSA)"
	}
	if pemLabel.MatchString(typ) && (len(typ) <= 12 || strings.Contains(typ, " ")) {
		return fmt.Sprintf("a %q block", typ)
	}
	// A label that reads like no PEM label may be a secret pasted by mistake.
	return "a PEM block of another type"
}

// pemLabel is what real PEM labels look like ("OPENSSH PRIVATE KEY",
// "CERTIFICATE REQUEST", "PKCS7").
var pemLabel = regexp.MustCompile(`^[A-Z0-9 ]{1,30}$`)
