package wechatpaytest_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// send builds a request to srv, lets edit change it before and after
// signing, and returns the status and decoded error code.
func send(t *testing.T, srv *wechatpaytest.Server, method, path, body string, signer *middleware.Signer,
	edit func(r *http.Request) *http.Request) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "test")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if signer != nil {
		require.NoError(t, signer.Sign(req))
	}
	if edit != nil {
		req = edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestServerChecksRequests(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", func(w http.ResponseWriter, r *http.Request) { wechatpaytest.JSON(w, 200, map[string]bool{"ok": true}) })
	key := middleware.FromCryptoSigner(srv.MerchantKey)
	good := &middleware.Signer{MchID: srv.MchID, Serial: srv.MerchantSerial, Key: key}
	tests := []struct {
		name   string
		signer *middleware.Signer
		edit   func(*http.Request) *http.Request
		status int
		code   string
		issue  string
	}{
		{"good", good, nil, 200, "", ""},
		{"no Accept", good, func(r *http.Request) *http.Request { r.Header.Del("Accept"); return r }, 400, "INVALID_REQUEST", "missing Accept or User-Agent"},
		{"no signature", nil, nil, 401, "SIGN_ERROR", "does not start with WECHATPAY2-SHA256-RSA2048"},
		{"wrong merchant", &middleware.Signer{MchID: "1900000002", Serial: srv.MerchantSerial, Key: key}, nil, 401, "SIGN_ERROR", "mchid 1900000002 is not the merchant"},
		{"wrong serial", &middleware.Signer{MchID: srv.MchID, Serial: srv.PlatformSerial, Key: key}, nil, 401, "SIGN_ERROR", "is not the serial of the merchant API certificate"},
		{"stale timestamp", &middleware.Signer{MchID: srv.MchID, Serial: srv.MerchantSerial, Key: key,
			Now: func() time.Time { return time.Now().Add(-6 * time.Minute) }}, nil, 401, "SIGN_ERROR", "away from the server clock"},
		{"wrong key", &middleware.Signer{MchID: srv.MchID, Serial: srv.MerchantSerial, Key: middleware.FromCryptoSigner(srv.PlatformKey)}, nil,
			401, "SIGN_ERROR", "sign not match"},
		{"tampered path", good, func(r *http.Request) *http.Request { r.URL.Path = basePath + "v3/other"; return r }, 401, "SIGN_ERROR", "sign not match"},
		{"tampered body", good, func(r *http.Request) *http.Request {
			r.Body = io.NopCloser(strings.NewReader(`{"total":2}`))
			return r
		}, 401, "SIGN_ERROR", "sign not match"},
		{"body without JSON content type", good, func(r *http.Request) *http.Request {
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, 400, "INVALID_REQUEST", "expected application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, srv, "POST", "v3/x", `{"total":1}`, tt.signer, tt.edit)
			assert.Equal(t, tt.status, resp.StatusCode, string(body))
			var e struct {
				Code   string
				Detail json.RawMessage
			}
			require.NoError(t, json.Unmarshal(body, &e))
			assert.Equal(t, tt.code, e.Code)
			assert.Contains(t, string(e.Detail), tt.issue)
			last, ok := srv.LastRequest()
			require.True(t, ok)
			assert.Contains(t, last.Rejected, tt.issue)
			assert.Equal(t, tt.status == 200, last.Rejected == "")
		})
	}

	t.Run("replayed nonce", func(t *testing.T) {
		var replay *http.Request
		resp, _ := send(t, srv, "GET", "v3/x", "", good, func(r *http.Request) *http.Request { replay = r.Clone(r.Context()); return r })
		require.Equal(t, 200, resp.StatusCode)
		replay.Body = nil
		resp, err := http.DefaultClient.Do(replay)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 401, resp.StatusCode)
		last, _ := srv.LastRequest()
		assert.Contains(t, last.Rejected, "was already used: a replayed request")
	})
}

func verifyResponse(t *testing.T, resp *http.Response, body []byte, pub *rsa.PublicKey) {
	t.Helper()
	msg := resp.Header.Get("Wechatpay-Timestamp") + "\n" + resp.Header.Get("Wechatpay-Nonce") + "\n" + string(body) + "\n"
	sig, err := base64.StdEncoding.DecodeString(resp.Header.Get("Wechatpay-Signature"))
	require.NoError(t, err)
	digest := sha256.Sum256([]byte(msg))
	assert.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig))
}

func TestServerSignsResponses(t *testing.T) {
	t.Parallel()
	signer := func(srv *wechatpaytest.Server) *middleware.Signer {
		return &middleware.Signer{MchID: srv.MchID, Serial: srv.MerchantSerial, Key: middleware.FromCryptoSigner(srv.MerchantKey)}
	}
	srv := newServer(t)
	platform := newServer(t, wechatpaytest.WithIdentity(wechatpaytest.PlatformCertificate))

	tests := []struct {
		name   string
		srv    *wechatpaytest.Server
		serial string // request Wechatpay-Serial
		want   string
		pub    *rsa.PublicKey
	}{
		{"default identity is the public key", srv, "", srv.PublicKeyID, &srv.PublicKeyKey.PublicKey},
		{"the request names the platform certificate", srv, srv.PlatformSerial, srv.PlatformSerial, &srv.PlatformKey.PublicKey},
		{"WithIdentity(PlatformCertificate)", platform, "", platform.PlatformSerial, &platform.PlatformKey.PublicKey},
		{"the request names the public key", platform, platform.PublicKeyID, platform.PublicKeyID, &platform.PublicKeyKey.PublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := send(t, tt.srv, "GET", "v3/pay/transactions/id/42?mchid="+tt.srv.MchID, "", signer(tt.srv), func(r *http.Request) *http.Request {
				if tt.serial != "" {
					r.Header.Set("Wechatpay-Serial", tt.serial)
				}
				return r
			})
			require.Equal(t, 200, resp.StatusCode, string(body))
			assert.Equal(t, tt.want, resp.Header.Get("Wechatpay-Serial"))
			assert.Equal(t, "WECHATPAY2-SHA256-RSA2048", resp.Header.Get("Wechatpay-Signature-Type"))
			verifyResponse(t, resp, body, tt.pub)
			assert.Contains(t, string(body), `"transaction_id":"42"`)
		})
	}
}

func TestServerBasePathAndHandlers(t *testing.T) {
	t.Parallel()
	// Its own server: the test is about the /hk/ base path itself.
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath("hk"))
	defer srv.Close()
	assert.True(t, strings.HasSuffix(srv.URL, "/hk/"), srv.URL)
	signer := &middleware.Signer{MchID: srv.MchID, Serial: srv.MerchantSerial, Key: middleware.FromCryptoSigner(srv.MerchantKey)}

	srv.Handle("GET /v3/item/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("first " + r.PathValue("id"))) })
	resp, body := send(t, srv, "GET", "v3/item/a%2Fb", "", signer, nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "first a/b", string(body))

	srv.Handle("GET /v3/item/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("second")) })
	_, body = send(t, srv, "GET", "v3/item/1", "", signer, nil)
	assert.Equal(t, "second", string(body), "Handle replaces a handler")

	srv.Handle("POST /v3/pay/transactions/native", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	resp, body = send(t, srv, "POST", "v3/pay/transactions/native", `{}`, signer, nil)
	assert.Equal(t, 204, resp.StatusCode, "a user handler takes precedence over a built-in one")
	verifyResponse(t, resp, body, &srv.PublicKeyKey.PublicKey)

	outside := strings.TrimSuffix(srv.URL, "hk/")
	req, _ := http.NewRequest("GET", outside+"v3/item/1", nil)
	req.Header.Set("Accept", "*/*")
	require.NoError(t, signer.Sign(req))
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	assert.Equal(t, 404, r.StatusCode)
	assert.True(t, bytes.Contains(b, []byte("RESOURCE_NOT_EXISTS")))
}

// TestServerChecksAPIv2Query: for an APIv2 GET the server checks the sign
// over every query parameter, and refuses a parameter given twice.
func TestServerChecksAPIv2Query(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	signed := map[string]string{"mch_id": srv.MchID, "nonce_str": "n1"}
	sign := apiv2.Sign(signed, srv.Secret, apiv2.MD5)
	tests := []struct {
		name, query, rejected string
	}{
		{"every parameter signed", "mch_id=" + srv.MchID + "&nonce_str=n1&sign=" + sign, ""},
		{"a parameter outside the sign", "mch_id=" + srv.MchID + "&nonce_str=n1&plan_id=12535&sign=" + sign, "sign not match"},
		{"a parameter twice", "mch_id=" + srv.MchID + "&nonce_str=n1&nonce_str=n2&sign=" + sign, "the query is not APIv2 parameters: the parameter nonce_str appears 2 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "papay/entrustweb?" + tt.query)
			require.NoError(t, err)
			resp.Body.Close()
			last, ok := srv.LastRequest()
			require.True(t, ok)
			assert.Equal(t, tt.rejected, last.Rejected)
		})
	}
}

// TestNewTLSServer: NewTLSServer is NewServer over HTTPS, as in
// net/http/httptest, and the same as NewServer(WithTLS()): an https URL
// under its base path, a Client and a Config that trust it (a client that
// does not is refused at the handshake), and the merchant certificate
// asked for on secapi paths, which Config's Builder presents there.
func TestNewTLSServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		start func(...wechatpaytest.Option) *wechatpaytest.Server
	}{
		{"NewTLSServer", wechatpaytest.NewTLSServer},
		{"NewServer(WithTLS())", func(opts ...wechatpaytest.Option) *wechatpaytest.Server {
			return wechatpaytest.NewServer(append(opts, wechatpaytest.WithTLS())...)
		}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := tt.start(wechatpaytest.WithBasePath("hk"))
			defer srv.Close()
			assert.True(t, strings.HasPrefix(srv.URL, "https://127.0.0.1:"), srv.URL)
			assert.True(t, strings.HasSuffix(srv.URL, "/hk/"), srv.URL)

			// Client trusts the server: an unsigned request reaches it and
			// is refused as WeChat refuses it.
			resp, err := srv.Client().Get(srv.URL + "v3/certificates")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "no Accept: INVALID_REQUEST")
			_, err = http.Get(srv.URL + "v3/certificates")
			require.Error(t, err, "a client that does not trust the test certificate")
			assert.Contains(t, err.Error(), "certificate")

			// Client presents no certificate: secapi refuses it.
			resp, err = srv.Client().Post(srv.URL+"secapi/pay/refund", "text/xml", strings.NewReader("<xml><sign>S</sign></xml>"))
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Contains(t, string(body), "证书错误")

			b, err := wechatpay.NewBuilder(srv.Config())
			require.NoError(t, err)
			_, err = b.V3().Certificates().Get(ctx)
			require.NoError(t, err)
			_, err = b.V2().Secapi().Pay().Refund().Post(ctx, wechatpay.Options{XML: map[string]string{
				"mch_id": srv.MchID, "out_trade_no": "T1", "out_refund_no": "R1", "total_fee": "1", "refund_fee": "1"}})
			require.NoError(t, err)
			last, ok := srv.LastRequest()
			require.True(t, ok)
			assert.Empty(t, last.Rejected)
			require.NotNil(t, last.ClientCertificate)
			assert.Equal(t, srv.MerchantCert.Raw, last.ClientCertificate.Raw)
		})
	}
	t.Run("NewServer's Client speaks plain HTTP", func(t *testing.T) {
		// NewServer itself, the constructor this test compares.
		srv := wechatpaytest.NewServer()
		defer srv.Close()
		assert.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"), srv.URL)
		resp, err := srv.Client().Get(srv.URL + "v3/certificates")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
}

// TestServerReadsWhatTheClientWrites: the server's own XML reader and sign
// check accept every request the client's apiv2 package writes and signs,
// whatever the values hold, MD5 and HMAC-SHA256, and read back exactly
// the parameters sent; its answers verify with the client's apiv2.Verify.
func TestServerReadsWhatTheClientWrites(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	values := map[string]string{
		"plain": "T1", "markup": `<a href="x">&amp;</a>`, "cdata_end": "x]]>y", "crlf": "l1\r\nl2\rl3",
		"unicode": "商品 😀", "spaces": "  padded\t ",
	}
	for _, signType := range []string{apiv2.MD5, apiv2.HMACSHA256} {
		for name, v := range values {
			t.Run(signType+" "+name, func(t *testing.T) {
				params := map[string]string{"mch_id": srv.MchID, "nonce_str": "n" + name, "sign_type": signType, "attach": v}
				params["sign"] = apiv2.Sign(params, srv.Secret, signType)
				body, err := apiv2.Encode(params)
				require.NoError(t, err)
				resp, err := http.Post(srv.URL+"pay/orderquery", "text/xml", bytes.NewReader(body))
				require.NoError(t, err)
				answer, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				last, ok := srv.LastRequest()
				require.True(t, ok)
				assert.Empty(t, last.Rejected)
				assert.Equal(t, params, last.Params)
				fields, err := apiv2.Decode(answer)
				require.NoError(t, err, string(answer))
				assert.Equal(t, "SUCCESS", fields["return_code"], string(answer))
				assert.NoError(t, apiv2.Verify(fields, srv.Secret))
				assert.Len(t, fields["sign"], map[string]int{apiv2.MD5: 32, apiv2.HMACSHA256: 64}[signType])
			})
		}
	}
}

// TestServerHandlerAnswersAsNetHTTP: a handler's answer is recorded with
// httptest.ResponseRecorder, so it goes out as net/http would send it: the
// headers as they were at WriteHeader (one set later is dropped), the
// first status, a sniffed Content-Type when none is set; then it is
// signed.
func TestServerHandlerAnswersAsNetHTTP(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	signer := &middleware.Signer{MchID: srv.MchID, Serial: srv.MerchantSerial, Key: middleware.FromCryptoSigner(srv.MerchantKey)}
	srv.Handle("GET /v3/late-header", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Before", "set before WriteHeader")
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusTeapot) // ignored: the first status stands
		w.Header().Set("X-After", "LATE-HEADER-SENTINEL-6d2f")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	srv.Handle("GET /v3/sniffed", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("plain words"))
	})

	resp, body := send(t, srv, "GET", "v3/late-header", "", signer, nil)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "set before WriteHeader", resp.Header.Get("X-Before"))
	assert.Empty(t, resp.Header.Get("X-After"), "a header set after WriteHeader is not sent, as in net/http")
	assert.Equal(t, `{"ok":true}`, string(body))
	verifyResponse(t, resp, body, &srv.PublicKeyKey.PublicKey)

	resp, body = send(t, srv, "GET", "v3/sniffed", "", signer, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "plain words", string(body))
	verifyResponse(t, resp, body, &srv.PublicKeyKey.PublicKey)
}

// TestNotFoundSaysWhatIsDocumented: the fake's 404 for a method and path
// WeChat Pay does not document says first what it does document (the
// nearest path, or the documented method), then suggests Server.Handle; a
// documented endpoint without a handler gets only the suggestion.
func TestNotFoundSaysWhatIsDocumented(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	signer := &middleware.Signer{MchID: srv.MchID, Serial: srv.MerchantSerial, Key: middleware.FromCryptoSigner(srv.MerchantKey)}
	const handle = " on the fake server: register one with Server.Handle"
	tests := []struct {
		name, method, path, body, want string
	}{
		{"a typo in the path", "POST", "v3/pay/transaction/native", `{}`,
			"not a documented endpoint; did you mean POST v3/pay/transactions/native?; no handler for POST " + basePath + "v3/pay/transaction/native" + handle},
		{"a typo, a value in the path", "GET", "v3/refund/domestic/refund/R1", "",
			"not a documented endpoint; did you mean POST v3/refund/domestic/refunds?; no handler for GET " + basePath + "v3/refund/domestic/refund/R1" + handle},
		{"nothing near", "GET", "v3/nowhere", "",
			"not a documented endpoint; no handler for GET " + basePath + "v3/nowhere" + handle},
		{"the wrong method", "GET", "v3/pay/transactions/native", "",
			"v3/pay/transactions/native is documented as POST, not GET; no handler for GET " + basePath + "v3/pay/transactions/native" + handle},
		{"the wrong method, a value for a placeholder", "DELETE", "v3/pay/transactions/id/4200000001", "",
			"v3/pay/transactions/id/{transaction_id} is documented as GET, not DELETE; no handler for DELETE " + basePath + "v3/pay/transactions/id/4200000001" + handle},
		{"documented, no handler", "POST", "v3/pay/transactions/h5", `{}`,
			"no handler for POST " + basePath + "v3/pay/transactions/h5" + handle},
		{"documented with a value, no handler", "GET", "v3/refund/domestic/refunds/R1", "",
			"no handler for GET " + basePath + "v3/refund/domestic/refunds/R1" + handle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := send(t, srv, tt.method, tt.path, tt.body, signer, nil)
			require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", body)
			var e struct{ Code, Message string }
			require.NoError(t, json.Unmarshal(body, &e), "%s", body)
			assert.Equal(t, "RESOURCE_NOT_EXISTS", e.Code)
			assert.Equal(t, tt.want, e.Message)
		})
	}
}

// TestHandleReplacesAConflictingPattern: a pattern that conflicts with an
// earlier one replaces it instead of panicking; an invalid one panics and
// changes nothing.
func TestHandleReplacesAConflictingPattern(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	answer := func(s string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { wechatpaytest.JSON(w, 200, map[string]string{"from": s}) }
	}
	srv.Handle("GET /v3/conflict/{x}", answer("first"))
	srv.Handle("GET /v3/conflict/{y}", answer("renamed"))
	srv.Handle("GET /v3/u/{a}/b", answer("unranked-a"))
	srv.Handle("GET /v3/u/a/{b}", answer("unranked-b"))
	assert.Panics(t, func() { srv.Handle("GET /v3/bad/{", answer("invalid")) })
	b, err := wechatpay.NewBuilder(srv.Config())
	require.NoError(t, err)
	for path, want := range map[string]string{"v3/conflict/1": "renamed", "v3/u/a/b": "unranked-b", "v3/u/a/c": "unranked-b"} {
		resp, err := b.Chain(path).Get(context.Background())
		require.NoError(t, err, path)
		assert.Equal(t, want, resp.Get("from").String(), path)
	}
}
