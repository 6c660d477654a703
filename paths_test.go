package wechatpay_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestChainFullURLs pins which full URLs Chain takes: http(s)://host/path
// with an optional query, nothing else, and never a panic.
func TestChainFullURLs(t *testing.T) {
	t.Parallel()
	// At the root, not newServer's base path: the full URLs here are the
	// host and a path, and some are refused for what follows the host.
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)

	srv.Handle("/", echo)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	h := hostOf(t, srv.URL) // URLs built on it reach the fake server (and are recorded) even when they should have been refused
	port := h[strings.LastIndexByte(h, ':')+1:]

	t.Run("accepted and sent", func(t *testing.T) {
		tests := []struct{ in, want string }{
			{"http://" + h + "/v3/billdownload/file?token=6XIv5TUPto7pByrTQ", "/v3/billdownload/file?token=6XIv5TUPto7pByrTQ"},
			{"HTTP://" + h + "/v3/x", "/v3/x"},
			{"http://" + h + "/v3/applyment4sub/applyment/", "/v3/applyment4sub/applyment/"},
			{"http://" + h + "/v3/x/N1%2F2", "/v3/x/N1%2F2"},
		}
		for _, tt := range tests {
			t.Run(tt.in, func(t *testing.T) {
				_, err := b.Chain(tt.in).Get(ctx)
				require.NoError(t, err)
				assert.Equal(t, tt.want, lastAccepted(t, srv).RequestURI)
			})
		}
	})

	t.Run("a full URL goes where it says, as APIv3", func(t *testing.T) {
		// "v2/" is stripped from APIv2 paths only (found by FuzzChainURL).
		// The fake server takes /v2/x for APIv2 and leaves its answer
		// unsigned: what matters here is the request.
		before := len(srv.Requests())
		_, _ = b.Chain("http://" + h + "/v2/x").Get(ctx)
		reqs := srv.Requests()
		require.Len(t, reqs, before+1)
		assert.Equal(t, "/v2/x", reqs[before].RequestURI)
		assert.True(t, strings.HasPrefix(reqs[before].Header.Get("Authorization"), "WECHATPAY2-SHA256-RSA2048 "))
		got, err := b.Chain("https://api.mch.weixin.qq.com/v2/pay/micropay").URL()
		require.NoError(t, err)
		assert.Equal(t, "https://api.mch.weixin.qq.com/v2/pay/micropay", got)
	})

	t.Run("accepted, not sent", func(t *testing.T) {
		tests := []struct{ in, want string }{
			{"https://api.mch.weixin.qq.com/v3/billdownload/file?token=abc", "https://api.mch.weixin.qq.com/v3/billdownload/file?token=abc"},
			{"HTTPS://API.mch.weixin.qq.com/v3/x", "https://API.mch.weixin.qq.com/v3/x"},
			{"https://[::1]:8443/v3/x", "https://[::1]:8443/v3/x"},
			{"https://[fe80::1%25en0]:8443/v3/x", "https://[fe80::1%25en0]:8443/v3/x"},
			{"https://api.mch.weixin.qq.com:443/hk/v3/transactions/native", "https://api.mch.weixin.qq.com:443/hk/v3/transactions/native"},
		}
		for _, tt := range tests {
			t.Run(tt.in, func(t *testing.T) {
				t.Parallel()
				got, err := b.Chain(tt.in).URL()
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			})
		}
	})

	t.Run("refused before sending", func(t *testing.T) {
		const password = "pw-SENTINEL-4f1c9a0e"
		tests := []struct{ in, want string }{
			{"http://" + h, "has no path after the host"},
			{"http://" + h + "/", "has no path after the host"},
			{"http://" + h + "?x=1", "has no path after the host"},
			{"http://" + h + "/?x=1", "has no path after the host"},
			{"http://user:" + password + "@" + h + "/v3/x", "has user info"},
			{"http://user@" + h + "/v3/x", "has user info"},
			{"http://" + h + "/v3/x#frag", "has a fragment"},
			{"http://" + h + "/v3/x?a=1#", "has a fragment"},
			{"http:///v3/x", "has no host"},
			{"http://:" + port + "/v3/x", "has no host"},
			{"ftp://" + h + "/v3/x", `scheme "ftp"`},
			{"http:/" + h + "/v3/x", "expected http(s)://host/path"},
			{"http:" + h + "/v3/x", "expected http(s)://host/path"},
			{" http://" + h + "/v3/x", "not a URL"},
			{"1http://" + h + "/v3/x", "not a URL"},
			{"http://[::1/v3/x", "not a URL"},
			{"http://" + h + ":1:2/v3/x", "not a URL"},
			{"http://" + h + "//v3/x", `the path starts with "//"`},
			{"http://" + h + "//", `the path starts with "//"`},
			{"http://" + h + "/v3/../close", `".."`},
			{"http://" + h + "/v3/%2e%2E/close", `".."`},
			{"http://" + h + "/v3/./x", `"."`},
		}
		for _, tt := range tests {
			t.Run(tt.in, func(t *testing.T) {
				before := len(srv.Requests())
				c := b.Chain(tt.in)
				require.Error(t, c.Err())
				_, err := c.Get(ctx)
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
				assert.Contains(t, err.Error(), "expected")
				assert.NotContains(t, err.Error(), password)
				redacted := strings.NewReplacer("user:"+password+"@", "xxxxx@", "user@", "xxxxx@").Replace(tt.in)
				if before, _, ok := strings.Cut(redacted, "?"); ok {
					redacted = before + "?..." // a URL's query may be a token
				}
				assert.Contains(t, err.Error(), fmt.Sprintf("wechatpay: Chain(%q): ", redacted))
				_, err = c.URL()
				assert.Error(t, err)
				assert.Len(t, srv.Requests(), before, "nothing was sent")
			})
		}
	})
}

// TestPathValuesCannotClimb pins that no value, placeholder or template can
// send a "." or ".." segment (in any percent-encoded form) to the server.
func TestPathValuesCannotClimb(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", echo)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	order := b.V3().Pay().Transactions().OutTradeNo()
	tmpl := b.Chain("v3/pay/transactions/out-trade-no/{out_trade_no}/close")
	p := func(v string) map[string]string { return map[string]string{"out_trade_no": v} }

	refused := []struct {
		name  string
		chain *wechatpay.Chain
		path  map[string]string
		want  string
	}{
		{"Value ..", order.Value("..").Seg("close"), nil, `Value("..")`},
		{"Value .", order.Value(".").Seg("close"), nil, `Value(".")`},
		{"Value %2e%2e", order.Value("%2e%2e").Seg("close"), nil, `is ".." once percent-decoded`},
		{"Value %2E%2E", order.Value("%2E%2E").Seg("close"), nil, `is ".." once percent-decoded`},
		{"Value .%2e", order.Value(".%2e").Seg("close"), nil, `is ".." once percent-decoded`},
		{"Value %2e", order.Value("%2e").Seg("close"), nil, `is "." once percent-decoded`},
		{"Value ../close", order.Value("../close"), nil, `".."`},
		{"Value ..%2Fclose", order.Value("..%2Fclose"), nil, `".."`},
		{"Value a/../b", order.Value("a/../b"), nil, `".."`},
		{"Value %2e%2e%2fx", order.Value("%2e%2e%2fx"), nil, `".."`},
		{"Value ..\\x", order.Value(`..\x`), nil, `".."`},
		{"Seg ..", order.Seg(".."), nil, `Seg("..")`},
		{"Seg .", order.Seg("."), nil, `Seg(".")`},
		{"placeholder ..", tmpl, p(".."), `placeholder {out_trade_no}: Options.Path["out_trade_no"]`},
		{"placeholder .", tmpl, p("."), `placeholder {out_trade_no}`},
		{"placeholder %2e%2e", tmpl, p("%2e%2e"), `".."`},
		{"placeholder %2E.", tmpl, p("%2E."), `".."`},
		{"placeholder ..%2F", tmpl, p("..%2F"), `".."`},
		{"placeholder /../", tmpl, p("/../"), `".."`},
		{"an empty last value after a dot", b.Chain("v3/x/.{a}"), map[string]string{"a": ""}, `segment "."`},
		{"escape completed by a value", b.Chain("v3/x/%2{a}/close"), map[string]string{"a": "e."}, `".."`},
		{"template ..", b.Chain("v3/pay/transactions/../close"), nil, `segment ".."`},
		{"template .", b.Chain("v3/./pay"), nil, `segment "."`},
		{"template trailing ..", b.Chain("v3/pay/.."), nil, `segment ".."`},
		{"template %2e%2e", b.Chain("v3/pay/%2e%2e/close"), nil, `segment "%2e%2e"`},
		{"template %2E", b.Chain("v3/%2E/close"), nil, `segment "%2E"`},
		{"template leading ..", b.Chain("../v3/x"), nil, `segment ".."`},
		{"template bad escape", b.Chain("v3/x/100%/y"), nil, "invalid percent-escape"},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			_, err := tt.chain.Post(ctx, wechatpay.Options{Path: tt.path, JSON: map[string]int{"n": 1}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "expected")
			assert.Len(t, srv.Requests(), before, "nothing was sent")
		})
	}

	accepted := []struct {
		name  string
		chain *wechatpay.Chain
		path  map[string]string
		want  string // request target on the server
	}{
		{"three dots", order.Value("..."), nil, "/v3/pay/transactions/out-trade-no/..."},
		{"dots inside", order.Value("a..b"), nil, "/v3/pay/transactions/out-trade-no/a..b"},
		{"leading dot", order.Value(".hidden"), nil, "/v3/pay/transactions/out-trade-no/.hidden"},
		{"slash is one segment", order.Value("a/b"), nil, "/v3/pay/transactions/out-trade-no/a%2Fb"},
		{"encoded slash kept", order.Value("a%2Fb"), nil, "/v3/pay/transactions/out-trade-no/a%2Fb"},
		{"placeholder with slash", tmpl, p("N1/2"), "/v3/pay/transactions/out-trade-no/N1%2F2/close"},
		{"placeholder of dots and text", tmpl, p("..x"), "/v3/pay/transactions/out-trade-no/..x/close"},
		{"double-encoded dots stay as sent", tmpl, p("%252e%252e"), "/v3/pay/transactions/out-trade-no/%252e%252e/close"},
		{"dots in a template's literal text", b.Chain("v3/x/a.b/.c/d./..."), nil, "/v3/x/a.b/.c/d./..."},
	}
	for _, tt := range accepted {
		t.Run("accepted: "+tt.name, func(t *testing.T) {
			_, err := tt.chain.Post(ctx, wechatpay.Options{Path: tt.path, JSON: map[string]int{"n": 1}})
			require.NoError(t, err)
			assert.Equal(t, underBase(tt.want), lastAccepted(t, srv).RequestURI)
		})
	}
}

// TestQueryPlaceholdersAreQueryEscaped pins that a {placeholder} after "?"
// is escaped as a query value: it cannot add parameters.
func TestQueryPlaceholdersAreQueryEscaped(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var got url.Values
	srv.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		_, _ = w.Write([]byte("bill"))
	})
	srv.Handle("/", echo)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()

	tests := []struct {
		name   string
		chain  *wechatpay.Chain
		path   map[string]string
		target string
		query  url.Values
	}{
		{"a full URL's query is sent as given, no placeholders", b.Chain(srv.URL + "v3/billdownload/file?token=a+b%26c%7Bd%7D"),
			nil, "/v3/billdownload/file?token=a+b%26c%7Bd%7D", url.Values{"token": {"a b&c{d}"}}},
		{"path template", b.Chain("v3/billdownload/file?token={token}&tar_type=GZIP"),
			map[string]string{"token": "x#y?z"},
			"/v3/billdownload/file?token=x%23y%3Fz&tar_type=GZIP",
			url.Values{"token": {"x#y?z"}, "tar_type": {"GZIP"}}},
		{"dots are plain text in a query", b.Chain("v3/billdownload/file?token={token}"),
			map[string]string{"token": ".."}, "/v3/billdownload/file?token=..", url.Values{"token": {".."}}},
		{"an empty query value may sit anywhere", b.Chain("v3/billdownload/file?a={a}&b=1"),
			map[string]string{"a": ""}, "/v3/billdownload/file?a=&b=1", url.Values{"a": {""}, "b": {"1"}}},
		{"path and query placeholders", b.Chain("v3/billdownload/{f}?token={token}"),
			map[string]string{"f": "file", "token": "a/b c"}, "/v3/billdownload/file?token=a%2Fb+c", url.Values{"token": {"a/b c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			_, err := tt.chain.Get(ctx, wechatpay.Options{Path: tt.path})
			require.NoError(t, err)
			assert.Equal(t, underBase(tt.target), lastAccepted(t, srv).RequestURI)
			assert.Equal(t, tt.query, got)
		})
	}
}

// TestTemplatesRefuseFragmentsAndControlCharacters pins that a "#" or a
// control character in a Chain path is an error: everything after a "#"
// would be cut off the request unnoticed, and a control character makes a
// URL that does not parse. (Both found by FuzzChainURL.)
func TestTemplatesRefuseFragmentsAndControlCharacters(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", echo)
	b := newBuilder(t, srv, nil)
	tests := []struct{ template, want string }{
		{"#000000000000000000000000000000", `a path has no "#"`},
		{"v3/x#close", `a path has no "#"`},
		{"v3/x/{a}#close", `a path has no "#"`},
		{"v3/x?a=1#b", `a path has no "#"`},
		{"v3/x#", `a path has no "#"`},
		{"\x00", `a path has no control characters or spaces: '\x00' at byte 0`},
		{"v3/x\r\nHost: evil", `a path has no control characters or spaces: '\r' at byte 4`},
		{"v3/x?a=\x7f", `a path has no control characters or spaces: '\x7f' at byte 7`},
		{"v3/x\t", `a path has no control characters or spaces: '\t' at byte 4`},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			before := len(srv.Requests())
			_, err := b.Chain(tt.template).Get(context.Background(), wechatpay.Options{Path: map[string]string{"a": "1"}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf(`wechatpay: Chain(%q): `, tt.template)+tt.want)
			assert.Contains(t, err.Error(), "expected")
			assert.Len(t, srv.Requests(), before, "nothing was sent")
		})
	}
	t.Run("a # in a value is escaped", func(t *testing.T) {
		_, err := b.Chain("v3/x/{a}?t={b}").Get(context.Background(), wechatpay.Options{Path: map[string]string{"a": "1#2", "b": "3#4"}})
		require.NoError(t, err)
		assert.Equal(t, underBase("/v3/x/1%232?t=3%234"), lastAccepted(t, srv).RequestURI)
	})
}

// TestRefusedURLsHideTheirUserInfo: a password with characters a URL does
// not allow there ("#", "?") is still kept out of the error.
func TestRefusedURLsHideTheirUserInfo(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b, err := wechatpay.NewBuilder(srv.Config())
	require.NoError(t, err)
	const password = "PASS#WORD?SENTINEL-8d3f1b"
	for _, raw := range []string{
		"https://user:" + password + "@api.mch.weixin.qq.com/v3/x",
		"https://user:" + password + "@api.mch.weixin.qq.com",
	} {
		err := b.Chain(raw).Err()
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "WORD")
		assert.NotContains(t, err.Error(), "SENTINEL-8d3f1b")
	}
}

// TestSpacesAndDotsAreRefusedWhereNothingEscapesThem: a literal path,
// query or base URL is sent as written, so a space (which would split the
// request line) or a dot segment (which would climb out of the base path)
// is refused before anything is sent.
func TestSpacesAndDotsAreRefusedWhereNothingEscapesThem(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b, err := wechatpay.NewBuilder(srv.Config())
	require.NoError(t, err)
	ctx := context.Background()
	tests := []struct {
		name string
		send func() error
		want string
	}{
		{"a space in a template's query", func() error {
			_, err := b.Chain("v3/certificates?x=1 HTTP/1.1").Get(ctx)
			return err
		}, "no control characters or spaces"},
		{"a space in a template's path", func() error {
			_, err := b.Chain("v3/pay/transactions/out-trade-no/T 1").Get(ctx)
			return err
		}, "no control characters or spaces"},
		{"a space in a full URL's query", func() error {
			_, err := b.Chain(srv.URL + "v3/billdownload/file?token=a b").Get(ctx)
			return err
		}, "no control characters or spaces"},
		{"a dot segment in Options.BaseURL", func() error {
			_, err := b.Chain("v3/certificates").Get(ctx, wechatpay.Options{BaseURL: srv.URL + "hk/../"})
			return err
		}, `".." segment`},
		{"an escaped dot segment in Options.BaseURL", func() error {
			_, err := b.Chain("v3/certificates").Get(ctx, wechatpay.Options{BaseURL: srv.URL + "hk/%2e%2e/"})
			return err
		}, `".." segment`},
		{"a base URL ending in ?", func() error {
			_, err := b.Chain("v2/pay/downloadbill").Post(ctx, wechatpay.Options{BaseURL: srv.URL + "pay/orderquery?"})
			return err
		}, "has a query or fragment"},
		{"a base URL ending in #", func() error {
			cfg := srv.Config()
			cfg.BaseURL = srv.URL + "secapi/pay/refund#"
			_, err := wechatpay.NewBuilder(cfg)
			return err
		}, "has a query or fragment"},
		{"a dot segment in Config.BaseURL", func() error {
			cfg := srv.Config()
			cfg.BaseURL = srv.URL + "./"
			_, err := wechatpay.NewBuilder(cfg)
			return err
		}, `"." segment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			err := tt.send()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Len(t, srv.Requests(), before, "nothing was sent")
		})
	}
	_, err = b.Chain("v3/billdownload/file?token=a%20b").Get(ctx)
	var apiErr *wechatpay.APIError
	if err != nil {
		require.ErrorAs(t, err, &apiErr, "an escaped space is fine: the request is sent")
	}
}
