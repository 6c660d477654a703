package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// certificatesCommand does what wechatpay-php's CertificateDownloader does.
func certificatesCommand(ctx context.Context, e env, args []string) int {
	f := newFlags(e, "certificates", "certificates [flags]")
	var c credentials
	c.register(f.FlagSet)
	output := f.String("output", ".", "folder to write wechatpay_<serial>.pem into")
	path := f.String("path", certificates.DefaultPath, "download path (Hong Kong merchants: v3/global/certificates)")
	if _, code := f.parse(args); code >= 0 {
		return code
	}
	c.fromEnv(e.getenv)
	fail := func(code int, err error) int {
		fmt.Fprintln(e.stderr, "wechatpay certificates:", speakCLI(err.Error()))
		return code
	}
	if err := c.missing(opCertificates); err != nil {
		return fail(exitUsage, err)
	}
	cfg, err := c.signing()
	if err == nil && cfg.PrivateKey == nil {
		err = fmt.Errorf("the merchant API private key is missing: set -private-key or $WECHATPAY_PRIVATE_KEY")
	}
	if err == nil {
		err = c.checkAPIv3Key()
	}
	if err != nil {
		return fail(exitUsage, err)
	}
	// The download verifies itself with the certificates it carries.
	cfg.Keys = middleware.StaticKeys{}
	b, err := wechatpay.NewBuilder(cfg)
	if err != nil {
		return fail(exitUsage, err)
	}
	certs, err := certificates.Download(ctx, b, c.apiv3Key, *path)
	if err != nil {
		return fail(exitFailed, err)
	}
	if err := os.MkdirAll(*output, 0o755); err != nil {
		return fail(exitFailed, err)
	}
	for _, cert := range certs {
		file := filepath.Join(*output, "wechatpay_"+cert.Serial+".pem")
		if err := os.WriteFile(file, cert.PEM, 0o644); err != nil {
			fmt.Fprintln(e.stderr, "wechatpay certificates:", err)
			return exitFailed
		}
		fmt.Fprintf(e.stdout, "%s  valid %s to %s  %s\n", cert.Serial,
			cert.Certificate.NotBefore.Format(time.RFC3339), cert.Certificate.NotAfter.Format(time.RFC3339), file)
	}
	return exitOK
}
