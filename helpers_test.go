package wechatpay_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// basePath is where newServer mounts the fake server: tests send under a
// base path, as a client of the Hong Kong wallet (/hk/) does, so that a
// request built from the host alone, or a path that drops the base, is
// answered 404 instead of passing by chance.
const basePath = "/base/"

// newServer starts a fake WeChat Pay under basePath with opts and closes it
// when t and its subtests are done (go-github's setup). Its URL and Config
// carry the base path, so Builders made from it send under it; recorded
// RequestURIs start with it.
func newServer(t testing.TB, opts ...wechatpaytest.Option) *wechatpaytest.Server {
	t.Helper()
	srv := wechatpaytest.NewServer(append([]wechatpaytest.Option{wechatpaytest.WithBasePath(basePath)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}

// newBuilder returns a Builder for srv, with cfg edited by edit (may be nil).
func newBuilder(t testing.TB, srv *wechatpaytest.Server, edit func(*wechatpay.Config)) *wechatpay.Builder {
	t.Helper()
	cfg := srv.Config()
	if edit != nil {
		edit(&cfg)
	}
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	return b
}

// underBase returns uri, a request target relative to the base path as in
// Server.Handle patterns ("/v3/x"), as a newServer server receives it.
func underBase(uri string) string { return basePath + strings.TrimPrefix(uri, "/") }

// failFirstThenEcho is a handler that answers its first request 500
// SYSTEM_ERROR (which Config.Retry repeats) and echoes every later one.
func failFirstThenEcho() http.HandlerFunc {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			wechatpaytest.Error(w, 500, "SYSTEM_ERROR", "try again")
			return
		}
		echo(w, r)
	}
}
