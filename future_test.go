package wechatpay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestFutures runs every future feature and then checks that no goroutine
// outlived its request.
func TestFutures(t *testing.T) {
	// Not parallel: goleak would see other tests' goroutines.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// Closed by defer, not newServer's t.Cleanup: VerifyNone runs before cleanups.
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
	defer srv.Close()
	release := make(chan struct{})
	serverSawCancel := make(chan struct{}, 4)
	srv.Handle("POST /v3/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			echo(w, r)
		case <-r.Context().Done():
			serverSawCancel <- struct{}{}
		}
	})
	srv.Handle("/", echo)
	b := newBuilder(t, srv, nil)
	defer b.CloseIdleConnections()
	ctx := context.Background()

	t.Run("async returns at once and Done closes when the response is in", func(t *testing.T) {
		f := b.Chain("v3/slow").PostAsync(ctx)
		select {
		case <-f.Done():
			t.Fatal("the future completed before the server answered")
		case <-time.After(20 * time.Millisecond):
		}
		release <- struct{}{}
		select {
		case <-f.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the future never completed")
		}
		resp, err := f.Wait()
		require.NoError(t, err)
		assert.Equal(t, underBase("/v3/slow"), resp.Get("uri").String())
	})

	t.Run("every async verb", func(t *testing.T) {
		futures := map[string]*wechatpay.Future{
			"GET":    b.Chain("v3/a").GetAsync(ctx),
			"POST":   b.Chain("v3/a").PostAsync(ctx, wechatpay.Options{JSON: map[string]int{"n": 1}}),
			"PUT":    b.Chain("v3/a").PutAsync(ctx, wechatpay.Options{JSON: map[string]int{"n": 1}}),
			"PATCH":  b.Chain("v3/a").PatchAsync(ctx, wechatpay.Options{JSON: map[string]int{"n": 1}}),
			"DELETE": b.Chain("v3/a").DeleteAsync(ctx),
		}
		for method, f := range futures {
			resp, err := f.Wait()
			require.NoError(t, err, method)
			assert.Equal(t, method, resp.Get("method").String())
		}
	})

	t.Run("Then continues on success with another request", func(t *testing.T) {
		resp, err := b.Chain("v3/first").GetAsync(ctx).Then(func(r *wechatpay.Response) (*wechatpay.Response, error) {
			return b.Chain("v3/second/{from}").Get(ctx, wechatpay.Options{Path: map[string]string{"from": r.Get("uri").String()}})
		}).Wait()
		require.NoError(t, err)
		assert.Equal(t, underBase("/v3/second/"+url.PathEscape(underBase("/v3/first"))), resp.Get("uri").String())
	})

	t.Run("Then is skipped on error", func(t *testing.T) {
		called := false
		_, err := b.Chain("v3/x/{missing}").GetAsync(ctx).Then(func(r *wechatpay.Response) (*wechatpay.Response, error) {
			called = true
			return r, nil
		}).Wait()
		assert.ErrorContains(t, err, "placeholder {missing} has no value")
		assert.False(t, called)
	})

	t.Run("a panicking continuation becomes an error", func(t *testing.T) {
		_, err := b.Chain("v3/a").GetAsync(ctx).Then(func(*wechatpay.Response) (*wechatpay.Response, error) {
			panic("boom")
		}).Wait()
		assert.EqualError(t, err, "wechatpay: a future's function panicked: boom")
	})

	t.Run("WaitAll keeps order and joins errors", func(t *testing.T) {
		resps, err := wechatpay.WaitAll(
			b.Chain("v3/one").GetAsync(ctx),
			b.Chain("v3/nowhere/{x}").GetAsync(ctx),
			b.Chain("v3/three").GetAsync(ctx),
		)
		require.Len(t, resps, 3)
		assert.Equal(t, underBase("/v3/one"), resps[0].Get("uri").String())
		assert.Nil(t, resps[1])
		assert.Equal(t, underBase("/v3/three"), resps[2].Get("uri").String())

		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "future 1: wechatpay: GET v3/nowhere/{x}: placeholder {x}"), err.Error())

		resps, err = wechatpay.WaitAll()
		assert.NoError(t, err)
		assert.Empty(t, resps)
	})

	t.Run("cancelling the context stops the request", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		f := b.Chain("v3/slow").PostAsync(cctx)
		time.Sleep(20 * time.Millisecond)
		cancel()
		select {
		case <-f.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("cancellation did not reach the request")
		}
		_, err := f.Wait()
		assert.ErrorIs(t, err, context.Canceled)
		select {
		case <-serverSawCancel:
		case <-time.After(5 * time.Second):
			t.Fatal("the server never saw the request go away")
		}
	})

	t.Run("a deadline bounds the request", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		_, err := b.Chain("v3/slow").Post(dctx)
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	})
}

// TestFutureOtherwise: Otherwise is wechatpay-php's ->otherwise(): fn runs
// only on failure, with the error; what it returns is the new result, so it
// handles the failure (nil, nil), recovers from it (a response) or passes
// it on (an error). A success passes through untouched.
func TestFutureOtherwise(t *testing.T) {
	// Not parallel: goleak would see other tests' goroutines.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
	defer srv.Close()
	srv.Handle("GET /v3/found", echo)
	b := newBuilder(t, srv, nil)
	defer b.CloseIdleConnections()
	ctx := context.Background()
	errOwn := errors.New("wechatpay-test: the order failed sentinel")

	tests := []struct {
		name       string
		future     func() *wechatpay.Future
		fn         func(t *testing.T, err error) (*wechatpay.Response, error)
		called     bool   // fn ran
		uri        string // the result's "uri", "" for no response
		err        string // the result's error, "" for none
		errIs      error
		sawAPIMiss bool // fn saw the fake's 404 as an *APIError
	}{
		{"a success passes through", func() *wechatpay.Future { return b.Chain("v3/found").GetAsync(ctx) },
			func(t *testing.T, err error) (*wechatpay.Response, error) { return nil, err },
			false, underBase("/v3/found"), "", nil, false},
		{"a failure handled: nil, nil", func() *wechatpay.Future { return b.Chain("v3/missing").GetAsync(ctx) },
			func(t *testing.T, err error) (*wechatpay.Response, error) { return nil, nil },
			true, "", "", nil, true},
		{"a failure recovered with another request", func() *wechatpay.Future { return b.Chain("v3/missing").GetAsync(ctx) },
			func(t *testing.T, err error) (*wechatpay.Response, error) { return b.Chain("v3/found").Get(ctx) },
			true, underBase("/v3/found"), "", nil, true},
		{"a failure passed on, wrapped", func() *wechatpay.Future { return b.Chain("v3/missing").GetAsync(ctx) },
			func(t *testing.T, err error) (*wechatpay.Response, error) {
				return nil, fmt.Errorf("%w: %w", errOwn, err)
			},
			true, "", "wechatpay-test: the order failed sentinel: wechatpay: GET v3/missing", errOwn, true},
		{"an error before sending reaches fn", func() *wechatpay.Future { return b.Chain("v3/x/{missing}").GetAsync(ctx) },
			func(t *testing.T, err error) (*wechatpay.Response, error) {
				assert.ErrorContains(t, err, "placeholder {missing} has no value")
				return nil, errOwn
			},
			true, "", errOwn.Error(), errOwn, false},
		{"a failure of Then reaches Otherwise", func() *wechatpay.Future {
			return b.Chain("v3/found").GetAsync(ctx).Then(func(*wechatpay.Response) (*wechatpay.Response, error) { return nil, errOwn })
		},
			func(t *testing.T, err error) (*wechatpay.Response, error) {
				assert.ErrorIs(t, err, errOwn)
				return b.Chain("v3/found").Get(ctx)
			},
			true, underBase("/v3/found"), "", nil, false},
		{"a panicking fn becomes an error", func() *wechatpay.Future { return b.Chain("v3/missing").GetAsync(ctx) },
			func(t *testing.T, err error) (*wechatpay.Response, error) { panic("boom") },
			true, "", "wechatpay: a future's function panicked: boom", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called, sawAPIMiss := false, false
			resp, err := tt.future().Otherwise(func(err error) (*wechatpay.Response, error) {
				called = true
				var apiErr *wechatpay.APIError
				sawAPIMiss = errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
				return tt.fn(t, err)
			}).Wait()
			assert.Equal(t, tt.called, called, "fn ran")
			assert.Equal(t, tt.sawAPIMiss, sawAPIMiss, "fn saw the 404 as an *APIError")
			if tt.err == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.True(t, strings.HasPrefix(err.Error(), tt.err), "%q starts with %q", err, tt.err)
			}
			if tt.errIs != nil {
				assert.ErrorIs(t, err, tt.errIs)
			}
			if tt.uri == "" {
				assert.Nil(t, resp)
			} else {
				require.NotNil(t, resp)
				assert.Equal(t, tt.uri, resp.Get("uri").String())
			}
		})
	}

	t.Run("Then, Otherwise, Wait in PHP's order", func(t *testing.T) {
		var seen []string
		resp, err := b.Chain("v3/missing").GetAsync(ctx).
			Then(func(r *wechatpay.Response) (*wechatpay.Response, error) {
				seen = append(seen, "then")
				return r, nil
			}).
			Otherwise(func(err error) (*wechatpay.Response, error) {
				seen = append(seen, "otherwise")
				return nil, nil
			}).Wait()
		assert.NoError(t, err)
		assert.Nil(t, resp)
		assert.Equal(t, []string{"otherwise"}, seen)
	})

	t.Run("Otherwise(nil)", func(t *testing.T) {
		_, err := b.Chain("v3/found").GetAsync(ctx).Otherwise(nil).Wait()
		assert.EqualError(t, err, "wechatpay: Otherwise(nil): expected a function")
	})
}
