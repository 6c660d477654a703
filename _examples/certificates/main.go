// Command certificates sets up a merchant that verifies answers with
// downloaded platform certificates, in one call, against the embedded fake
// WeChat Pay: the certificates are downloaded before the Builder is
// returned, a rotated certificate is fetched when an answer names it, and
// a wrong APIv3 key is an error at start-up.
//
//	go run ./_examples/certificates
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/aesgcm"
	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "certificates:", err)
		os.Exit(1)
	}
}

func run() error {
	// The fake server signs its answers with its platform certificate.
	srv := wechatpaytest.NewServer(wechatpaytest.WithIdentity(wechatpaytest.PlatformCertificate))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// With real credentials: wechatpay.Config{MchID, Serial, PrivateKey:
	// LoadPrivateKey("apiclient_key.pem")}, no Certs: the manager gives the
	// keys.
	cfg := srv.Config()
	cfg.Certs = nil
	b, mgr, err := certificates.NewBuilder(ctx, cfg, certificates.Config{APIv3Key: srv.APIv3Key})
	if err != nil {
		return err
	}
	defer mgr.Stop()
	fmt.Println("downloaded      ", strings.Join(mgr.Serials(), " "))

	order := wechatpay.Options{Query: url.Values{"mchid": {srv.MchID}}}
	resp, err := b.V3().Pay().Transactions().OutTradeNo().Value("1217752501201407033233368018").Get(ctx, order)
	if err != nil {
		return err
	}
	fmt.Println("answer signed by", resp.Header().Get("Wechatpay-Serial"), "verified")

	// WeChat Pay rotates its certificate. Here the request asks for an
	// answer signed with the new one: the manager has not seen it, so it
	// downloads again before verifying.
	newSerial := srv.RotatePlatformCertificate()
	order.Headers = http.Header{"Wechatpay-Serial": {newSerial}}
	resp, err = b.V3().Pay().Transactions().OutTradeNo().Value("1217752501201407033233368018").Get(ctx, order)
	if err != nil {
		return err
	}
	fmt.Println("answer signed by", resp.Header().Get("Wechatpay-Serial"), "verified after a download")
	fmt.Println("known now       ", strings.Join(mgr.Serials(), " "))

	// A wrong APIv3 key cannot decrypt the download: NewBuilder says so at
	// start-up, and leaves nothing running.
	_, _, err = certificates.NewBuilder(ctx, cfg, certificates.Config{APIv3Key: strings.Repeat("0", 32)})
	if !errors.Is(err, aesgcm.ErrDecrypt) {
		return fmt.Errorf("expected a decryption error, got %v", err)
	}
	fmt.Println("wrong APIv3 key ", err)
	return nil
}
