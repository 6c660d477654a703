package wechatpay_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestSinkDigestNeedsBothHalves: a digest without its type (or a type
// without its digest) would skip or fail the check: refused before sending.
func TestSinkDigestNeedsBothHalves(t *testing.T) {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	b := newBuilder(t, srv, nil)
	tests := []struct {
		name string
		sink wechatpay.Sink
		want string
	}{
		{"a value without a type", wechatpay.Sink{Writer: io.Discard, HashValue: sha1Hex([]byte("bill"))},
			"Options.Sink.HashValue is set but HashType is empty: expected SHA1 or SHA256"},
		{"a type without a value", wechatpay.Sink{Writer: io.Discard, HashType: "SHA1"},
			"Options.Sink.HashType is SHA1 but HashValue is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.Chain("v3/billdownload/file").Get(context.Background(), wechatpay.Options{Sink: &tt.sink})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, srv.Requests(), "nothing sent")
		})
	}
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestDownloadBill(t *testing.T) {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	file := []byte(strings.Repeat("交易时间,公众账号ID,商户号,总金额\n`2026-11-27 10:00:00,`wx1,`1900000001,`1.00\n", 500))

	answer := func(t *testing.T, gzipped bool) wechatpay.Bill {
		t.Helper()
		bill(t, srv, file, gzipped)
		resp, err := b.V3().Bill().Tradebill().Get(ctx, wechatpay.Options{Query: map[string][]string{"bill_date": {"2026-11-27"}}})
		require.NoError(t, err)
		var got wechatpay.Bill
		require.NoError(t, resp.Decode(&got))
		return got
	}

	for _, gzipped := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "gzip: written decompressed"}[gzipped]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "tradebill.csv")
			require.NoError(t, b.DownloadBill(ctx, answer(t, gzipped), path))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, file, got)
			assert.Equal(t, []string{"tradebill.csv"}, dirNames(t, dir), "no temporary file left")
		})
	}

	t.Run("a digest mismatch leaves no file, and an older one untouched", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "tradebill.csv")
		require.NoError(t, os.WriteFile(path, []byte("yesterday's bill"), 0o600))
		bl := answer(t, true)
		bl.HashValue = sha1Hex([]byte("another bill"))
		err := b.DownloadBill(ctx, bl, path)
		assert.ErrorIs(t, err, wechatpay.ErrDigestMismatch)
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "yesterday's bill", string(got))
		assert.Equal(t, []string{"tradebill.csv"}, dirNames(t, dir), "the temporary file is removed")

		require.NoError(t, os.Remove(path))
		require.ErrorIs(t, b.DownloadBill(ctx, bl, path), wechatpay.ErrDigestMismatch)
		assert.Empty(t, dirNames(t, dir), "nothing written")
	})

	t.Run("a failed download leaves no file", func(t *testing.T) {
		dir := t.TempDir()
		bl := answer(t, false)
		bl.DownloadURL = "http://" + refusedAddr(t) + "/v3/billdownload/file?token=" + tokenSentinel
		err := b.DownloadBill(ctx, bl, filepath.Join(dir, "tradebill.csv"))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), tokenSentinel)
		assert.Empty(t, dirNames(t, dir))
	})

	good := wechatpay.Bill{DownloadURL: srv.URL + "v3/billdownload/file?token=x", HashType: "SHA1", HashValue: sha1Hex(file)}
	for _, tt := range []struct {
		name string
		edit func(*wechatpay.Bill)
		path string
		want string
	}{
		{"no download_url", func(b *wechatpay.Bill) { b.DownloadURL = "" }, "bill.csv", "Bill.DownloadURL is empty"},
		{"no hash_type", func(b *wechatpay.Bill) { b.HashType = "" }, "bill.csv", "Bill.HashType and Bill.HashValue are needed"},
		{"no hash_value", func(b *wechatpay.Bill) { b.HashValue = "" }, "bill.csv", "Bill.HashType and Bill.HashValue are needed"},
		{"an unknown hash_type", func(b *wechatpay.Bill) { b.HashType = "MD5" }, "bill.csv", `Bill.HashType "MD5": expected SHA1 or SHA256`},
		{"no path", func(*wechatpay.Bill) {}, "", "the file path is empty"},
	} {
		t.Run(tt.name+" is refused before sending", func(t *testing.T) {
			dir := t.TempDir()
			bl := good
			tt.edit(&bl)
			path := ""
			if tt.path != "" {
				path = filepath.Join(dir, tt.path)
			}
			before := len(srv.Requests())
			err := b.DownloadBill(ctx, bl, path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Len(t, srv.Requests(), before)
			assert.Empty(t, dirNames(t, dir))
		})
	}
}
