package wechatpay_test

import (
	"bytes"
	"context"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestReplacedVerifierSeesEveryAnswer: a verifier put in with
// Stack.Replace (the HSM/KMS seam) is the one that runs, for answers held
// in memory and for downloads streamed to a Sink alike, whatever the step
// is named; the built-in verifier does not run beside it.
func TestReplacedVerifierSeesEveryAnswer(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	file := bytes.Repeat([]byte("fund flow line, streamed to the sink\n"), 4000)
	srv.Handle("GET /v3/merchant/fund/statements/file", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(file) })
	srv.Handle("GET /v3/x", echo)
	ctx := context.Background()

	type seen struct {
		mu     sync.Mutex
		paths  []string
		bodies [][]byte
	}
	record := func(s *seen, resp *http.Response, body []byte) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.paths = append(s.paths, resp.Request.URL.Path)
		s.bodies = append(s.bodies, body)
	}
	for _, tc := range []struct {
		name string
		step func(*seen) middleware.Step
	}{
		{"Response only, renamed", func(s *seen) middleware.Step {
			return middleware.Step{Name: "kms-verifier", Response: func(resp *http.Response, body []byte) error {
				record(s, resp, body)
				return nil
			}}
		}},
		{"Response and Stream, same name", func(s *seen) middleware.Step {
			return middleware.Step{
				Response: func(resp *http.Response, body []byte) error {
					record(s, resp, body)
					return nil
				},
				Stream: func(resp *http.Response) (io.Writer, func() error, error) {
					var buf bytes.Buffer
					return &buf, func() error {
						record(s, resp, buf.Bytes())
						return nil
					}, nil
				},
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s seen
			b := newBuilder(t, srv, func(c *wechatpay.Config) {
				c.Middleware = func(stack *middleware.Stack) error {
					old, err := stack.Replace(middleware.VerifierStep, tc.step(&s))
					assert.Equal(t, middleware.VerifierStep, old.Name, "Replace returns the step it took out")
					assert.NotNil(t, old.Stream, "the built-in verifier streams too")
					return err
				}
			})
			// A probe signature: the built-in verifier would refuse it.
			srv.SetFault(wechatpaytest.SignTest)
			defer srv.SetFault(wechatpaytest.NoFault)
			resp, err := b.Chain("v3/x").Get(ctx)
			require.NoError(t, err)
			var out bytes.Buffer
			_, err = b.Chain("v3/merchant/fund/statements/file").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{Writer: &out}})
			require.NoError(t, err)
			assert.Equal(t, file, out.Bytes())

			require.Len(t, s.paths, 2)
			assert.Equal(t, []string{underBase("/v3/x"), underBase("/v3/merchant/fund/statements/file")}, s.paths)
			assert.Equal(t, resp.Body(), s.bodies[0])
			assert.Equal(t, file, s.bodies[1], "the replaced verifier saw the download's bytes")
		})
	}
}

// TestStepWithoutStreamHasALimit: a Response-only step is handed a streamed
// download held in memory, up to Config.MaxResponseBytes; past it, the
// error names the step and what to give it.
func TestStepWithoutStreamHasALimit(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	file := bytes.Repeat([]byte("0123456789"), 1000)
	srv.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(file) })
	b := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.MaxResponseBytes = 4096
		c.Middleware = func(s *middleware.Stack) error {
			return s.Append(middleware.Step{Name: "audit-log-step", Response: func(*http.Response, []byte) error { return nil }})
		}
	})
	var out bytes.Buffer
	_, err := b.Chain("v3/billdownload/file").Get(context.Background(), wechatpay.Options{Sink: &wechatpay.Sink{Writer: &out}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `step "audit-log-step" has a Response func but no Stream func`)
	assert.Contains(t, err.Error(), "larger than 4096 bytes: give the step a Stream func")
	assert.Contains(t, err.Error(), "incomplete: do not use them")
}

// TestWrappedSignerSeesEveryAttempt: the signer that Replace returns can be
// wrapped, and the wrapper runs for every attempt: a retry, and the backup
// host after the primary refused the connection.
func TestWrappedSignerSeesEveryAttempt(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("POST /v3/x", failFirstThenEcho())
	var signed []string // host and nonce of each signature, in order
	f := wechatpay.Failover{Primary: refusedAddr(t), Backup: hostOf(t, srv.URL)}
	b := failoverBuilder(t, srv, f, func(c *wechatpay.Config) {
		c.Retry = &wechatpay.Retry{Retries: 2, Wait: time.Millisecond, MaxWait: time.Millisecond}
		c.Middleware = func(s *middleware.Stack) error {
			var signer middleware.Step
			var err error
			signer, err = s.Replace(middleware.SignerStep, middleware.Step{Request: func(req *http.Request) error {
				if err := signer.Request(req); err != nil {
					return err
				}
				signed = append(signed, req.URL.Host+" "+nonceOf(t, req.Header.Get("Authorization")))
				return nil
			}})
			return err
		}
	})
	resp, err := b.Chain("v3/x").Post(context.Background(), wechatpay.Options{JSON: map[string]int{"n": 1}})
	require.NoError(t, err)
	assert.Equal(t, `{"n":1}`, resp.Get("body").String())

	// Attempt 1: primary (refused), then backup (500); attempt 2: the
	// backup, which it now stays on.
	require.Len(t, signed, 3, "%v", signed)
	hosts := make([]string, len(signed))
	nonces := map[string]bool{}
	for i, s := range signed {
		hosts[i], _, _ = strings.Cut(s, " ")
		nonces[s[len(hosts[i])+1:]] = true
	}
	assert.Equal(t, []string{f.Primary, f.Backup, f.Backup}, hosts)
	assert.Len(t, nonces, 3, "each attempt is signed anew")
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Empty(t, reqs[0].Rejected)
	assert.Empty(t, reqs[1].Rejected)
}

// TestHTTPClientSigns: Builder.HTTPClient signs what goes through it, for
// requests the Builder does not make, and is a copy.
func TestHTTPClientSigns(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("POST /v3/y", echo)
	b := newBuilder(t, srv, nil)
	hc := b.HTTPClient()
	require.NotNil(t, hc)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"v3/y", strings.NewReader(`{"from":"elsewhere"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "%s", body)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Empty(t, reqs[0].Rejected, "the fake server accepted the signature")
	assert.Empty(t, req.Header.Get("Authorization"), "the caller's request is not changed")

	hc.Timeout = time.Nanosecond // a copy: the Builder is not affected
	_, err = b.Chain("v3/y").Post(context.Background(), wechatpay.Options{JSON: map[string]int{"n": 2}})
	assert.NoError(t, err)

	assert.Nil(t, (*wechatpay.Builder)(nil).HTTPClient())
	assert.Nil(t, (&wechatpay.Builder{}).HTTPClient())
}

// TestNoRestyInTheAPI: no exported declaration of the root package names
// resty, so that changing the HTTP library underneath breaks no user.
func TestNoRestyInTheAPI(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		require.NoError(t, err)
		files = append(files, f)
	}
	pkg, err := doc.NewFromFiles(fset, files, "github.com/wechatpay-chain/wechatpay")
	require.NoError(t, err)
	var api strings.Builder
	print := func(node any) {
		require.NoError(t, printer.Fprint(&api, fset, node))
		api.WriteString("\n")
	}
	for _, v := range append(pkg.Consts, pkg.Vars...) {
		print(v.Decl)
	}
	for _, f := range pkg.Funcs {
		print(f.Decl)
	}
	for _, typ := range pkg.Types {
		print(typ.Decl)
		for _, f := range append(typ.Funcs, typ.Methods...) {
			print(f.Decl)
		}
		for _, v := range append(typ.Consts, typ.Vars...) {
			print(v.Decl)
		}
	}
	require.Contains(t, api.String(), "func (b *Builder) HTTPClient() *http.Client", "the walk saw the API")
	var naming []string
	for _, line := range strings.Split(api.String(), "\n") {
		if strings.Contains(strings.ToLower(line), "resty") {
			naming = append(naming, strings.TrimSpace(line))
		}
	}
	assert.Empty(t, naming, "exported declarations that name resty")
}
