package middleware_test

import (
	"testing"

	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// basePath is where the tests mount the fake server, as in the other
// packages' tests; here it lends its keys and signs, and nothing is sent to
// it, so the path only keeps the servers alike.
const basePath = "/base/"

// newServer starts a fake WeChat Pay under basePath with opts and closes it
// when t and its subtests are done.
func newServer(t testing.TB, opts ...wechatpaytest.Option) *wechatpaytest.Server {
	t.Helper()
	srv := wechatpaytest.NewServer(append([]wechatpaytest.Option{wechatpaytest.WithBasePath(basePath)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}
