package middleware_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// signingStack is the request half of a Builder's stack for srv.
func signingStack(t *testing.T, srv *wechatpaytest.Server) *middleware.Stack {
	t.Helper()
	s, err := middleware.NewStack(
		(&middleware.Headers{UserAgent: "transport-test", WechatpaySerial: srv.PublicKeyID}).Step(),
		(&middleware.Signer{MchID: srv.MchID, Serial: srv.MerchantSerial, Key: middleware.FromCryptoSigner(srv.MerchantKey)}).Step(),
	)
	require.NoError(t, err)
	return s
}

// closeTracker records whether the transport closed the request body.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

// TestStackTransport: a plain http.Client over Stack.Transport sends what
// the fake server accepts as signed, leaves the caller's request as it
// was, runs the stack a request's context carries instead of its own, and
// sends nothing when a step fails.
func TestStackTransport(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("POST /v3/t", func(w http.ResponseWriter, _ *http.Request) {
		wechatpaytest.JSON(w, 200, map[string]string{"ok": "yes"})
	})
	stack := signingStack(t, srv)
	client := &http.Client{Transport: stack.Transport(nil)}
	defer client.CloseIdleConnections()

	t.Run("signs a copy", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"v3/t", strings.NewReader(`{"a":1}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		reqs := srv.Requests()
		require.NotEmpty(t, reqs)
		last := reqs[len(reqs)-1]
		assert.Empty(t, last.Rejected, "the fake server checked the signature")
		assert.Equal(t, "transport-test", last.Header.Get("User-Agent"))
		assert.Empty(t, req.Header.Get("Authorization"), "the caller's request is not changed")
		assert.Empty(t, req.Header.Get("User-Agent"))
	})

	t.Run("the context's stack wins", func(t *testing.T) {
		other := stack.Clone()
		require.NoError(t, other.Append(middleware.Step{Name: "tag", Request: func(r *http.Request) error {
			r.Header.Set("X-Tag", "from-the-context-stack")
			return nil
		}}))
		ctx := middleware.WithStack(context.Background(), other)
		assert.Same(t, other, middleware.StackFrom(ctx, stack))
		assert.Same(t, stack, middleware.StackFrom(context.Background(), stack))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"v3/t", strings.NewReader(`{}`))
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		reqs := srv.Requests()
		assert.Equal(t, "from-the-context-stack", reqs[len(reqs)-1].Header.Get("X-Tag"))
	})

	t.Run("a failing step sends nothing and closes the body", func(t *testing.T) {
		before := len(srv.Requests())
		boom := errors.New("the key service is unreachable")
		failing := stack.Clone()
		_, err := failing.Replace(middleware.SignerStep, middleware.Step{Request: func(*http.Request) error { return boom }})
		require.NoError(t, err)
		body := &closeTracker{Reader: strings.NewReader(`{}`)}
		req, err := http.NewRequestWithContext(middleware.WithStack(context.Background(), failing), http.MethodPost, srv.URL+"v3/t", body)
		require.NoError(t, err)
		_, err = client.Do(req)
		assert.ErrorIs(t, err, boom)
		assert.True(t, body.closed)
		assert.Len(t, srv.Requests(), before, "nothing reached the server")
	})

	t.Run("a nil stack in the context fails closed", func(t *testing.T) {
		req, err := http.NewRequestWithContext(middleware.WithStack(context.Background(), nil), http.MethodGet, srv.URL+"v3/t", nil)
		require.NoError(t, err)
		_, err = client.Do(req)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the Stack is nil")
	})
}

// TestRemoveAndReplaceReturnTheStep: the step taken out comes back, so that
// a new step can wrap it.
func TestRemoveAndReplaceReturnTheStep(t *testing.T) {
	t.Parallel()
	var log []string
	s, err := middleware.NewStack(recordingStep("first-step-name", &log), recordingStep("second-step-name", &log))
	require.NoError(t, err)
	old, err := s.Replace("first-step-name", middleware.Step{Name: "wrapper", Request: func(r *http.Request) error {
		log = append(log, "before")
		return nil
	}})
	require.NoError(t, err)
	assert.Equal(t, "first-step-name", old.Name)
	require.NoError(t, old.Request(nil))
	removed, err := s.Remove("second-step-name")
	require.NoError(t, err)
	assert.Equal(t, "second-step-name", removed.Name)
	require.NoError(t, removed.Request(nil))
	assert.Equal(t, []string{"first-step-name", "second-step-name"}, log, "the returned steps are the ones taken out")
	assert.Equal(t, []string{"wrapper"}, s.Names())
}

// TestHandleStream: Stream funcs see every byte and report at the end; a
// Response-only step gets the whole body at the end, up to the limit.
func TestHandleStream(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("streamed-body-bytes "), 100)
	resp := &http.Response{StatusCode: 200, Header: http.Header{}}
	var streamed bytes.Buffer
	var order []string
	var held []byte
	s, err := middleware.NewStack(
		middleware.Step{Name: "stream", Stream: func(*http.Response) (io.Writer, func() error, error) {
			return &streamed, func() error { order = append(order, "stream done"); return nil }, nil
		}},
		middleware.Step{Name: "headers-only", Stream: func(*http.Response) (io.Writer, func() error, error) { return nil, nil, nil }},
		middleware.Step{Name: "held", Response: func(_ *http.Response, b []byte) error {
			order = append(order, "held")
			held = b
			return nil
		}},
		middleware.Step{Name: "request-only", Request: func(*http.Request) error { return errors.New("never called on an answer") }},
	)
	require.NoError(t, err)

	w, done, err := s.HandleStream(resp, 0)
	require.NoError(t, err)
	_, err = io.Copy(w, bytes.NewReader(body))
	require.NoError(t, err)
	require.NoError(t, done())
	assert.Equal(t, body, streamed.Bytes())
	assert.Equal(t, body, held)
	assert.Equal(t, []string{"stream done", "held"}, order, "done runs in step order")

	t.Run("past the limit", func(t *testing.T) {
		w, _, err := s.HandleStream(resp, 100)
		require.NoError(t, err)
		_, err = io.Copy(w, bytes.NewReader(body))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `step "held" has a Response func but no Stream func`)
	})
	t.Run("the first failing done wins", func(t *testing.T) {
		first, second := errors.New("first-failure-of-two"), errors.New("second-failure-of-two")
		fails := func(name string, err error) middleware.Step {
			return middleware.Step{Name: name, Stream: func(*http.Response) (io.Writer, func() error, error) {
				return io.Discard, func() error { return err }, nil
			}}
		}
		s, err := middleware.NewStack(fails("a", first), fails("b", second))
		require.NoError(t, err)
		_, done, err := s.HandleStream(resp, 0)
		require.NoError(t, err)
		assert.ErrorIs(t, done(), first)
	})
	t.Run("a Stream func that refuses at once", func(t *testing.T) {
		refuse := errors.New("refused-before-the-body")
		s, err := middleware.NewStack(middleware.Step{Name: "r", Stream: func(*http.Response) (io.Writer, func() error, error) {
			return nil, nil, refuse
		}})
		require.NoError(t, err)
		_, _, err = s.HandleStream(resp, 0)
		assert.ErrorIs(t, err, refuse)
	})
	t.Run("nil stack", func(t *testing.T) {
		_, _, err := (*middleware.Stack)(nil).HandleStream(resp, 0)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the Stack is nil")
	})
}

// TestVerifierStreams: the verifier's Stream func checks a streamed answer
// as Verify checks a held one, an overseas statement included, and lets
// unsigned downloads and error statuses through.
func TestVerifierStreams(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	v := &middleware.Verifier{Keys: middleware.StaticKeys{srv.PublicKeyID: &srv.PublicKeyKey.PublicKey}}
	const body = `{"streamed":"answer"}`
	stream := func(resp *http.Response, b string) error {
		w, done, err := v.Step().Stream(resp)
		if err != nil {
			return err
		}
		if w == nil {
			return nil
		}
		_, _ = io.WriteString(w, b)
		if done == nil {
			return nil
		}
		return done()
	}
	signed := func(path, signedBody string) *http.Response {
		return signedResponse(t, srv.PublicKeyKey, srv.PublicKeyID, path, time.Now(), signedBody)
	}
	assert.NoError(t, stream(signed("/v3/x", body), body))
	assert.ErrorIs(t, stream(signed("/v3/x", body), body+" "), middleware.ErrBadSignature)

	statement := "date,amount\n2026-11-27,100\n"
	sum := sha1Hex(statement)
	resp := signed("/v3/global/statements", `{"sha1":"`+sum+`"}`)
	resp.Header.Set("Wechatpay-Statement-Sha1", sum)
	assert.NoError(t, stream(resp, statement))
	resp = signed("/v3/global/statements", `{"sha1":"`+sum+`"}`)
	resp.Header.Set("Wechatpay-Statement-Sha1", sum)
	err := stream(resp, "another statement\n")
	assert.ErrorIs(t, err, middleware.ErrBadSignature)
	assert.ErrorIs(t, err, middleware.ErrDigestMismatch)

	unsigned := &http.Response{StatusCode: 200, Header: http.Header{}, Request: &http.Request{URL: mustURL(t, "https://api.mch.weixin.qq.com/v3/billdownload/file")}}
	assert.NoError(t, stream(unsigned, "any bill"))
	notOK := &http.Response{StatusCode: 404, Header: http.Header{}}
	assert.NoError(t, stream(notOK, "an error answer"))
	missing := &http.Response{StatusCode: 200, Header: http.Header{}, Request: &http.Request{URL: mustURL(t, "https://api.mch.weixin.qq.com/v3/x")}}
	assert.ErrorIs(t, stream(missing, body), middleware.ErrMissingHeader)
}

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// TestTransportSignsEveryBodyShape: the bytes signed are the bytes sent,
// whether the body's length is known, unknown (chunked) or zero.
func TestTransportSignsEveryBodyShape(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("POST /v3/shape", func(w http.ResponseWriter, _ *http.Request) {
		wechatpaytest.JSON(w, 200, map[string]string{"ok": "yes"})
	})
	client := &http.Client{Transport: signingStack(t, srv).Transport(nil)}
	defer client.CloseIdleConnections()
	const body = `{"shape":"of-the-body-signed"}`
	for _, tc := range []struct {
		name   string
		length int64
		body   string
	}{
		{"known length", int64(len(body)), body},
		{"unknown length", -1, body},
		{"empty", 0, ""},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"v3/shape", strings.NewReader(tc.body))
		require.NoError(t, err)
		req.ContentLength = tc.length
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err, tc.name)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, tc.name)
		reqs := srv.Requests()
		last := reqs[len(reqs)-1]
		assert.Empty(t, last.Rejected, tc.name)
		assert.Equal(t, tc.body, string(last.Body), tc.name)
	}
}
