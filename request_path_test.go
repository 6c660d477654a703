package wechatpay_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestContextStackNeverSignsForTheBuilder: a stack put in the context with
// middleware.WithStack (for Stack.Transport or HTTPClient) does not replace
// the Builder's own steps: its requests stay signed, by its merchant.
func TestContextStackNeverSignsForTheBuilder(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("GET /v3/x", echo)
	b := newBuilder(t, srv, nil)
	other := newBuilder(t, srv, func(c *wechatpay.Config) { c.MchID = "1900000999" })
	noop, err := middleware.NewStack(middleware.Step{Name: "noop", Request: func(*http.Request) error { return nil }})
	require.NoError(t, err)
	for name, stack := range map[string]*middleware.Stack{"a stack that signs nothing": noop, "another merchant's stack": other.Stack()} {
		t.Run(name, func(t *testing.T) {
			_, err := b.Chain("v3/x").Get(middleware.WithStack(context.Background(), stack))
			require.NoError(t, err)
			last := lastAccepted(t, srv)
			assert.Contains(t, last.Header.Get("Authorization"), `mchid="`+srv.MchID+`"`)
		})
	}
}

// TestStreamOnlyVerifierChecksHeldAnswers: a verifier put in with only a
// Stream func still checks answers held in memory (JSON, uploads).
func TestStreamOnlyVerifierChecksHeldAnswers(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("GET /v3/x", echo)
	var calls atomic.Int32
	b := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.Middleware = func(s *middleware.Stack) error {
			var old middleware.Step
			var err error
			old, err = s.Replace(middleware.VerifierStep, middleware.Step{Stream: func(r *http.Response) (io.Writer, func() error, error) {
				calls.Add(1)
				return old.Stream(r)
			}})
			return err
		}
	})
	ctx := context.Background()
	_, err := b.Chain("v3/x").Get(ctx)
	require.NoError(t, err)
	srv.SetFault(wechatpaytest.TamperedBody)
	defer srv.SetFault(wechatpaytest.NoFault)
	_, err = b.Chain("v3/x").Get(ctx)
	assert.ErrorIs(t, err, wechatpay.ErrBadSignature)
	assert.Equal(t, int32(2), calls.Load())
}

// TestStepErrorIsNotAnUnreachableHost: a request step's error (a remote
// signer that could not connect) sends nothing and does not move requests
// to the backup host.
func TestStepErrorIsNotAnUnreachableHost(t *testing.T) {
	t.Parallel()
	primary := newServer(t)
	backup := newServer(t)
	for name, f := range map[string]wechatpay.Failover{
		"AllowResend":                     {Primary: hostOf(t, primary.URL), Backup: hostOf(t, backup.URL), AllowResend: true},
		"dial error from a remote signer": {Primary: hostOf(t, primary.URL), Backup: hostOf(t, backup.URL)},
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			kmsDown := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("key service unreachable")}
			b := failoverBuilder(t, primary, f, func(c *wechatpay.Config) {
				c.Middleware = func(s *middleware.Stack) error {
					return s.InsertBefore(middleware.SignerStep, middleware.Step{Name: "kms", Request: func(*http.Request) error {
						if calls.Add(1) == 1 {
							return kmsDown
						}
						return nil
					}})
				}
			})
			p0, b0 := len(primary.Requests()), len(backup.Requests())
			_, err := b.Chain("v3/certificates").Get(context.Background())
			require.Error(t, err)
			assert.ErrorIs(t, err, kmsDown)
			var stepErr *middleware.StepError
			require.ErrorAs(t, err, &stepErr)
			assert.Equal(t, "kms", stepErr.Step)
			_, err = b.Chain("v3/certificates").Get(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 1, len(primary.Requests())-p0, "the primary was never unreachable")
			assert.Equal(t, 0, len(backup.Requests())-b0)
		})
	}
}

// TestHTTPClientRefusesABodyItCannotSign: a body without GetBody cannot be
// read to sign it without consuming it: refused, nothing sent.
func TestHTTPClientRefusesABodyItCannotSign(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"v3/y", io.MultiReader(strings.NewReader(`{"a":1}`)))
	require.NoError(t, err)
	req.ContentLength = 7
	_, err = b.HTTPClient().Do(req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no GetBody")
	assert.Empty(t, srv.Requests(), "nothing was sent")
}

// TestSinkSendsTheBody: a download with a body (a POST) sends and signs it.
func TestSinkSendsTheBody(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("POST /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(body)
	})
	b := newBuilder(t, srv, nil)
	var out strings.Builder
	_, err := b.Chain("v3/billdownload/file").Post(context.Background(), wechatpay.Options{JSON: map[string]string{"bill_date": "2026-11-27"}, Sink: &wechatpay.Sink{Writer: &out}})
	require.NoError(t, err)
	assert.Equal(t, `{"bill_date":"2026-11-27"}`, out.String())
	assert.Empty(t, lastAccepted(t, srv).Rejected)
}

// TestV2ErrorWithoutReturnCode: an answer with a result_code but no
// return_code is read by its result_code.
func TestV2ErrorWithoutReturnCode(t *testing.T) {
	t.Parallel()
	e := &wechatpay.V2Error{Method: "POST", Path: "v2/pay/micropay", ResultCode: "FAIL", ErrCode: "USERPAYING", ErrCodeDes: "需要用户输入支付密码"}
	assert.Equal(t, "USERPAYING", e.ErrorCode())
	assert.Equal(t, "需要用户输入支付密码", e.ErrorMessage())
	assert.Equal(t, "wechatpay: POST v2/pay/micropay: result_code FAIL: USERPAYING 需要用户输入支付密码", e.Error())
}
