package wechatpay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("image bytes "), 1000)...)

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func sha1Hex(b []byte) string   { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

func TestMediaUpload(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	path := writeFile(t, "logo.png", string(png))

	tests := []struct {
		name   string
		media  *wechatpay.Media
		length bool // Content-Length known
	}{
		{"from a path", &wechatpay.Media{Filename: "logo.png", Path: path}, true},
		{"from an io.ReadSeeker", &wechatpay.Media{Filename: "logo.png", Reader: bytes.NewReader(png)}, true},
		{"from a one-way reader", &wechatpay.Media{Filename: "logo.png", Reader: io.MultiReader(bytes.NewReader(png))}, true},
		{"from a one-way reader with its SHA-256: streamed", &wechatpay.Media{Filename: "logo.png",
			Reader: io.MultiReader(bytes.NewReader(png)), SHA256: sha256Hex(png)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := b.V3().Merchant().Media().Upload().Post(ctx, wechatpay.Options{Media: tt.media})
			require.NoError(t, err)
			assert.Len(t, resp.Get("media_id").String(), 64)
			got := lastAccepted(t, srv)
			require.NotNil(t, got.Upload)
			assert.Equal(t, png, got.Upload.File)
			assert.Equal(t, "logo.png", got.Upload.Filename)
			assert.Equal(t, "image/png", got.Upload.ContentType)
			assert.JSONEq(t, `{"filename":"logo.png","sha256":"`+sha256Hex(png)+`"}`, string(got.Upload.Meta))
			assert.Equal(t, tt.length, got.ContentLength > 0, "Content-Length %d", got.ContentLength)
			assert.True(t, strings.HasPrefix(got.Header.Get("Content-Type"), "multipart/form-data; boundary="))
		})
	}

	t.Run("a nil reader in an interface is refused before sending", func(t *testing.T) {
		before := len(srv.Requests())
		_, err := b.V3().Merchant().Media().Upload().Post(ctx, wechatpay.Options{Media: &wechatpay.Media{Filename: "a.png", Reader: (*bytes.Reader)(nil)}})
		assert.ErrorContains(t, err, "Options.Media: Reader is a nil *bytes.Reader")
		assert.Len(t, srv.Requests(), before)
	})
	t.Run("replaced meta", func(t *testing.T) {
		meta := map[string]string{"filename": "v.mp4", "sha256": sha256Hex(png), "extra": "field"}
		_, err := b.V3().Merchant().Media().VideoUpload().Post(ctx, wechatpay.Options{Media: &wechatpay.Media{
			Filename: "v.mp4", Reader: bytes.NewReader(png), Meta: meta}})
		require.NoError(t, err)
		got := lastAccepted(t, srv)
		assert.JSONEq(t, `{"filename":"v.mp4","sha256":"`+sha256Hex(png)+`","extra":"field"}`, string(got.Upload.Meta))
		assert.Equal(t, "video/mp4", got.Upload.ContentType)
	})
	t.Run("marketing image upload", func(t *testing.T) {
		resp, err := b.Chain("v3/marketing/favor/media/image-upload").Post(ctx, wechatpay.Options{Media: &wechatpay.Media{
			Filename: "a.jpg", Reader: bytes.NewReader(png)}})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(resp.Get("media_url").String(), "https://"))
		assert.Equal(t, "image/jpeg", lastAccepted(t, srv).Upload.ContentType)
	})
	t.Run("a wrong SHA-256 is refused by the server", func(t *testing.T) {
		_, err := b.V3().Merchant().Media().Upload().Post(ctx, wechatpay.Options{Media: &wechatpay.Media{
			Filename: "logo.png", Reader: bytes.NewReader(png), SHA256: sha256Hex([]byte("other"))}})
		var apiErr *wechatpay.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "PARAM_ERROR", apiErr.Code)
		assert.Contains(t, string(apiErr.Detail), "the file's sha256 is")
	})
	for name, o := range map[string]wechatpay.Options{
		"no file name":     {Media: &wechatpay.Media{Path: path}},
		"path and reader":  {Media: &wechatpay.Media{Filename: "a.png", Path: path, Reader: bytes.NewReader(png)}},
		"missing file":     {Media: &wechatpay.Media{Filename: "a.png", Path: "/nonexistent/a.png"}},
		"media and JSON":   {Media: &wechatpay.Media{Filename: "a.png", Path: path}, JSON: map[string]int{}},
		"media and a sink": {Media: &wechatpay.Media{Filename: "a.png", Path: path}, Sink: &wechatpay.Sink{Writer: io.Discard}},
	} {
		t.Run(name+" is refused before sending", func(t *testing.T) {
			before := len(srv.Requests())
			_, err := b.V3().Merchant().Media().Upload().Post(ctx, o)
			require.Error(t, err)
			assert.Len(t, srv.Requests(), before)
		})
	}
}

// bill serves a trade bill the way WeChat Pay does: tradebill gives the
// download_url and digest, billdownload/file the (unsigned) file.
func bill(t *testing.T, srv *wechatpaytest.Server, file []byte, gzipped bool) {
	t.Helper()
	sent := file
	if gzipped {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(file)
		require.NoError(t, zw.Close())
		sent = buf.Bytes()
	}
	srv.Handle("GET /v3/bill/tradebill", func(w http.ResponseWriter, r *http.Request) {
		wechatpaytest.JSON(w, 200, map[string]string{"hash_type": "SHA1", "hash_value": sha1Hex(file),
			"download_url": srv.URL + "v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO"})
	})
	srv.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(sent)
	})
}

func TestBillDownload(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	file := []byte(strings.Repeat("交易时间,公众账号ID,商户号,总金额\n`2026-11-27 10:00:00,`wx1,`1900000001,`1.00\n", 500))

	download := func(gzipped, gunzip bool, hashValue string) ([]byte, error) {
		bill(t, srv, file, gzipped)
		resp, err := b.V3().Bill().Tradebill().Get(ctx, wechatpay.Options{Query: map[string][]string{"bill_date": {"2026-11-27"}}})
		require.NoError(t, err)
		if hashValue == "" {
			hashValue = resp.Get("hash_value").String()
		}
		var out bytes.Buffer
		resp, err = b.Chain(resp.Get("download_url").String()).Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{
			Writer: &out, HashType: resp.Get("hash_type").String(), HashValue: hashValue, Gunzip: gunzip}})
		if err == nil {
			assert.Empty(t, resp.Body(), "the body went to the sink")
			assert.Equal(t, 200, resp.StatusCode())
			got := lastAccepted(t, srv)
			assert.True(t, strings.HasPrefix(got.RequestURI, underBase("/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO")))

		}
		return out.Bytes(), err
	}

	got, err := download(false, false, "")
	require.NoError(t, err)
	assert.Equal(t, file, got)

	got, err = download(true, true, "")
	require.NoError(t, err)
	assert.Equal(t, file, got, "gzip undone, digest over the bill itself")

	got, err = download(true, false, "")
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(got))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, file, plain, "the gzip bytes as they came, still checked against the bill's digest")

	_, err = download(false, false, sha1Hex([]byte("another bill")))
	assert.ErrorIs(t, err, wechatpay.ErrDigestMismatch)
	var de *wechatpay.DigestError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, int64(len(file)), de.Written)
	assert.Contains(t, err.Error(), "do not use what was written")
}

func TestSignedDownloads(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	file := bytes.Repeat([]byte("statement line\n"), 2000)

	t.Run("a signed answer is verified as it streams", func(t *testing.T) {
		srv.Handle("GET /v3/merchant/fund/statements/file", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(file) })
		var out bytes.Buffer
		_, err := b.Chain("v3/merchant/fund/statements/file").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: &out}})
		require.NoError(t, err)
		assert.Equal(t, file, out.Bytes())

		srv.SetFaultN(wechatpaytest.TamperedBody, 1)
		out.Reset()
		_, err = b.Chain("v3/merchant/fund/statements/file").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: &out}})
		assert.ErrorIs(t, err, wechatpay.ErrBadSignature)
		assert.Contains(t, err.Error(), "bytes were written to the Sink: do not use them")

		srv.SetFaultN(wechatpaytest.SignTest, 1)
		_, err = b.Chain("v3/merchant/fund/statements/file").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: io.Discard}})
		assert.ErrorIs(t, err, wechatpay.ErrSignTest)
	})
	t.Run("overseas statements: signed SHA-1, then the file", func(t *testing.T) {
		sum := sha1Hex(file)
		srv.Handle("GET /v3/global/statements", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Wechatpay-Statement-Sha1", sum)
			_, _ = w.Write(file)
		})
		var out bytes.Buffer
		_, err := b.Chain("v3/global/statements").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: &out}})
		require.NoError(t, err)
		assert.Equal(t, file, out.Bytes())

		sum = sha1Hex([]byte("not the file")) // signed, but not the file's SHA-1
		_, err = b.Chain("v3/global/statements").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: io.Discard}})
		assert.ErrorIs(t, err, wechatpay.ErrDigestMismatch)
	})
	t.Run("an error answer is not written", func(t *testing.T) {
		var out bytes.Buffer
		_, err := b.Chain("v3/nowhere/file").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: &out}})
		var apiErr *wechatpay.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 404, apiErr.StatusCode)
		assert.Zero(t, out.Len())
	})
	t.Run("a nil writer in an interface is refused before sending", func(t *testing.T) {
		before := len(srv.Requests())
		_, err := b.Chain("v3/billdownload/file").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: (*bytes.Buffer)(nil)}})
		assert.ErrorContains(t, err, "Options.Sink.Writer is a nil *bytes.Buffer")
		assert.Len(t, srv.Requests(), before)
	})
	t.Run("a bad hash type is refused before sending", func(t *testing.T) {
		before := len(srv.Requests())
		_, err := b.Chain("v3/billdownload/file").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: io.Discard, HashType: "MD5"}})
		assert.ErrorContains(t, err, `Options.Sink.HashType "MD5": expected SHA1 or SHA256`)
		assert.Len(t, srv.Requests(), before)
	})
	t.Run("cancelling the context stops a download", func(t *testing.T) {
		srv.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(file)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		cctx, cancel := context.WithCancel(ctx)
		started := &signalWriter{first: make(chan struct{})}
		done := make(chan error)
		go func() {
			_, err := b.Chain("v3/billdownload/file").Get(cctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: started}})
			done <- err
		}()
		<-started.first // bytes are arriving
		cancel()
		select {
		case err := <-done:
			assert.True(t, errors.Is(err, context.Canceled), "%v", err)
			assert.Contains(t, err.Error(), "incomplete: do not use them")
		case <-time.After(5 * time.Second):
			t.Fatal("the download did not stop")
		}
	})
}

// signalWriter closes first on its first Write.
type signalWriter struct {
	first chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.first) })
	return len(p), nil
}

// A gzip download with no digest to check (both HashType and HashValue
// empty) is written, decompressed or as it came; it used to hand a nil
// digest to io.MultiWriter and crash the process.
func TestSinkGzipWithoutDigest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	file := []byte(strings.Repeat("gzip-sink-no-digest line\n", 800))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(file)
	require.NoError(t, zw.Close())
	gz := buf.Bytes()
	serve := func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(gz) }
	srv.Handle("GET /v3/billdownload/file", serve)             // unsigned
	srv.Handle("GET /v3/merchant/fund/statements/file", serve) // signed, verified as it streams

	for _, tt := range []struct {
		name   string
		path   string
		gunzip bool
		want   []byte
	}{
		{"unsigned, decompressed", "v3/billdownload/file", true, file},
		{"unsigned, as it came", "v3/billdownload/file", false, gz},
		{"signed, decompressed", "v3/merchant/fund/statements/file", true, file},
		{"signed, as it came", "v3/merchant/fund/statements/file", false, gz},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			resp, err := b.Chain(tt.path).Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: &out, Gunzip: tt.gunzip}})
			require.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode())
			assert.Equal(t, tt.want, out.Bytes())
		})
	}
}
