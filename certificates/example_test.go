package certificates_test

import (
	"context"
	"fmt"

	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// For a merchant that verifies with platform certificates: one call
// downloads them, builds a Builder that verifies with them, and keeps them
// fresh until Stop.
func ExampleNewBuilder() {
	srv := wechatpaytest.NewServer(wechatpaytest.WithIdentity(wechatpaytest.PlatformCertificate))
	defer srv.Close()
	cfg := srv.Config()
	cfg.Certs = nil // no key known yet: the manager downloads them

	b, mgr, err := certificates.NewBuilder(context.Background(), cfg, certificates.Config{APIv3Key: srv.APIv3Key})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer mgr.Stop()
	fmt.Println(mgr.CurrentSerial() == srv.PlatformSerial)
	resp, err := b.V3().Certificates().Get(context.Background())
	fmt.Println(err == nil, resp.StatusCode())
	// Output:
	// true
	// true 200
}
