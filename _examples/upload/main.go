// Command upload uploads an image to v3/merchant/media/upload on the
// embedded fake WeChat Pay, streamed from a file: the meta part is signed,
// the server checks the file's SHA-256.
//
//	go run ./_examples/upload [FILE]
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "upload:", err)
		os.Exit(1)
	}
}

func run() error {
	path := ""
	if len(os.Args) > 1 {
		path = os.Args[1]
	} else {
		// No file given: write a small PNG-looking one.
		dir, err := os.MkdirTemp("", "upload-example-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "logo.png")
		data := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64<<10)...)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}

	srv := wechatpaytest.NewServer()
	defer srv.Close()
	b, err := wechatpay.NewBuilder(srv.Config())
	if err != nil {
		return err
	}
	resp, err := b.V3().Merchant().Media().Upload().Post(context.Background(), wechatpay.Options{
		Media: &wechatpay.Media{Filename: filepath.Base(path), Path: path},
	})
	if err != nil {
		return err
	}
	got, _ := srv.LastRequest()
	fmt.Printf("uploaded %s (%d bytes, %s) -> media_id %s\n", got.Upload.Filename, len(got.Upload.File), got.Upload.ContentType, resp.Get("media_id"))
	fmt.Printf("signed meta: %s\n", got.Upload.Meta)
	return nil
}
