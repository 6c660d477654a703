package wechatpay_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// fuzzKeys are the fake merchant's keys, shared by the process.
func fuzzKeys(f *testing.F) *wechatpaytest.Server {
	srv := newServer(f)
	return srv
}

// keySeeds are inputs of every form the loaders take, right and wrong.
func keySeeds(f *testing.F, srv *wechatpaytest.Server) {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(srv.MerchantKey)
	require.NoError(f, err)
	spki, err := x509.MarshalPKIXPublicKey(&srv.PlatformKey.PublicKey)
	require.NoError(f, err)
	for _, s := range []string{
		pemText("PRIVATE KEY", pkcs8),
		pemText("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(srv.MerchantKey)),
		pemText("PUBLIC KEY", spki),
		pemText("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&srv.PlatformKey.PublicKey)),
		pemText("CERTIFICATE", srv.PlatformCert.Raw) + pemText("CERTIFICATE", srv.CA.Raw),
		pemText("ENCRYPTED PRIVATE KEY", pkcs8[:64]),
		"private.pkcs8://" + base64.StdEncoding.EncodeToString(pkcs8),
		"private.pkcs1://" + base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(srv.MerchantKey)),
		"public.spki://" + base64.StdEncoding.EncodeToString(spki),
		"public.pkcs1://AAAA",
		"file:///nonexistent/apiclient_key.pem", "apiclient_key.pem", "", " ",
		"-----BEGIN X-----\n-----END X-----\n", sentinelV3,
	} {
		f.Add(s)
	}
}

// checkLoaderError holds for every loader error: it names the loader and
// does not repeat an input that may be a secret (one that is no PEM text,
// no URI and no file name).
func checkLoaderError(t *testing.T, name, in string, err error) {
	if !strings.HasPrefix(err.Error(), "wechatpay: "+name+": ") {
		t.Fatalf("%s error without its prefix: %v", name, err)
	}
	trimmed := strings.TrimSpace(in)
	if len(trimmed) < 12 || strings.Contains(in, "-----") || strings.Contains(in, "://") || strings.HasSuffix(strings.ToLower(trimmed), ".pem") {
		return
	}
	if _, statErr := os.Lstat(in); statErr == nil {
		return
	}
	if strings.Contains(err.Error(), trimmed) {
		t.Fatalf("%s error repeats its input %q: %v", name, in, err)
	}
}

// FuzzLoadPrivateKey: never a panic; a key loaded is RSA of 2048 bits or
// more and valid; an error never repeats what may be a secret.
func FuzzLoadPrivateKey(f *testing.F) {
	keySeeds(f, fuzzKeys(f))
	f.Fuzz(func(t *testing.T, in string) {
		key, err := wechatpay.LoadPrivateKey(in)
		if err != nil {
			checkLoaderError(t, "LoadPrivateKey", in, err)
			return
		}
		if key.N.BitLen() < 2048 || key.Validate() != nil {
			t.Fatalf("LoadPrivateKey accepted a %d-bit or invalid key", key.N.BitLen())
		}
	})
}

// FuzzLoadPublicKey: never a panic; a key loaded is RSA of 2048 bits or
// more; an error never repeats what may be a secret.
func FuzzLoadPublicKey(f *testing.F) {
	keySeeds(f, fuzzKeys(f))
	f.Fuzz(func(t *testing.T, in string) {
		key, err := wechatpay.LoadPublicKey(in)
		if err != nil {
			checkLoaderError(t, "LoadPublicKey", in, err)
			return
		}
		if key.N.BitLen() < 2048 {
			t.Fatalf("LoadPublicKey accepted a %d-bit key", key.N.BitLen())
		}
	})
}

// FuzzLoadCertificate: never a panic; an RSA certificate loaded has 2048
// bits or more; an error never repeats what may be a secret.
func FuzzLoadCertificate(f *testing.F) {
	keySeeds(f, fuzzKeys(f))
	f.Fuzz(func(t *testing.T, in string) {
		cert, err := wechatpay.LoadCertificate(in)
		if err != nil {
			checkLoaderError(t, "LoadCertificate", in, err)
			return
		}
		if key, ok := cert.PublicKey.(*rsa.PublicKey); ok && key.N.BitLen() < 2048 {
			t.Fatalf("LoadCertificate accepted a %d-bit key", key.N.BitLen())
		}
	})
}

// FuzzParsePKCS12: never a panic and never more than MaxPKCS12Iterations
// rounds; a bundle read gives a 2048-bit or larger RSA key with its own
// certificate first; an error never repeats the password.
func FuzzParsePKCS12(f *testing.F) {
	srv := fuzzKeys(f)
	for _, enc := range []*pkcs12.Encoder{pkcs12.LegacyRC2, pkcs12.LegacyDES, pkcs12.Modern2023, pkcs12.Modern2026} {
		for _, chain := range [][]*x509.Certificate{nil, {srv.CA}} {
			data, err := enc.Encode(srv.MerchantKey, srv.MerchantCert, chain, srv.MchID)
			require.NoError(f, err)
			f.Add(data, srv.MchID)
		}
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x03}, "")
	f.Add([]byte(sentinelV3), sentinelV3)
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		tc, err := wechatpay.ParsePKCS12(data, password)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "wechatpay: ParsePKCS12: ") {
				t.Fatalf("error without its prefix: %v", err)
			}
			if len(password) >= 12 && strings.Contains(err.Error(), password) {
				t.Fatalf("the error repeats the password: %v", err)
			}
			return
		}
		key, ok := tc.PrivateKey.(*rsa.PrivateKey)
		if !ok || key.N.BitLen() < 2048 || tc.Leaf == nil || !key.PublicKey.Equal(tc.Leaf.PublicKey) ||
			len(tc.Certificate) == 0 || !bytes.Equal(tc.Certificate[0], tc.Leaf.Raw) {
			t.Fatalf("ParsePKCS12 gave a certificate that is not the key's, or a weak key")
		}
	})
}

// TestLoadersReadOnlyKeySizedRegularFiles: a path to a device, a pipe or a
// huge file is refused instead of read for ever.
func TestLoadersReadOnlyKeySizedRegularFiles(t *testing.T) {
	t.Parallel()
	big := filepath.Join(t.TempDir(), "big.pem")
	require.NoError(t, os.WriteFile(big, bytes.Repeat([]byte("A"), 2<<20), 0o600))
	paths := map[string]string{"a 2 MiB file": big}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths["/dev/zero"] = "/dev/zero"
	}
	loaders := map[string]func(string) error{
		"LoadPrivateKey":  func(p string) error { _, err := wechatpay.LoadPrivateKey(p); return err },
		"LoadPublicKey":   func(p string) error { _, err := wechatpay.LoadPublicKey("file://" + p); return err },
		"LoadCertificate": func(p string) error { _, err := wechatpay.LoadCertificate(p); return err },
		"LoadPKCS12":      func(p string) error { _, err := wechatpay.LoadPKCS12(p, "1900000001"); return err },
	}
	wants := map[string]string{"a 2 MiB file": `big.pem": larger than 1 MiB: key and certificate files are a few KB`,
		"/dev/zero": `reading "/dev/zero": not a regular file: expected a key or certificate file`}
	for lname, load := range loaders {
		for pname, p := range paths {
			t.Run(lname+"/"+pname, func(t *testing.T) {
				t.Parallel()
				err := load(p)
				require.Error(t, err)
				assert.Contains(t, err.Error(), wants[pname])
				assert.True(t, strings.HasPrefix(err.Error(), "wechatpay: "+lname+": "), err.Error())
			})
		}
	}
}
