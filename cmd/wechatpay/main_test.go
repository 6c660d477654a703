package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
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
	"github.com/wechatpay-chain/wechatpay/notify"
)

// syncBuffer is a bytes.Buffer a running command can write to while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// call runs the command in-process with env as its environment.
func call(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestUsageAndExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, exitUsage, "Usage:"},
		{[]string{"help"}, exitOK, "wechatpay sandbox [flags]"},
		{[]string{"nope"}, exitUsage, `unknown command "nope"`},
		{[]string{"help", "request"}, exitOK, "Usage: wechatpay request [flags] METHOD PATH"},
		{[]string{"request", "GET"}, exitUsage, "Usage: wechatpay request"},
		{[]string{"request", "-bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"endpoints", "jsapi", "预签约"}, exitOK, "POST v3/global/papay/contracts/jsapi-pre-entrust-sign  JSAPI预签约"},
		{[]string{"endpoints", "-docs", "jsapi-pre-entrust-sign"}, exitOK, "https://pay.weixin.qq.com/doc/global/v3/zh/4013015447"},
		{[]string{"endpoints", "no-such-endpoint"}, exitNothing, `nothing matches "no-such-endpoint"`},
		{[]string{"certificates"}, exitUsage, "  -private-key / $WECHATPAY_PRIVATE_KEY: merchant API private key"},
		{[]string{"sandbox", "extra"}, exitUsage, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, out, errOut := call(t, nil, "", tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, out+errOut, tt.out)
		})
	}
}

// keyMaterial returns 48 characters from inside the PEM file's base64 body:
// whole on one PEM line, so the check finds them as PEM text or as raw
// base64, and random, so they are in no clean output by chance.
func keyMaterial(t *testing.T, file string) string {
	t.Helper()
	text, err := os.ReadFile(file)
	require.NoError(t, err)
	block, _ := pem.Decode(text)
	require.NotNil(t, block, "no PEM block in %s", file)
	return base64.StdEncoding.EncodeToString(block.Bytes)[64:112]
}

// sandbox starts the sandbox command and returns its environment exports
// and a function that stops it and returns its output.
func sandbox(t *testing.T, args ...string) (map[string]string, func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, append([]string{"sandbox"}, args...), strings.NewReader(""), &out, &errOut, os.Getenv)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Stop with Ctrl-C.") }, 10*time.Second, 10*time.Millisecond, errOut.String())
	env := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	return env, func() string {
		cancel()
		assert.Equal(t, exitOK, <-done)
		return out.String()
	}
}

func TestSandboxAndRequest(t *testing.T) {
	t.Parallel()
	env, stop := sandbox(t)
	defer stop()
	require.Contains(t, env, "WECHATPAY_PRIVATE_KEY")
	order := `{"appid":"wx1","mchid":"` + env["WECHATPAY_MCHID"] + `","description":"d","out_trade_no":"T10001","notify_url":"https://x/","amount":{"total":1}}`

	t.Run("POST with JSON from a flag, flags after the arguments", func(t *testing.T) {
		code, out, errOut := call(t, env, "", "request", "POST", "v3/pay/transactions/native", "-data", order)
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, `"code_url": "weixin://wxpay/bizpayurl?pr=`)
	})
	t.Run("JSON from stdin, verbose without secrets", func(t *testing.T) {
		code, out, errOut := call(t, env, order, "request", "-verbose", "-data", "-", "POST", "v3/pay/transactions/native")
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "code_url")
		assert.Contains(t, errOut, "> POST "+env["WECHATPAY_BASE_URL"]+"v3/pay/transactions/native")
		assert.Regexp(t, `> Authorization: WECHATPAY2-SHA256-RSA2048 mchid="1900000001",serial_no="[0-9A-F]+",timestamp="\d+",nonce_str="\w+",signature="[^"]{8}\.\.\."`, errOut)
		assert.Contains(t, errOut, "< 200 OK")
		for _, secret := range []string{env["WECHATPAY_APIV3_KEY"], env["WECHATPAY_SECRET"], keyMaterial(t, env["WECHATPAY_PRIVATE_KEY"])} {
			require.GreaterOrEqual(t, len(secret), 12, "a needle this short could be in the output by chance: %q", secret)
			assert.NotContains(t, out+errOut, secret)
		}
	})
	t.Run("verbose hides a download token", func(t *testing.T) {
		const token = "DOWNLOAD-TOKEN-SENTINEL-4b7e2d"
		_, _, errOut := call(t, env, "", "request", "-verbose", "GET", env["WECHATPAY_BASE_URL"]+"v3/billdownload/file?token="+token+"&tartype=gzip")
		assert.Contains(t, errOut, "> GET "+env["WECHATPAY_BASE_URL"]+"v3/billdownload/file?token=...&tartype=gzip")
		assert.NotContains(t, errOut, token)
	})
	t.Run("path and query values", func(t *testing.T) {
		code, out, errOut := call(t, env, "", "request", "GET", "v3/pay/transactions/out-trade-no/{out_trade_no}", "-path", "out_trade_no=T10001", "-query", "mchid=1900000001")
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, `"out_trade_no": "T10001"`)
		// A value with a space travels escaped as one segment: the
		// simulation, which knows no such order, names it decoded.
		code, _, errOut = call(t, env, "", "request", "GET", "v3/pay/transactions/out-trade-no/{out_trade_no}", "-path", "out_trade_no=T 1", "-query", "mchid=1900000001")
		assert.Equal(t, exitFailed, code)
		assert.Contains(t, errOut, `ORDER_NOT_EXIST`)
		assert.Contains(t, errOut, `out_trade_no "T 1"`)
	})
	t.Run("APIv2", func(t *testing.T) {
		code, out, errOut := call(t, env, "", "request", "POST", "v2/pay/orderquery", "-xml", "mch_id=1900000001", "-xml", "out_trade_no=T10001")
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, `"out_trade_no": "T10001"`)
		assert.Contains(t, out, `"trade_state": "NOTPAY"`)
	})
	t.Run("certificates downloaded when only the APIv3 key is given", func(t *testing.T) {
		only := map[string]string{}
		for k, v := range env {
			only[k] = v
		}
		delete(only, "WECHATPAY_PUBLIC_KEY")
		delete(only, "WECHATPAY_PLATFORM_CERT")
		code, out, errOut := call(t, only, "", "request", "GET", "v3/pay/transactions/out-trade-no/T10001?mchid=1900000001")
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, `"out_trade_no": "T10001"`)
	})
	t.Run("an API error exits 1", func(t *testing.T) {
		code, _, errOut := call(t, env, "", "request", "GET", "v3/nowhere")
		assert.Equal(t, exitFailed, code)
		assert.Contains(t, errOut, "404 RESOURCE_NOT_EXISTS")
	})
	t.Run("usage errors exit 2", func(t *testing.T) {
		for args, want := range map[string]string{
			"request POST v3/x -data {":   "-data is not valid JSON",
			"request FETCH v3/x":          `method "FETCH"`,
			"request GET v3/x -path oops": `invalid value "oops" for flag -path: expected KEY=VALUE`,
		} {
			code, _, errOut := call(t, env, "", strings.Fields(args)...)
			assert.Equal(t, exitUsage, code, args)
			assert.Contains(t, errOut, want, args)
		}
		code, _, errOut := call(t, map[string]string{"WECHATPAY_MCHID": "1900000001"}, "", "request", "GET", "v3/x")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, errOut, "  -private-key / $WECHATPAY_PRIVATE_KEY: merchant API private key")
	})
	t.Run("certificates writes the PEM files", func(t *testing.T) {
		dir := t.TempDir()
		code, out, errOut := call(t, env, "", "certificates", "-output", dir)
		require.Equal(t, exitOK, code, errOut)
		files, err := filepath.Glob(filepath.Join(dir, "wechatpay_*.pem"))
		require.NoError(t, err)
		require.Len(t, files, 1)
		cert, err := wechatpay.LoadCertificate(files[0])
		require.NoError(t, err)
		assert.Contains(t, out, wechatpay.CertificateSerial(cert)+"  valid ")
		assert.Equal(t, env["WECHATPAY_PLATFORM_CERT"], filepath.Join(filepath.Dir(env["WECHATPAY_PLATFORM_CERT"]), filepath.Base(files[0])))
	})
}

func TestSandboxSendsNotifications(t *testing.T) {
	t.Parallel()
	got := make(chan *notify.Notification, 4)
	var parser *notify.Parser
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parser.Handler(func(_ context.Context, n *notify.Notification) error { got <- n; return nil }).ServeHTTP(w, r)
	}))
	defer merchant.Close()
	// The parser needs the sandbox's keys, which exist once it runs: the
	// first notification waits for them.
	ready := make(chan struct{})
	handler := merchant.Config.Handler
	merchant.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-ready; handler.ServeHTTP(w, r) })

	env, stop := sandbox(t, "-notify", merchant.URL, "-notify-every", "50ms", "-event", "TRANSACTION.SUCCESS")
	pub, err := wechatpay.LoadPublicKey(env["WECHATPAY_PUBLIC_KEY"])
	require.NoError(t, err)
	parser = &notify.Parser{APIv3Key: env["WECHATPAY_APIV3_KEY"], Keys: middleware.StaticKeys{env["WECHATPAY_PUBLIC_KEY_ID"]: pub}}
	close(ready)
	for range 2 {
		select {
		case n := <-got:
			assert.Equal(t, "TRANSACTION.SUCCESS", n.EventType)
			assert.Equal(t, "SUCCESS", n.Get("trade_state").String())
		case <-time.After(10 * time.Second):
			t.Fatal("no notification arrived")
		}
	}
	assert.Contains(t, stop(), "notified "+merchant.URL+" (TRANSACTION.SUCCESS): 204 No Content")
}
