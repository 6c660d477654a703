package certificates_test

import (
	"testing"

	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// basePath is where the tests mount the fake server, so that the Manager's
// downloads are seen to go under Config.BaseURL's path, not to the host's
// root.
const basePath = "/base/"

// newServer starts a fake WeChat Pay under basePath with opts and closes it
// when t and its subtests are done. A test that checks for leaked
// goroutines starts its own with WithBasePath(basePath) and closes it by
// defer instead: goleak.VerifyNone, deferred, runs before t.Cleanup. Such
// tests are not parallel either: goleak would see other tests' goroutines.
func newServer(t testing.TB, opts ...wechatpaytest.Option) *wechatpaytest.Server {
	t.Helper()
	srv := wechatpaytest.NewServer(append([]wechatpaytest.Option{wechatpaytest.WithBasePath(basePath)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}
