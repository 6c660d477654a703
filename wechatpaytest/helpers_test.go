package wechatpaytest_test

import (
	"testing"

	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// basePath is where the tests mount the server, as a client of the Hong
// Kong wallet (/hk/) sees it: requests built from srv.URL reach it, and a
// path that dropped the base would be answered 404.
const basePath = "/base/"

// newServer starts a fake WeChat Pay under basePath with opts and closes it
// when t and its subtests are done.
func newServer(t testing.TB, opts ...wechatpaytest.Option) *wechatpaytest.Server {
	t.Helper()
	srv := wechatpaytest.NewServer(append([]wechatpaytest.Option{wechatpaytest.WithBasePath(basePath)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}
