// Command billdownload asks the embedded fake WeChat Pay for a trade bill
// (v3/bill/tradebill), then downloads the gzip file from its download_url
// with Builder.DownloadBill: streamed to disk decompressed (memory does not
// grow with the file), and kept only when it matches the SHA-1 WeChat gave.
//
//	go run ./_examples/billdownload
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "billdownload:", err)
		os.Exit(1)
	}
}

func run() error {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	serveBill(srv)

	b, err := wechatpay.NewBuilder(srv.Config())
	if err != nil {
		return err
	}
	ctx := context.Background()

	// 1. The bill's download_url and digest.
	resp, err := b.V3().Bill().Tradebill().Get(ctx, wechatpay.Options{
		Query: url.Values{"bill_date": {"2026-11-27"}, "bill_type": {"ALL"}, "tar_type": {"GZIP"}},
	})
	if err != nil {
		return err
	}
	var bill wechatpay.Bill
	if err := resp.Decode(&bill); err != nil {
		return err
	}
	fmt.Printf("tradebill: %s %s\n", bill.HashType, bill.HashValue)

	// 2. The file itself, streamed to disk: the file appears only once its
	// digest matched.
	dir, err := os.MkdirTemp("", "billdownload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tradebill-2026-11-27.csv")
	if err := b.DownloadBill(ctx, bill, path); err != nil {
		return err // ErrDigestMismatch: nothing was left at path
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("downloaded %s: %d bytes, digest checked\n", filepath.Base(path), info.Size())
	return nil
}

// serveBill makes the fake server answer like WeChat Pay: tradebill gives
// a download_url and the SHA-1 of the bill; the file comes gzip, unsigned.
func serveBill(srv *wechatpaytest.Server) {
	csv := []byte("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额\n" +
		strings.Repeat("`2026-11-27 10:00:00,`wxd678efh567hg6787,`1900000001,`0,`,`4200000001,`T1,`o123,`NATIVE,`SUCCESS,`CMB_CREDIT,`CNY,`1.00,`0.00\n", 1000))
	sum := sha1.Sum(csv)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(csv)
	_ = zw.Close()
	srv.Handle("GET /v3/bill/tradebill", func(w http.ResponseWriter, r *http.Request) {
		wechatpaytest.JSON(w, http.StatusOK, map[string]string{"hash_type": "SHA1", "hash_value": hex.EncodeToString(sum[:]),
			"download_url": srv.URL + "v3/billdownload/file?token=example-token"})
	})
	srv.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(gz.Bytes())
	})
}
