package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// sandboxCommand runs the fake WeChat Pay until interrupted, for developers
// in any language: it prints its URL and credentials, and can send signed,
// encrypted notifications to a notify URL.
func sandboxCommand(ctx context.Context, e env, args []string) int {
	f := newFlags(e, "sandbox", "sandbox [flags]")
	addr := f.String("addr", "127.0.0.1:0", "address to listen on")
	dir := f.String("dir", "", "folder for the sandbox's keys and certificates (default: a temporary folder, removed on exit)")
	notifyURL := f.String("notify", "", "send a signed, encrypted notification to this URL once started")
	every := f.Duration("notify-every", 0, "with -notify, send one again at this interval")
	event := f.String("event", "TRANSACTION.SUCCESS", "with -notify, the event type")
	if _, code := f.parse(args); code >= 0 {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintln(e.stderr, "wechatpay sandbox:", err)
		return exitFailed
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "wechatpay-sandbox-")
		if err != nil {
			return fail(err)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	srv, err := startSandbox(*addr)
	if err != nil {
		return fail(err)
	}
	defer srv.Close()
	files, err := writeSandboxFiles(srv, *dir)
	if err != nil {
		return fail(err)
	}

	fmt.Fprintf(e.stdout, "WeChat Pay sandbox listening at %s\n\n", srv.URL)
	fmt.Fprintf(e.stdout, "Its test credentials (valid for this sandbox only):\n")
	for _, kv := range [][2]string{
		{"WECHATPAY_BASE_URL", srv.URL}, {"WECHATPAY_MCHID", srv.MchID}, {"WECHATPAY_SERIAL", srv.MerchantSerial},
		{"WECHATPAY_PRIVATE_KEY", files["key"]}, {"WECHATPAY_CERT", files["cert"]},
		{"WECHATPAY_PUBLIC_KEY_ID", srv.PublicKeyID}, {"WECHATPAY_PUBLIC_KEY", files["pub"]},
		{"WECHATPAY_PLATFORM_CERT", files["platform"]},
		{"WECHATPAY_APIV3_KEY", srv.APIv3Key}, {"WECHATPAY_SECRET", srv.Secret},
	} {
		fmt.Fprintf(e.stdout, "export %s=%s\n", kv[0], kv[1])
	}
	fmt.Fprintf(e.stdout, "\nTry: wechatpay request POST v3/pay/transactions/native -data '{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"%s\",\"description\":\"test\",\"out_trade_no\":\"T1\",\"notify_url\":\"https://example.com/notify\",\"amount\":{\"total\":1}}'\n", srv.MchID)
	fmt.Fprintln(e.stdout, "Stop with Ctrl-C.")

	if *notifyURL != "" {
		notify := func() {
			resource := map[string]any{"mchid": srv.MchID, "appid": "wxd678efh567hg6787", "out_trade_no": "T1",
				"transaction_id": "4200000001" + time.Now().Format("20060102150405"), "trade_type": "NATIVE",
				"trade_state": "SUCCESS", "trade_state_desc": "支付成功", "success_time": time.Now().Format(time.RFC3339),
				"amount": map[string]any{"total": 1, "payer_total": 1, "currency": "CNY", "payer_currency": "CNY"}}
			resp, err := srv.Notify(ctx, nil, *notifyURL, *event, resource, wechatpaytest.NoFault)
			if err != nil {
				fmt.Fprintf(e.stderr, "notify %s: %v\n", *notifyURL, err)
				return
			}
			resp.Body.Close()
			fmt.Fprintf(e.stdout, "notified %s (%s): %s\n", *notifyURL, *event, resp.Status)
		}
		notify()
		if *every > 0 {
			t := time.NewTicker(*every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return exitOK
				case <-t.C:
					notify()
				}
			}
		}
	}
	<-ctx.Done()
	return exitOK
}

// startSandbox turns the fake server's panic on a busy address into an
// error.
func startSandbox(addr string) (srv *wechatpaytest.Server, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return wechatpaytest.NewServer(wechatpaytest.WithAddr(addr)), nil
}

// writeSandboxFiles writes the merchant key and certificate, the WeChat Pay
// public key and the platform certificate as a merchant would hold them.
func writeSandboxFiles(srv *wechatpaytest.Server, dir string) (map[string]string, error) {
	key, err := x509.MarshalPKCS8PrivateKey(srv.MerchantKey)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&srv.PublicKeyKey.PublicKey)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for name, f := range map[string]struct {
		file, typ string
		der       []byte
	}{
		"key":      {"apiclient_key.pem", "PRIVATE KEY", key},
		"cert":     {"apiclient_cert.pem", "CERTIFICATE", srv.MerchantCert.Raw},
		"pub":      {"pub_key.pem", "PUBLIC KEY", pub},
		"platform": {"wechatpay_" + srv.PlatformSerial + ".pem", "CERTIFICATE", srv.PlatformCert.Raw},
	} {
		path := filepath.Join(dir, f.file)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), 0o600); err != nil {
			return nil, err
		}
		files[name] = path
	}
	return files, nil
}
