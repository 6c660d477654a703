package middleware_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/middleware"
)

// signedResponse builds a 200 response to path signed at ts with key.
func signedResponse(t *testing.T, key *rsa.PrivateKey, serial, path string, ts time.Time, body string) *http.Response {
	t.Helper()
	timestamp := strconv.FormatInt(ts.Unix(), 10)
	digest := sha256.Sum256([]byte(timestamp + "\nNONCE\n" + body + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	require.NoError(t, err)
	return &http.Response{
		StatusCode: 200,
		Header: http.Header{
			"Wechatpay-Timestamp": {timestamp}, "Wechatpay-Nonce": {"NONCE"},
			"Wechatpay-Signature": {base64.StdEncoding.EncodeToString(sig)}, "Wechatpay-Serial": {serial},
		},
		Request: &http.Request{Method: "GET", URL: &url.URL{Path: path}},
	}
}

func TestVerifier(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	now := time.Unix(1700000000, 0)
	v := &middleware.Verifier{
		Keys: middleware.StaticKeys{srv.PublicKeyID: &srv.PublicKeyKey.PublicKey, srv.PlatformSerial: &srv.PlatformKey.PublicKey},
		Now:  func() time.Time { return now },
	}
	body := `{"code_url":"weixin://wxpay/bizpayurl?pr=1"}`
	sign := func(ts time.Time) *http.Response {
		return signedResponse(t, srv.PublicKeyKey, srv.PublicKeyID, "/v3/pay/transactions/native", ts, body)
	}
	tests := []struct {
		name   string
		resp   func() *http.Response
		body   string
		kind   error // nil: accepted
		reason string
	}{
		{"valid public key signature", func() *http.Response { return sign(now) }, body, nil, ""},
		{"valid platform certificate signature", func() *http.Response {
			return signedResponse(t, srv.PlatformKey, srv.PlatformSerial, "/v3/x", now, body)
		}, body, nil, ""},
		{"exactly 300 s old passes", func() *http.Response { return sign(now.Add(-300 * time.Second)) }, body, nil, ""},
		{"exactly 300 s ahead passes", func() *http.Response { return sign(now.Add(300 * time.Second)) }, body, nil, ""},
		{"301 s old fails", func() *http.Response { return sign(now.Add(-301 * time.Second)) }, body, middleware.ErrClockSkew, "is 5m1s older than local time"},
		{"301 s ahead fails", func() *http.Response { return sign(now.Add(301 * time.Second)) }, body, middleware.ErrClockSkew, "is 5m1s ahead of local time"},
		{"tampered body", func() *http.Response { return sign(now) }, body + " ", middleware.ErrBadSignature, "does not match"},
		{"missing nonce and serial", func() *http.Response {
			r := sign(now)
			r.Header.Del("Wechatpay-Nonce")
			r.Header.Del("Wechatpay-Serial")
			return r
		}, body, middleware.ErrMissingHeader, "no Wechatpay-Nonce, Wechatpay-Serial header"},
		{"unknown serial", func() *http.Response {
			r := sign(now)
			r.Header.Set("Wechatpay-Serial", srv.MerchantSerial)
			return r
		}, body, middleware.ErrUnknownSerial, "the merchant's own API certificate is not a verification key"},
		{"signtest probe", func() *http.Response {
			r := sign(now)
			r.Header.Set("Wechatpay-Signature", "WECHATPAY/SIGNTEST/"+r.Header.Get("Wechatpay-Signature"))
			return r
		}, body, middleware.ErrSignTest, "probe"},
		{"malformed timestamp", func() *http.Response {
			r := sign(now)
			r.Header.Set("Wechatpay-Timestamp", "yesterday")
			return r
		}, body, middleware.ErrMalformedHeader, `Wechatpay-Timestamp "yesterday"`},
		{"signature not base64", func() *http.Response {
			r := sign(now)
			r.Header.Set("Wechatpay-Signature", "***")
			return r
		}, body, middleware.ErrMalformedHeader, "not base64"},
		{"SM2 signature type", func() *http.Response {
			r := sign(now)
			r.Header.Set("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3")
			return r
		}, body, middleware.ErrMalformedHeader, "WECHATPAY2-SM2-WITH-SM3"},
		{"4xx passes untouched", func() *http.Response {
			return &http.Response{StatusCode: 400, Header: http.Header{}, Request: &http.Request{URL: &url.URL{Path: "/v3/x"}}}
		}, `{"code":"PARAM_ERROR"}`, nil, ""},
		{"unsigned download passes", func() *http.Response {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Request: &http.Request{URL: &url.URL{Path: "/v3/billdownload/file"}}}
		}, "bill,csv", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := v.Verify(tt.resp(), []byte(tt.body))
			if tt.kind == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, middleware.ErrVerification)
			assert.ErrorIs(t, err, tt.kind)
			for _, other := range []error{middleware.ErrMissingHeader, middleware.ErrMalformedHeader, middleware.ErrClockSkew,
				middleware.ErrUnknownSerial, middleware.ErrBadSignature, middleware.ErrSignTest} {
				if other != tt.kind {
					assert.NotErrorIs(t, err, other)
				}
			}
			assert.Contains(t, err.Error(), tt.reason)
			var ve *middleware.VerificationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, tt.body, string(ve.Body), "the error keeps the body")
			assert.Equal(t, 200, ve.StatusCode)
		})
	}
}

func TestVerifierStatementSHA1(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	file := "date,amount\n2026-11-27,100\n"
	sum := sha1.Sum([]byte(file))
	v := &middleware.Verifier{Keys: middleware.StaticKeys{srv.PublicKeyID: &srv.PublicKeyKey.PublicKey}}
	for _, tt := range []struct {
		name, header string
		ok           bool
	}{
		{"matching SHA-1", hex.EncodeToString(sum[:]), true},
		{"upper-case SHA-1", strings.ToUpper(hex.EncodeToString(sum[:])), true},
		{"other file", "da39a3ee5e6b4b0d3255bfef95601890afd80709", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// WeChat signs {"sha1":...} and sends the file as the body.
			resp := signedResponse(t, srv.PublicKeyKey, srv.PublicKeyID, "/v3/global/statements", time.Now(), `{"sha1":"`+tt.header+`"}`)
			resp.Header.Set("Wechatpay-Statement-Sha1", tt.header)
			err := v.Verify(resp, []byte(file))
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, middleware.ErrBadSignature)
			}
		})
	}
}

func TestUnsigned(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"/v3/billdownload/file":                         true,
		"/hk/v3/billdownload/file":                      true,
		"/v3/merchant-service/images/abc%2Bdef":         true,
		"/v3/global/merchant-service/images/abc":        true,
		"/v3/merchant-service/images/upload":            false,
		"/v3/merchant-service/images/":                  false,
		"/v3/new-tax-control-fapiao/download":           true,
		"/v3/transferdownload/elecvoucherfile":          true,
		"/v3/transferdownload/signfile":                 true,
		"/v3/bill/tradebill":                            false,
		"/v3/billdownload/file/extra":                   false,
		"/v3/pay/transactions/native":                   false,
		"/v3/merchant-service/complaints-v2/1/response": false,
	} {
		assert.Equal(t, want, middleware.Unsigned(path), path)
	}
}
