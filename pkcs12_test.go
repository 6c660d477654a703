package wechatpay_test

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/wechatpay-chain/wechatpay"
)

// TestParsePKCS12AcceptsChains: bundles that carry the CA chain, as
// exported by most tools, are read with every encoder, and the leaf is the
// certificate of the key wherever it sits in the bundle.
func TestParsePKCS12AcceptsChains(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	encoders := map[string]*pkcs12.Encoder{"LegacyRC2": pkcs12.LegacyRC2, "LegacyDES": pkcs12.LegacyDES,
		"Modern2023": pkcs12.Modern2023, "Modern2026": pkcs12.Modern2026}
	bundles := []struct {
		name  string
		first *x509.Certificate
		rest  []*x509.Certificate
	}{
		{"leaf alone", srv.MerchantCert, nil},
		{"leaf and its CA", srv.MerchantCert, []*x509.Certificate{srv.CA}},
		{"leaf and two more", srv.MerchantCert, []*x509.Certificate{srv.CA, srv.PlatformCert}},
		{"CA first, leaf after", srv.CA, []*x509.Certificate{srv.MerchantCert}},
	}
	for ename, enc := range encoders {
		for _, b := range bundles {
			t.Run(ename+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				data, err := enc.Encode(srv.MerchantKey, b.first, b.rest, srv.MchID)
				require.NoError(t, err)
				tc, err := wechatpay.ParsePKCS12(data, srv.MchID)
				require.NoError(t, err)
				assert.Equal(t, srv.MerchantSerial, wechatpay.CertificateSerial(tc.Leaf))
				require.Len(t, tc.Certificate, 1+len(b.rest), "the leaf, then the rest of the chain")
				assert.Equal(t, srv.MerchantCert.Raw, tc.Certificate[0])
				assert.True(t, srv.MerchantKey.Equal(tc.PrivateKey))
			})
		}
	}

	t.Run("no certificate of the key", func(t *testing.T) {
		data, err := pkcs12.Modern.Encode(srv.MerchantKey, srv.PlatformCert, []*x509.Certificate{srv.CA}, srv.MchID)
		require.NoError(t, err)
		_, err = wechatpay.ParsePKCS12(data, srv.MchID)
		assert.ErrorContains(t, err, "wechatpay: ParsePKCS12: the private key does not belong to the certificate "+srv.PlatformSerial)
	})
}

// TestParsePKCS12CapsIterations: a bundle whose MAC or encryption asks for
// more than MaxPKCS12Iterations key-derivation rounds is refused before
// any round is computed. The bundles are made with a distinctive count
// (66051, DER 02 03 01 02 03) that is then patched in place.
func TestParsePKCS12CapsIterations(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	counted := []byte{0x02, 0x03, 0x01, 0x02, 0x03}
	huge := []byte{0x02, 0x03, 0x7F, 0xFF, 0xFF} // 8388607
	negative := []byte{0x02, 0x03, 0x80, 0x00, 0x00}
	require.Greater(t, 8388607, wechatpay.MaxPKCS12Iterations)
	require.Equal(t, 1<<20, wechatpay.MaxPKCS12Iterations)

	for _, ename := range []string{"LegacyDES", "Modern2026"} {
		enc := map[string]*pkcs12.Encoder{"LegacyDES": pkcs12.LegacyDES, "Modern2026": pkcs12.Modern2026}[ename]
		data, err := enc.WithIterations(66051).Encode(srv.MerchantKey, srv.MerchantCert, []*x509.Certificate{srv.CA}, srv.MchID)
		require.NoError(t, err)
		_, err = wechatpay.ParsePKCS12(data, srv.MchID)
		require.NoError(t, err, "66051 rounds are within the cap")
		// In order: the certificates' encryption, the key's, the MAC.
		require.Equal(t, 3, bytes.Count(data, counted))
		for i, what := range []string{"the certificates' encryption", "the private key's encryption", "the MAC"} {
			for _, patch := range []struct {
				to   []byte
				want string
			}{
				{huge, fmt.Sprintf("wechatpay: ParsePKCS12: %s takes 8388607 key-derivation rounds; at most 1048576 are accepted", what)},
				{negative, fmt.Sprintf("wechatpay: ParsePKCS12: %s takes -8388608 key-derivation rounds; expected 1 to 1048576", what)},
			} {
				t.Run(fmt.Sprintf("%s/%s/%x", ename, what, patch.to), func(t *testing.T) {
					t.Parallel()
					patched := bytes.Clone(data)
					at := nthIndex(patched, counted, i)
					copy(patched[at:], patch.to)
					_, err := wechatpay.ParsePKCS12(patched, srv.MchID)
					assert.EqualError(t, err, patch.want)
				})
			}
		}
	}
}

// nthIndex is the offset of the n-th (from 0) occurrence of sep in s.
func nthIndex(s, sep []byte, n int) int {
	at := 0
	for ; n >= 0; n-- {
		i := bytes.Index(s[at:], sep)
		if i < 0 {
			return -1
		}
		at += i
		if n > 0 {
			at += len(sep)
		}
	}
	return at
}
