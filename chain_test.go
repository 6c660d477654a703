package wechatpay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// echo answers every request with what the server saw.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	wechatpaytest.JSON(w, http.StatusOK, map[string]string{"method": r.Method, "uri": r.RequestURI, "body": string(body)})
}

// lastAccepted returns the newest request and fails unless the fake server
// accepted its signature.
func lastAccepted(t *testing.T, srv *wechatpaytest.Server) wechatpaytest.Request {
	t.Helper()
	last, ok := srv.LastRequest()
	require.True(t, ok, "the server received nothing")
	require.Empty(t, last.Rejected, "the server refused %s %s", last.Method, last.RequestURI)
	return last
}

func TestPathSegmentNamingRules(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, err string }{
		{"jsapiPreEntrustSign", "jsapi-pre-entrust-sign", ""},
		{"complaintsV2", "complaints-v2", ""},
		{"V3", "v3", ""},
		{"v3", "v3", ""},
		{"outTradeNo", "out-trade-no", ""},
		{"_out_trade_no_", "{out_trade_no}", ""},
		{"_outTradeNo_", "{outTradeNo}", ""}, // wechatpay-php: {out-trade-no}; ours keeps the Options.Path key
		{"_transaction_id_", "{transaction_id}", ""},
		{"_empty_", "{empty}", ""},
		{"applyment4sub", "applyment4sub", ""},
		{"pay_bank", "pay_bank", ""},
		{"query_coupon_stock", "query_coupon_stock", ""},
		{"already-kebab", "already-kebab", ""},
		{"N123", "n123", ""}, // the pitfall Value avoids
		{"addInstitutionsub", "add-institutionsub", ""},
		{"ID", "i-d", ""},
		{"", "", "a segment cannot be empty"},
		{"a/b", "", `'/' is not allowed in a segment name`},
		{"订单", "", "is not allowed in a segment name"},
		{"_out-trade_", "", "a placeholder name holds letters, digits and underscores only"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := wechatpay.PathSegment(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestChainIsImmutable(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	pay := b.V3().Seg("pay")
	transactions := pay.Seg("transactions")
	partner := pay.Seg("partner").Seg("transactions")
	native := transactions.Seg("native")
	jsapi := transactions.Seg("jsapi")
	assert.Equal(t, "v3/pay", pay.Path())
	assert.Equal(t, "v3/pay/transactions", transactions.Path())
	assert.Equal(t, "v3/pay/partner/transactions", partner.Path())
	assert.Equal(t, "v3/pay/transactions/native", native.Path())
	assert.Equal(t, "v3/pay/transactions/jsapi", jsapi.Path())

	bad := pay.Seg("a/b")
	assert.Error(t, bad.Err())
	assert.Error(t, bad.Seg("more").Err(), "an error sticks to the chain")
	assert.NoError(t, pay.Err(), "an error does not reach the prefix")
}

// TestThreeStylesSameRequest: a segment chain, a string path and a literal
// value reach the server as the same request target.
func TestThreeStylesSameRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	query := url.Values{"mchid": {srv.MchID}}
	const no = "N20261128/01"
	const want = "/v3/pay/transactions/out-trade-no/N20261128%2F01?mchid=1900000001"

	calls := map[string]func() (*wechatpay.Response, error){
		"segments with placeholder": func() (*wechatpay.Response, error) {
			return b.V3().Seg("pay").Seg("transactions").Seg("outTradeNo").Seg("_out_trade_no_").Get(ctx,
				wechatpay.Options{Path: map[string]string{"out_trade_no": no}, Query: query})
		},
		"segments with literal value": func() (*wechatpay.Response, error) {
			return b.V3().Seg("pay").Seg("transactions").Seg("outTradeNo").Value(no).Get(ctx, wechatpay.Options{Query: query})
		},
		"string path": func() (*wechatpay.Response, error) {
			return b.Chain("v3/pay/transactions/out-trade-no/{out_trade_no}").Get(ctx,
				wechatpay.Options{Path: map[string]string{"out_trade_no": no}, Query: query})
		},
		"async": func() (*wechatpay.Response, error) {
			return b.Chain("v3/pay/transactions/out-trade-no/{out_trade_no}").GetAsync(ctx,
				wechatpay.Options{Path: map[string]string{"out_trade_no": no}, Query: query}).Wait()
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			resp, err := call()
			require.NoError(t, err)
			assert.Equal(t, underBase(want), lastAccepted(t, srv).RequestURI)
			assert.Equal(t, no, resp.Get("out_trade_no").String(), "the server decoded the segment back to the order number")
		})
	}
}

func TestPlaceholdersAndEscaping(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", echo)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()

	tests := []struct {
		name  string
		chain *wechatpay.Chain
		path  map[string]string
		want  string // request target on the server
	}{
		{"slash and space", b.Chain("v3/x/{id}"), map[string]string{"id": "a/b c"}, "/v3/x/a%2Fb%20c"},
		{"unicode", b.Chain("v3/x/{id}"), map[string]string{"id": "订单1"}, "/v3/x/%E8%AE%A2%E5%8D%951"},
		{"already percent-encoded media id is kept", b.Chain("v3/merchant-service/images/{media_id}"),
			map[string]string{"media_id": "ChsyMDAwMDAy%2BMTEwMDIw%3D%3D"}, "/v3/merchant-service/images/ChsyMDAwMDAy%2BMTEwMDIw%3D%3D"},
		{"a lone percent is escaped", b.Chain("v3/x/{id}"), map[string]string{"id": "100%"}, "/v3/x/100%25"},
		{"two placeholders", b.Chain("v3/x/{a}/y/{b}"), map[string]string{"a": "1", "b": "2?"}, "/v3/x/1/y/2%3F"},
		{"capitals and trailing slash kept", b.Chain("v3/applyment4sub/applyment/"), nil, "/v3/applyment4sub/applyment/"},
		{"empty last placeholder gives the trailing slash", b.V3().Seg("applyment4sub").Seg("applyment").Seg("_empty_"),
			map[string]string{"empty": ""}, "/v3/applyment4sub/applyment/"},
		{"capitals in a string path", b.Chain("v3/Mixed/CasePath"), nil, "/v3/Mixed/CasePath"},
		{"leading slash tolerated", b.Chain("/v3/x"), nil, "/v3/x"},
		{"literal value", b.V3().Seg("x").Value("N123+=&"), nil, "/v3/x/N123+=&"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.chain.Post(ctx, wechatpay.Options{Path: tt.path, JSON: map[string]int{"n": 1}})
			require.NoError(t, err)
			assert.Equal(t, underBase(tt.want), lastAccepted(t, srv).RequestURI)
			assert.Equal(t, underBase(tt.want), resp.Get("uri").String())
		})
	}

	t.Run("the server decodes an encoded media id to its meaning", func(t *testing.T) {
		var got string
		srv.Handle("GET /v3/merchant-service/images/{media_id}", func(w http.ResponseWriter, r *http.Request) {
			got = r.PathValue("media_id")
			_, _ = w.Write([]byte("\x89PNG"))
		})
		resp, err := b.Chain("v3/merchant-service/images/{media_id}").Get(ctx, wechatpay.Options{
			Path: map[string]string{"media_id": "ChsyMDAwMDAy%2BMTEwMDIw%3D%3D"}})
		require.NoError(t, err, "complaint images are unsigned downloads")
		assert.Equal(t, "ChsyMDAwMDAy+MTEwMDIw==", got)
		assert.Equal(t, "\x89PNG", resp.String())
	})
}

func TestPlaceholderErrorsSendNothing(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	tests := []struct {
		name  string
		chain *wechatpay.Chain
		path  map[string]string
		want  string
	}{
		{"missing value", b.Chain("v3/pay/transactions/id/{transaction_id}"), nil,
			`placeholder {transaction_id} has no value: set Options.Path["transaction_id"]`},
		{"misspelt key", b.Chain("v3/pay/transactions/id/{transaction_id}"), map[string]string{"transactionid": "1"},
			`placeholder {transaction_id} has no value`},
		{"unused key", b.Chain("v3/x/{a}"), map[string]string{"a": "1", "b": "2", "c": "3"},
			"Options.Path has b, c, which match no {placeholder} in v3/x/{a}"},
		{"values but no placeholder", b.Chain("v3/x"), map[string]string{"a": "1"}, "Options.Path has a but the path has no {placeholder}"},
		{"empty value inside the path", b.Chain("v3/x/{a}/y"), map[string]string{"a": ""}, "placeholder {a} is empty"},
		{"unclosed placeholder", b.Chain("v3/x/{a"), nil, `"{" without "}"`},
		{"bad placeholder name", b.Chain("v3/x/{a-b}"), nil, "placeholder {a-b}"},
		{"empty Value", b.V3().Seg("x").Value(""), nil, "a path value cannot be empty"},
		{"empty Chain", b.Chain(""), nil, "the path is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			_, err := tt.chain.Get(context.Background(), wechatpay.Options{Path: tt.path})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Len(t, srv.Requests(), before, "nothing was sent")
		})
	}
}

func TestBaseURLs(t *testing.T) {
	t.Parallel()
	main := newServer(t)
	// Its own server: these cases are about the /hk/ base path.
	hk := wechatpaytest.NewServer(wechatpaytest.WithBasePath("/hk/"))
	t.Cleanup(hk.Close)

	main.Handle("/", echo)
	hk.Handle("/", echo)
	ctx := context.Background()

	t.Run("config base with a path is kept and signed", func(t *testing.T) {
		b := newBuilder(t, hk, nil)
		_, err := b.Chain("v3/global/transactions/native").Post(ctx, wechatpay.Options{JSON: map[string]int{"a": 1}})
		require.NoError(t, err)
		assert.Equal(t, "/hk/v3/global/transactions/native", lastAccepted(t, hk).RequestURI)
	})
	t.Run("config base without trailing slash", func(t *testing.T) {
		b := newBuilder(t, hk, func(c *wechatpay.Config) { c.BaseURL = strings.TrimSuffix(hk.URL, "/") })
		_, err := b.V3().Seg("x").Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, "/hk/v3/x", lastAccepted(t, hk).RequestURI)
	})
	t.Run("per-request base overrides the config", func(t *testing.T) {
		b := newBuilder(t, main, nil)
		before := len(main.Requests())
		_, err := b.V3().Seg("x").Get(ctx, wechatpay.Options{BaseURL: hk.URL, Query: url.Values{"a": {"1 2"}}})
		require.NoError(t, err)
		assert.Equal(t, "/hk/v3/x?a=1+2", lastAccepted(t, hk).RequestURI)
		assert.Len(t, main.Requests(), before)
	})
	t.Run("a path outside the base path is not found", func(t *testing.T) {
		b := newBuilder(t, hk, func(c *wechatpay.Config) { c.BaseURL = strings.TrimSuffix(hk.URL, "hk/") })
		_, err := b.V3().Seg("x").Get(ctx)
		var apiErr *wechatpay.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 404, apiErr.StatusCode)
	})
	t.Run("bad per-request base", func(t *testing.T) {
		b := newBuilder(t, main, nil)
		_, err := b.V3().Seg("x").Get(ctx, wechatpay.Options{BaseURL: "api.mch.weixin.qq.com"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `Options.BaseURL: "api.mch.weixin.qq.com" is not an absolute http(s) URL`)
	})
	t.Run("default host", func(t *testing.T) {
		cfg := main.Config()
		cfg.BaseURL = ""
		b, err := wechatpay.NewBuilder(cfg)
		require.NoError(t, err)
		// The chain is built but not sent: the default host is the real one.
		assert.Equal(t, "v3/pay/transactions/native", b.V3().Seg("pay").Seg("transactions").Seg("native").Path())
		assert.Equal(t, "https://api.mch.weixin.qq.com/", wechatpay.DefaultBaseURL)
	})
}

// TestSignaturesOnTheWire sends every verb and body shape; the fake server
// checks each signature with its own code.
func TestSignaturesOnTheWire(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", echo)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	type order struct {
		Description string `json:"description"`
		Total       int    `json:"total"`
	}
	tests := []struct {
		name       string
		send       func() (*wechatpay.Response, error)
		method     string
		target     string
		body       string
		jsonHeader bool
	}{
		{"GET with query", func() (*wechatpay.Response, error) {
			return b.Chain("v3/pay/transactions/id/{id}").Get(ctx, wechatpay.Options{
				Path: map[string]string{"id": "4200000001"}, Query: url.Values{"mchid": {"1900000001"}, "a": {"x&y"}}})
		}, "GET", "/v3/pay/transactions/id/4200000001?a=x%26y&mchid=1900000001", "", false},
		{"GET with a query in the path and in Options", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x?scope=all").Get(ctx, wechatpay.Options{Query: url.Values{"b": {"2"}}})
		}, "GET", "/v3/x?scope=all&b=2", "", false},
		{"POST with JSON", func() (*wechatpay.Response, error) {
			return b.V3().Seg("pay").Seg("transactions").Seg("native").Post(ctx, wechatpay.Options{
				JSON: order{Description: "Image形象店<深圳>&QQ", Total: 1}})
		}, "POST", "/v3/pay/transactions/native", `{"description":"Image形象店<深圳>&QQ","total":1}`, true},
		{"POST with raw body", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x").Post(ctx, wechatpay.Options{Body: []byte(`{"raw": true}`)})
		}, "POST", "/v3/x", `{"raw": true}`, true},
		{"POST without body", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x/{id}/cancel").Post(ctx, wechatpay.Options{Path: map[string]string{"id": "1"}})
		}, "POST", "/v3/x/1/cancel", "", true},
		{"PUT", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x").Put(ctx, wechatpay.Options{JSON: map[string]string{"k": "v"}})
		}, "PUT", "/v3/x", `{"k":"v"}`, true},
		{"PATCH", func() (*wechatpay.Response, error) {
			return b.Chain("v3/marketing/partnerships/{id}").Patch(ctx, wechatpay.Options{
				Path: map[string]string{"id": "p1"}, JSON: json.RawMessage(`{"state":"TERMINATED"}`)})
		}, "PATCH", "/v3/marketing/partnerships/p1", `{"state":"TERMINATED"}`, true},
		{"DELETE without body", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x/{id}").Delete(ctx, wechatpay.Options{Path: map[string]string{"id": "1"}})
		}, "DELETE", "/v3/x/1", "", false},
		{"DELETE with body", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x").Delete(ctx, wechatpay.Options{JSON: map[string]int{"n": 2}})
		}, "DELETE", "/v3/x", `{"n":2}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.send()
			require.NoError(t, err)
			got := lastAccepted(t, srv)
			assert.Equal(t, tt.method, got.Method)
			assert.Equal(t, underBase(tt.target), got.RequestURI)
			assert.Equal(t, tt.body, string(got.Body))
			assert.Equal(t, int64(len(tt.body)), got.ContentLength, "Content-Length as received (never chunked)")
			if tt.jsonHeader {
				assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
			}
			assert.Equal(t, tt.body, resp.Get("body").String())
			assert.Equal(t, middleware.DefaultAccept, got.Header.Get("Accept"))
			assert.Equal(t, wechatpay.UserAgent, got.Header.Get("User-Agent"))
			assert.Equal(t, srv.PublicKeyID, got.Header.Get("Wechatpay-Serial"))
		})
	}
}

func TestUserAgentNamesLibraryGoAndOS(t *testing.T) {
	t.Parallel()
	assert.Regexp(t, `^wechatpay-chain-go/\d+\.\d+\.\d+ \((linux|darwin|windows|freebsd)/\w+\) Go/go1\.\d+`, wechatpay.UserAgent)
}

func TestCallerHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	resp, err := b.Chain("v3/pay/transactions/native").Post(context.Background(), wechatpay.Options{
		JSON:    map[string]any{"appid": "wx1", "mchid": srv.MchID, "description": "d", "out_trade_no": "1", "notify_url": "https://x/", "amount": map[string]int{"total": 1}},
		Headers: http.Header{"Wechatpay-Serial": {srv.PlatformSerial}, "user-agent": {"shop/2.0"}},
	})
	require.NoError(t, err)
	got := lastAccepted(t, srv)
	assert.Equal(t, srv.PlatformSerial, got.Header.Get("Wechatpay-Serial"))
	assert.Equal(t, "shop/2.0", got.Header.Get("User-Agent"))
	assert.Equal(t, srv.PlatformSerial, resp.Header().Get("Wechatpay-Serial"), "WeChat answers with the key the request named")
}

// TestRetriesAreSignedAfresh: with retries on, each attempt gets its own
// nonce (the fake server refuses a replayed nonce).
func TestRetriesAreSignedAfresh(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("POST /v3/x", failFirstThenEcho())
	b := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.Retry = &wechatpay.Retry{Retries: 2, Wait: time.Millisecond, MaxWait: time.Millisecond}
	})
	resp, err := b.Chain("v3/x").Post(context.Background(), wechatpay.Options{JSON: map[string]int{"n": 1}})
	require.NoError(t, err)
	assert.Equal(t, `{"n":1}`, resp.Get("body").String(), "the retry carried the body")
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Empty(t, reqs[0].Rejected)
	assert.Empty(t, reqs[1].Rejected)
	assert.NotEqual(t, reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"))
}

func TestVerificationFailures(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", echo)
	b := newBuilder(t, srv, nil)
	tests := []struct {
		fault  wechatpaytest.Fault
		kind   error
		reason string
	}{
		{wechatpaytest.TamperedBody, wechatpay.ErrBadSignature, "the signature does not match"},
		{wechatpaytest.MissingTimestamp, wechatpay.ErrMissingHeader, "no Wechatpay-Timestamp header"},
		{wechatpaytest.MissingNonce, wechatpay.ErrMissingHeader, "no Wechatpay-Nonce header"},
		{wechatpaytest.MissingSignature, wechatpay.ErrMissingHeader, "no Wechatpay-Signature header"},
		{wechatpaytest.MissingSerial, wechatpay.ErrMissingHeader, "no Wechatpay-Serial header"},
		{wechatpaytest.StaleTimestamp, wechatpay.ErrClockSkew, "older than local time"},
		{wechatpaytest.UnknownSerial, wechatpay.ErrUnknownSerial, fmt.Sprintf("not among the configured verification keys [%s, %s]",
			srv.PlatformSerial, srv.PublicKeyID)},
		{wechatpaytest.SignTest, wechatpay.ErrSignTest, "WECHATPAY/SIGNTEST/"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			srv.SetFault(tt.fault)
			defer srv.SetFault(wechatpaytest.NoFault)
			resp, err := b.Chain("v3/x").Post(context.Background(), wechatpay.Options{JSON: map[string]int{"n": 1}})
			assert.Nil(t, resp, "a response that failed verification is never returned as data")
			require.Error(t, err)
			assert.ErrorIs(t, err, wechatpay.ErrVerification)
			assert.ErrorIs(t, err, tt.kind)
			assert.Contains(t, err.Error(), "wechatpay: POST v3/x: response verification failed: ")
			assert.Contains(t, err.Error(), tt.reason)
			var ve *wechatpay.VerificationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, 200, ve.StatusCode)
			assert.Contains(t, string(ve.Body), `"uri":"`+underBase("/v3/x")+`"`, "the error keeps the response")

			lastAccepted(t, srv)
		})
	}
	t.Run("platform certificate identity verifies too", func(t *testing.T) {
		b := newBuilder(t, srv, func(c *wechatpay.Config) { c.WechatpaySerial = srv.PlatformSerial })
		resp, err := b.Chain("v3/x").Get(context.Background())
		require.NoError(t, err)
		assert.Equal(t, srv.PlatformSerial, resp.Header().Get("Wechatpay-Serial"))
	})
	t.Run("unknown serial reminds of the merchant certificate", func(t *testing.T) {
		b := newBuilder(t, srv, func(c *wechatpay.Config) { delete(c.Certs, srv.PublicKeyID) })
		_, err := b.Chain("v3/x").Get(context.Background(), wechatpay.Options{Headers: http.Header{"Wechatpay-Serial": {srv.PublicKeyID}}})
		assert.ErrorIs(t, err, wechatpay.ErrUnknownSerial)
		assert.Contains(t, err.Error(), "the merchant's own API certificate is not a verification key")
	})
}

func TestUnsignedDownloadsSkipVerification(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("交易时间,公众账号ID\n"))
	})
	b := newBuilder(t, srv, nil)
	resp, err := b.Chain("v3/billdownload/file").Get(context.Background(), wechatpay.Options{Query: url.Values{"token": {"t"}}})
	require.NoError(t, err)
	assert.Empty(t, resp.Header().Get("Wechatpay-Signature"), "the fake server, like WeChat, does not sign it")
	assert.Equal(t, "交易时间,公众账号ID\n", resp.String())
	lastAccepted(t, srv) // the request itself was signed
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("GET /v3/gateway", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
	})
	ctx := context.Background()
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	tests := []struct {
		name              string
		send              func() error
		status            int
		code, message     string
		detail, errorText string
	}{
		{"PARAM_ERROR with detail", func() error {
			_, err := newBuilder(t, srv, nil).Chain("v3/pay/transactions/jsapi").Post(ctx, wechatpay.Options{JSON: map[string]string{"appid": "wx1"}})
			return err
		}, 400, "PARAM_ERROR", "缺少参数 mchid", `"field":"/mchid"`, "wechatpay: POST v3/pay/transactions/jsapi: 400 PARAM_ERROR: 缺少参数 mchid (detail: "},
		{"SIGN_ERROR for a wrong serial", func() error {
			_, err := newBuilder(t, srv, func(c *wechatpay.Config) { c.Serial = "0123456789ABCDEF" }).Chain("v3/x").Get(ctx)
			return err
		}, 401, "SIGN_ERROR", "签名错误", "serial_no 0123456789ABCDEF is not the serial", "check that Config.Serial is the serial of the merchant API certificate"},
		{"SIGN_ERROR for a wrong key", func() error {
			_, err := newBuilder(t, srv, func(c *wechatpay.Config) { c.PrivateKey = otherKey }).Chain("v3/x").Get(ctx)
			return err
		}, 401, "SIGN_ERROR", "签名错误", "sign not match", "401 SIGN_ERROR"},
		{"not found", func() error {
			_, err := newBuilder(t, srv, nil).Chain("v3/nowhere").Get(ctx)
			return err
		}, 404, "RESOURCE_NOT_EXISTS", "not a documented endpoint; no handler for GET " + underBase("/v3/nowhere") + " on the fake server: register one with Server.Handle", "", "404 RESOURCE_NOT_EXISTS"},

		{"HTML from a gateway", func() error {
			_, err := newBuilder(t, srv, nil).Chain("v3/gateway").Get(ctx)
			return err
		}, 502, "", "<html><body>502 Bad Gateway</body></html>", "", "502: <html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.send()
			var apiErr *wechatpay.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.NotErrorIs(t, err, wechatpay.ErrVerification)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.code, apiErr.Code)
			assert.Equal(t, tt.message, apiErr.Message)
			assert.Contains(t, string(apiErr.Detail), tt.detail)
			assert.Regexp(t, `^08[0-9A-F]{32}$`, apiErr.RequestID)
			assert.Equal(t, apiErr.RequestID, apiErr.Header.Get("Request-ID"))
			assert.NotEmpty(t, apiErr.Body)
			assert.Contains(t, err.Error(), tt.errorText)
			assert.Contains(t, err.Error(), apiErr.RequestID)
		})
	}
}

type countingKey struct {
	key   middleware.SigningKey
	mu    sync.Mutex
	calls int
}

func (k *countingKey) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	k.mu.Lock()
	k.calls++
	k.mu.Unlock()
	return k.key.Sign(ctx, msg)
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", echo)
	ctx := context.Background()

	t.Run("remote signing key", func(t *testing.T) {
		remote := &countingKey{key: middleware.FromCryptoSigner(srv.MerchantKey)}
		b := newBuilder(t, srv, func(c *wechatpay.Config) { c.PrivateKey, c.SigningKey = nil, remote })
		for range 3 {
			_, err := b.Chain("v3/x").Get(ctx)
			require.NoError(t, err)
			lastAccepted(t, srv)
		}
		assert.Equal(t, 3, remote.calls)
	})

	t.Run("user steps run in stack order and see the signed request", func(t *testing.T) {
		var log []string
		b := newBuilder(t, srv, func(c *wechatpay.Config) {
			c.Middleware = func(s *middleware.Stack) error {
				if err := s.InsertBefore(middleware.SignerStep, middleware.Step{Name: "tag", Request: func(r *http.Request) error {
					r.Header.Set("X-Trace", "t1")
					log = append(log, "tag")
					return nil
				}}); err != nil {
					return err
				}
				return s.Append(middleware.Step{Name: "log",
					Request: func(r *http.Request) error {
						log = append(log, "log request signed="+fmt.Sprint(strings.HasPrefix(r.Header.Get("Authorization"), middleware.Scheme)))
						return nil
					},
					Response: func(r *http.Response, body []byte) error {
						log = append(log, fmt.Sprintf("log response %d %d bytes", r.StatusCode, len(body)))
						return nil
					}})
			}
		})
		assert.Equal(t, []string{"headers", "tag", "signer", "verifier", "log"}, b.Stack().Names())
		resp, err := b.Chain("v3/x").Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"tag", "log request signed=true", fmt.Sprintf("log response 200 %d bytes", len(resp.Body()))}, log)
		assert.Equal(t, "t1", lastAccepted(t, srv).Header.Get("X-Trace"))
	})

	t.Run("verifier removed for one request only", func(t *testing.T) {
		b := newBuilder(t, srv, nil)
		srv.SetFault(wechatpaytest.TamperedBody)
		defer srv.SetFault(wechatpaytest.NoFault)
		_, err := b.Chain("v3/x").Get(ctx, wechatpay.Options{Middleware: middleware.Without(middleware.VerifierStep)})
		assert.NoError(t, err)
		_, err = b.Chain("v3/x").Get(ctx)
		assert.ErrorIs(t, err, wechatpay.ErrVerification, "the builder's stack is unchanged")
	})

	t.Run("verifier replaced for the builder", func(t *testing.T) {
		var seen int
		b := newBuilder(t, srv, func(c *wechatpay.Config) {
			c.Middleware = func(s *middleware.Stack) error {
				_, err := s.Replace(middleware.VerifierStep, middleware.Step{Response: func(*http.Response, []byte) error {
					seen++
					return nil
				}})
				return err
			}
		})
		srv.SetFault(wechatpaytest.SignTest)
		defer srv.SetFault(wechatpaytest.NoFault)
		_, err := b.Chain("v3/x").Get(ctx)
		assert.NoError(t, err)
		assert.Equal(t, 1, seen)
	})

	t.Run("errors before sending send nothing", func(t *testing.T) {
		failing := newBuilder(t, srv, func(c *wechatpay.Config) { c.PrivateKey, c.SigningKey = nil, failingKey{} })
		b := newBuilder(t, srv, nil)
		for name, send := range map[string]func() error{
			"signing key fails": func() error { _, err := failing.Chain("v3/x").Get(ctx); return err },
			"bad per-request edit": func() error {
				_, err := b.Chain("v3/x").Get(ctx, wechatpay.Options{Middleware: middleware.Without("verifer")})
				return err
			},
			"request step fails": func() error {
				_, err := b.Chain("v3/x").Get(ctx, wechatpay.Options{Middleware: func(s *middleware.Stack) error {
					return s.Append(middleware.Step{Name: "guard", Request: func(*http.Request) error { return errors.New("guard says no") }})
				}})
				return err
			},
		} {
			t.Run(name, func(t *testing.T) {
				before := len(srv.Requests())
				require.Error(t, send())
				assert.Len(t, srv.Requests(), before)
			})
		}
	})

	t.Run("a bad builder edit fails NewBuilder", func(t *testing.T) {
		cfg := srv.Config()
		cfg.Middleware = middleware.Without("nope")
		_, err := wechatpay.NewBuilder(cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `Config.Middleware: middleware: no step named "nope"; the stack holds [headers, signer, verifier]`)
	})
}

type failingKey struct{}

func (failingKey) Sign(context.Context, []byte) ([]byte, error) {
	return nil, errors.New("kms: key disabled")
}

func TestOptionsErrorsSendNothing(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		send func() (*wechatpay.Response, error)
		want string
	}{
		{"JSON and Body", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x").Post(ctx, wechatpay.Options{JSON: map[string]int{}, Body: []byte("{}")})
		}, "Options.JSON and Options.Body are both set"},
		{"GET with a body", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x").Get(ctx, wechatpay.Options{JSON: map[string]int{}})
		}, "a GET request carries no body"},
		{"JSON string", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x").Post(ctx, wechatpay.Options{JSON: `{"a":1}`})
		}, "Options.JSON holds a string"},
		{"JSON bytes", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x").Post(ctx, wechatpay.Options{JSON: []byte(`{"a":1}`)})
		}, "put raw JSON bytes in Options.Body"},
		{"invalid RawMessage", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x").Post(ctx, wechatpay.Options{JSON: json.RawMessage(`{`)})
		}, "not valid JSON"},
		{"unmarshalable", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x").Post(ctx, wechatpay.Options{JSON: map[string]any{"c": make(chan int)}})
		}, "Options.JSON: json: unsupported type: chan int"},
		{"two Options", func() (*wechatpay.Response, error) {
			return b.Chain("v3/x").Get(ctx, wechatpay.Options{}, wechatpay.Options{})
		}, "got 2 Options, expected at most one"},
		{"JSON on an APIv2 path", func() (*wechatpay.Response, error) {
			return b.V2().Pay().Micropay().Post(ctx, wechatpay.Options{JSON: map[string]string{}})
		}, "POST v2/pay/micropay: APIv2 parameters go in Options.XML, not Options.JSON or Options.Body"},
		{"a Sink on an APIv2 path that answers XML", func() (*wechatpay.Response, error) {
			return b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: io.Discard}})
		}, "Options.Sink on an APIv2 path is for the file downloads"},
		{"Media on an APIv2 path", func() (*wechatpay.Response, error) {
			return b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{Media: &wechatpay.Media{Filename: "a.png", Reader: strings.NewReader("x")}})
		}, "Options.Media is for APIv3 uploads"},
		{"XML on an APIv3 path", func() (*wechatpay.Response, error) {
			return b.V3().Pay().Transactions().Native().Post(ctx, wechatpay.Options{XML: map[string]string{}})
		}, "Options.XML, Nonceless and Security are for APIv2 (v2/) paths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.send()
			assert.Nil(t, resp)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, srv.Requests())
		})
	}
}

func TestResponse(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	resp, err := b.Chain("v3/pay/transactions/id/{transaction_id}").Get(ctx, wechatpay.Options{
		Path: map[string]string{"transaction_id": "4200000001"}, Query: url.Values{"mchid": {srv.MchID}}})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode())
	assert.Equal(t, "4200000001", resp.Get("transaction_id").String())
	assert.Equal(t, int64(100), resp.Get("amount.total").Int())
	assert.False(t, resp.Get("no.such.field").Exists())
	assert.Equal(t, "SUCCESS", resp.JSON().Get("trade_state").String())
	assert.Equal(t, string(resp.Body()), resp.String())
	assert.Regexp(t, `^08[0-9A-F]{32}$`, resp.RequestID())
	assert.Equal(t, srv.PublicKeyID, resp.Header().Get("Wechatpay-Serial"))
	var tx struct {
		TransactionID string `json:"transaction_id"`
		Amount        struct{ Total int }
	}
	require.NoError(t, resp.Decode(&tx))
	assert.Equal(t, "4200000001", tx.TransactionID)
	assert.Equal(t, 100, tx.Amount.Total)
	assert.Error(t, resp.Decode(&[]int{}))

	closed, err := b.Chain("v3/pay/transactions/out-trade-no/{no}/close").Post(ctx, wechatpay.Options{
		Path: map[string]string{"no": "1"}, JSON: map[string]string{"mchid": srv.MchID}})
	require.NoError(t, err)
	assert.Equal(t, 204, closed.StatusCode())
	err = closed.Decode(&tx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the response (status 204) has no body")
}

// TestConcurrentUse shares one Builder and one chain prefix across
// goroutines; run it with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", echo)
	b := newBuilder(t, srv, nil)
	prefix := b.V3().Seg("pay").Seg("transactions")
	ctx := context.Background()
	const workers, each = 16, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				no := fmt.Sprintf("CONC-ORDER-%02d-%02d", w, i) // cannot be in another answer by chance
				var resp *wechatpay.Response
				var err error
				if i%2 == 0 {
					resp, err = prefix.Seg("outTradeNo").Value(no).Get(ctx)
				} else {
					resp, err = prefix.Seg("native").Post(ctx, wechatpay.Options{JSON: map[string]string{"out_trade_no": no},
						Middleware: middleware.Without(middleware.HeadersStep, middleware.VerifierStep),
						Headers:    http.Header{"Accept": {"*/*"}, "User-Agent": {"w"}}})
				}
				switch {
				case err != nil:
					errs <- err
				case !strings.Contains(resp.String(), no):
					errs <- fmt.Errorf("response %s is not for %s", resp, no)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, "v3/pay/transactions", prefix.Path())
	reqs := srv.Requests()
	assert.Len(t, reqs, workers*each)
	for _, r := range reqs {
		assert.Empty(t, r.Rejected)
	}
}

func TestMisuseIsAnErrorNotAPanic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var nilBuilder *wechatpay.Builder
	var nilChain *wechatpay.Chain
	for name, c := range map[string]*wechatpay.Chain{
		"nil chain":   nilChain,
		"zero chain":  {},
		"nil builder": nilBuilder.V3().Seg("pay"),
		"seg on nil":  nilChain.Seg("pay").Value("1"),
	} {
		want := "this Chain was not made by a Builder"
		if name == "nil builder" {
			want = "the Builder is not initialised: create it with NewBuilder"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Get(ctx)
			assert.ErrorContains(t, err, want)
			_, err = c.PostAsync(ctx).Wait()
			assert.ErrorContains(t, err, want)
			assert.Error(t, c.Err())
		})
	}

	var resp *wechatpay.Response
	assert.Equal(t, 0, resp.StatusCode())
	assert.Empty(t, resp.Body())
	assert.Empty(t, resp.String())
	assert.Empty(t, resp.RequestID())
	assert.False(t, resp.Get("code_url").Exists())
	assert.False(t, resp.JSON().Exists())
	assert.Empty(t, resp.Header())
	assert.Nil(t, resp.HTTPResponse())
	assert.Error(t, resp.Decode(&struct{}{}))

	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	_, err := b.Chain("v3/pay/transactions/id/1").GetAsync(ctx, wechatpay.Options{Query: url.Values{"mchid": {srv.MchID}}}).Then(nil).Wait()
	assert.EqualError(t, err, "wechatpay: Then(nil): expected a function")
	_, err = wechatpay.WaitAll(nil)
	assert.EqualError(t, err, "future 0 is nil")
}
