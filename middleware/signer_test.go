package middleware_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/middleware"
)

var authPattern = regexp.MustCompile(`^WECHATPAY2-SHA256-RSA2048 mchid="1900000001",serial_no="ABC123",timestamp="(\d{10})",nonce_str="([0-9A-Za-z]{32})",signature="([A-Za-z0-9+/=]+)"$`)

// TestSignerMessage rebuilds the signed message from protocol.md section 1
// and checks the signature over it with the merchant public key.
func TestSignerMessage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	now := time.Unix(1554208460, 0)
	s := &middleware.Signer{MchID: "1900000001", Serial: "ABC123", Key: middleware.FromCryptoSigner(srv.MerchantKey),
		Now: func() time.Time { return now }}

	tests := []struct {
		name, method, url, body, target string
	}{
		{"GET with query", "GET", "https://api.mch.weixin.qq.com/v3/pay/transactions/id/4200000001?mchid=1230000109", "",
			"/v3/pay/transactions/id/4200000001?mchid=1230000109"},
		{"POST with JSON", "POST", "https://api.mch.weixin.qq.com/v3/pay/transactions/native", `{"amount":{"total":1},"description":"<形象店>"}`,
			"/v3/pay/transactions/native"},
		{"escaped segment and base path", "PATCH", "https://api.mch.weixin.qq.com/hk/v3/x/a%2Fb%20c?q=1+2", `{}`,
			"/hk/v3/x/a%2Fb%20c?q=1+2"},
		{"DELETE without body", "DELETE", "https://api.mch.weixin.qq.com/v3/x/1", "", "/v3/x/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader
			if tt.body != "" {
				body = bytes.NewReader([]byte(tt.body))
			}
			req, err := http.NewRequest(tt.method, tt.url, body)
			require.NoError(t, err)
			require.NoError(t, s.Sign(req))

			m := authPattern.FindStringSubmatch(req.Header.Get("Authorization"))
			require.NotNil(t, m, "Authorization: %s", req.Header.Get("Authorization"))
			assert.Equal(t, "1554208460", m[1])
			msg := tt.method + "\n" + tt.target + "\n" + m[1] + "\n" + m[2] + "\n" + tt.body + "\n"
			sig, err := base64.StdEncoding.DecodeString(m[3])
			require.NoError(t, err)
			digest := sha256.Sum256([]byte(msg))
			assert.NoError(t, rsa.VerifyPKCS1v15(&srv.MerchantKey.PublicKey, crypto.SHA256, digest[:], sig))

			if tt.body != "" {
				left, err := io.ReadAll(req.Body)
				require.NoError(t, err)
				assert.Equal(t, tt.body, string(left), "signing must not consume the body")
			}
		})
	}
}

func TestSignerFreshNonceEveryCall(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := &middleware.Signer{MchID: "1900000001", Serial: "ABC123", Key: middleware.FromCryptoSigner(srv.MerchantKey)}
	seen := map[string]bool{}
	for range 20 {
		req, _ := http.NewRequest("GET", "https://api.mch.weixin.qq.com/v3/certificates", nil)
		require.NoError(t, s.Sign(req))
		m := authPattern.FindStringSubmatch(req.Header.Get("Authorization"))
		require.NotNil(t, m)
		assert.False(t, seen[m[2]], "nonce %s repeated", m[2])
		seen[m[2]] = true
	}
}

func TestNonceAlphabet(t *testing.T) {
	t.Parallel()
	counts := map[rune]int{}
	for range 2000 {
		n, err := middleware.Nonce()
		require.NoError(t, err)
		require.Len(t, n, 32)
		for _, r := range n {
			counts[r]++
		}
	}
	assert.Len(t, counts, 62, "every character of [0-9A-Za-z] appears, and nothing else")
	for r := range counts {
		assert.True(t, strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", r))
	}
}

type failingKey struct{}

func (failingKey) Sign(context.Context, []byte) ([]byte, error) {
	return nil, errors.New("kms unavailable")
}

func TestSignerKeyErrors(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tests := []struct {
		name string
		key  middleware.SigningKey
		want string
	}{
		{"remote key fails", failingKey{}, "signing GET /v3/certificates: kms unavailable"},
		{"not RSA", middleware.FromCryptoSigner(ecKey), "the signing key holds a *ecdsa.PublicKey, expected the merchant's RSA API private key"},
		{"nil", middleware.FromCryptoSigner(nil), "the signing key is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest("GET", "https://api.mch.weixin.qq.com/v3/certificates", nil)
			err := (&middleware.Signer{MchID: "1", Serial: "A", Key: tt.key}).Sign(req)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, req.Header.Get("Authorization"), "nothing half-signed")
		})
	}
}

func TestHeadersKeepCallerValues(t *testing.T) {
	t.Parallel()
	h := &middleware.Headers{UserAgent: "ours/1.0", WechatpaySerial: "PUB_KEY_ID_1"}
	tests := []struct {
		name            string
		set             http.Header
		accept, ua, wps string
	}{
		{"defaults", http.Header{}, middleware.DefaultAccept, "ours/1.0", "PUB_KEY_ID_1"},
		{"caller's values kept", http.Header{"Accept": {"application/json"}, "User-Agent": {"shop/2"}, "Wechatpay-Serial": {"7132D7"}},
			"application/json", "shop/2", "7132D7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest("GET", "https://api.mch.weixin.qq.com/v3/x", nil)
			req.Header = tt.set
			require.NoError(t, h.Apply(req))
			assert.Equal(t, tt.accept, req.Header.Get("Accept"))
			assert.Equal(t, tt.ua, req.Header.Get("User-Agent"))
			assert.Equal(t, tt.wps, req.Header.Get("Wechatpay-Serial"))
		})
	}
}
