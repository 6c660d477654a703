package wechatpay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/internal/memtest"
	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// signAnswer sets the Wechatpay-* headers of an answer whose body is body,
// signed with fake's WeChat Pay public key.
func signAnswer(t testing.TB, fake *wechatpaytest.Server, h http.Header, body []byte) {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	const nonce = "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6"
	digest := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, fake.PublicKeyKey, crypto.SHA256, digest[:])
	require.NoError(t, err)
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Serial", fake.PublicKeyID)
	h.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
}

// bothPaths returns a Builder sending to base through http.Client.Do and
// one through resty (Config.Retry), edited by edit.
func bothPaths(t *testing.T, fake *wechatpaytest.Server, base string, edit func(*wechatpay.Config)) map[string]*wechatpay.Builder {
	out := map[string]*wechatpay.Builder{}
	for name, retry := range map[string]*wechatpay.Retry{"once": nil, "with Retry": {Retries: 1, Wait: time.Millisecond, MaxWait: time.Millisecond}} {
		out[name] = newBuilder(t, fake, func(c *wechatpay.Config) {
			c.BaseURL, c.Retry = base, retry
			if edit != nil {
				edit(c)
			}
		})
	}
	return out
}

// TestALyingContentLengthCostsNothing: an answer whose Content-Length
// claims far more than it sends fails as a short answer, without
// allocating what the header claims, with or without a limit.
func TestALyingContentLengthCostsNothing(t *testing.T) {
	// Not parallel: memtest counts every goroutine's allocations.
	fake := newServer(t)
	for _, claim := range []string{"1125899906842624", "9223372036854775807", "33554432"} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", claim)
			_, _ = w.Write([]byte("{}"))
		}))
		defer ts.Close()
		for _, limit := range []int64{-1, 0} {
			for name, b := range bothPaths(t, fake, ts.URL+"/", func(c *wechatpay.Config) { c.MaxResponseBytes = limit }) {
				var err error
				n := memtest.Allocated(func() { _, err = b.Chain("v3/x").Get(context.Background()) })
				require.Error(t, err, "claim %s, limit %d, %s", claim, limit, name)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "claim %s, limit %d, %s", claim, limit, name)
				assert.Less(t, n, uint64(1<<20), "claim %s, limit %d, %s: %d bytes allocated", claim, limit, name, n)
			}
		}
	}
}

// TestGzipAnswersTheTransportLeft: with compression off in the transport,
// a gzip Content-Encoding (in any case) is undone before the answer is
// verified, and an empty one (a 204) is an empty answer, on both paths.
func TestGzipAnswersTheTransportLeft(t *testing.T) {
	t.Parallel()
	fake := newServer(t)
	body := []byte(`{"code_url":"weixin://wxpay/bizpayurl?pr=gzip-left-by-transport"}`)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(body)
	require.NoError(t, zw.Close())
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v3/empty":
			signAnswer(t, fake, w.Header(), nil)
			w.Header().Set("Content-Encoding", "gzip")
			w.WriteHeader(http.StatusNoContent)
		default:
			signAnswer(t, fake, w.Header(), body)
			w.Header().Set("Content-Encoding", "GZIP")
			_, _ = w.Write(zipped.Bytes())
		}
	}))
	defer ts.Close()
	noCompression := func(c *wechatpay.Config) {
		c.HTTPClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}
	}
	for name, b := range bothPaths(t, fake, ts.URL+"/", noCompression) {
		resp, err := b.Chain("v3/zipped").Get(context.Background())
		require.NoError(t, err, name)
		assert.Equal(t, body, resp.Body(), name)
		resp, err = b.Chain("v3/empty").Delete(context.Background())
		require.NoError(t, err, name)
		assert.Equal(t, 204, resp.StatusCode(), name)
		assert.Empty(t, resp.Body(), name)
	}
	// And with the default transport, which asks for gzip itself.
	for name, b := range bothPaths(t, fake, ts.URL+"/", nil) {
		resp, err := b.Chain("v3/empty").Delete(context.Background())
		require.NoError(t, err, name)
		assert.Equal(t, 204, resp.StatusCode(), name)
	}
}

// TestAStepMayReplaceTheBody: a request step before the signer that puts
// another body in has that body signed, on both paths.
func TestAStepMayReplaceTheBody(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("POST /v3/echo", echo)
	rewrite := func(s *middleware.Stack) error {
		return s.InsertBefore(middleware.SignerStep, middleware.Step{Name: "rewrite", Request: func(req *http.Request) error {
			nb := []byte(`{"rewritten":true}`)
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(nb)), int64(len(nb))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(nb)), nil }
			return nil
		}})
	}
	for name, b := range bothPaths(t, srv, srv.URL, nil) {
		resp, err := b.Chain("v3/echo").Post(context.Background(), wechatpay.Options{JSON: map[string]int{"a": 1}, Middleware: rewrite})
		require.NoError(t, err, name)
		assert.Equal(t, `{"rewritten":true}`, resp.Get("body").String(), name)
	}
}
