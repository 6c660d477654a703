package wechatpay_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
)

// TestSinkDigestNeedsBothHalves: a digest without its type (or a type
// without its digest) would skip or fail the check: refused before sending.
func TestSinkDigestNeedsBothHalves(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
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
	t.Parallel()
	srv := newServer(t)
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

// TestDownloadBillReplacesOnlyARegularFile: DownloadBill writes a new file
// or replaces a regular file it may write, keeping its mode. A directory, a
// symbolic link (the link would be replaced, not its target), a named pipe
// or any other special file is refused before anything is sent, and left as
// it was.
func TestDownloadBillReplacesOnlyARegularFile(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	file := []byte("交易时间,公众账号ID\n`2026-11-27 10:00:00,`wx1\n")
	bill(t, srv, file, false)
	good := wechatpay.Bill{DownloadURL: srv.URL + "v3/billdownload/file?token=" + tokenSentinel, HashType: "SHA1", HashValue: sha1Hex(file)}
	const old = "OLD-BILL-CONTENT-3e9a1f7c"

	refused := []struct {
		name string
		make func(t *testing.T, dir string) string // returns the path given to DownloadBill
		want string
	}{
		{"a directory", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "tradebill.csv")
			require.NoError(t, os.Mkdir(path, 0o755))
			return path
		}, "is a directory"},
		{"a directory written with a trailing slash", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "bills")
			require.NoError(t, os.Mkdir(path, 0o755))
			return path + string(filepath.Separator)
		}, "is a directory"},
		{"a symbolic link to a file", func(t *testing.T, dir string) string {
			target := filepath.Join(dir, "target.csv")
			require.NoError(t, os.WriteFile(target, []byte(old), 0o644))
			path := filepath.Join(dir, "tradebill.csv")
			if err := os.Symlink(target, path); err != nil {
				t.Skipf("no symbolic links here: %v", err)
			}
			return path
		}, "is a symbolic link"},
		{"a named pipe", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "tradebill.csv")
			if err := mkfifo(path); err != nil {
				t.Skipf("no named pipes here: %v", err)
			}
			return path
		}, "is a named pipe"},
	}
	for _, tt := range refused {
		t.Run(tt.name+" is refused before sending", func(t *testing.T) {
			dir := t.TempDir()
			path := tt.make(t, dir)
			before, err := os.Lstat(path)
			require.NoError(t, err)
			names := dirNames(t, dir)
			sent := len(srv.Requests())

			err = b.DownloadBill(ctx, good, path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "expected the path of a regular file to replace, or of a new file")
			assert.NotContains(t, err.Error(), tokenSentinel)
			assert.Equal(t, sent, len(srv.Requests()), "nothing sent")

			after, err := os.Lstat(path)
			require.NoError(t, err)
			assert.Equal(t, before.Mode(), after.Mode(), "left as it was")
			assert.True(t, os.SameFile(before, after), "the same file, not replaced")
			assert.Equal(t, names, dirNames(t, dir), "no temporary file left")
			if target := filepath.Join(dir, "target.csv"); tt.name == "a symbolic link to a file" {
				got, err := os.ReadFile(target)
				require.NoError(t, err)
				assert.Equal(t, old, string(got), "the link's target is unchanged")
			}
		})
	}

	t.Run("an existing file keeps its mode", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "tradebill.csv")
		require.NoError(t, os.WriteFile(path, []byte(old), 0o600))
		require.NoError(t, os.Chmod(path, 0o640)) // whatever the umask
		require.NoError(t, b.DownloadBill(ctx, good, path))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, file, got)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
		assert.Equal(t, []string{"tradebill.csv"}, dirNames(t, dir))
	})

	t.Run("a new file is readable by its owner only", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "tradebill.csv")
		require.NoError(t, b.DownloadBill(ctx, good, path))
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	})

	t.Run("a read-only file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "tradebill.csv")
		require.NoError(t, os.WriteFile(path, []byte(old), 0o600))
		require.NoError(t, os.Chmod(path, 0o444))
		sent := len(srv.Requests())
		err := b.DownloadBill(ctx, good, path)
		fi, serr := os.Stat(path)
		require.NoError(t, serr)
		assert.Equal(t, os.FileMode(0o444), fi.Mode().Perm(), "the mode is kept")
		got, rerr := os.ReadFile(path)
		require.NoError(t, rerr)
		if f, oerr := os.OpenFile(path, os.O_WRONLY, 0); oerr == nil {
			// Root (or a system without modes) may write it anyway: then it
			// is replaced like any file it may write, its mode kept.
			f.Close()
			require.NoError(t, err)
			assert.Equal(t, file, got)
			return
		}
		require.Error(t, err)
		assert.Contains(t, err.Error(), "cannot be written")
		assert.Equal(t, sent, len(srv.Requests()), "nothing sent")
		assert.Equal(t, old, string(got))
	})
}

// TestDownloadBillCancelledLeavesNoFile: a DownloadBill cancelled before
// it starts or in the middle of the bill removes its temporary file.
func TestDownloadBillCancelledLeavesNoFile(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	file := []byte(strings.Repeat("交易时间,公众账号ID\n`2026-11-27 10:00:00,`wx1\n", 100))
	started := make(chan struct{})
	srv.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(file[:len(file)/2])
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done() // the rest never comes
	})
	bl := wechatpay.Bill{DownloadURL: srv.URL + "v3/billdownload/file?token=x", HashType: "SHA1", HashValue: sha1Hex(file)}

	t.Run("before it starts", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := b.DownloadBill(ctx, bl, filepath.Join(dir, "tradebill.csv"))
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, dirNames(t, dir))
	})
	t.Run("in the middle of the bill", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-started
			cancel()
		}()
		err := b.DownloadBill(ctx, bl, filepath.Join(dir, "tradebill.csv"))
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, dirNames(t, dir))
	})
}
