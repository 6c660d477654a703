package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runningSandbox is the built command's sandbox, started by startSandbox.
type runningSandbox struct {
	cmd    *exec.Cmd
	banner string      // standard output up to "Stop with Ctrl-C."
	rest   chan string // the rest of standard output, once it exits
	stderr *strings.Builder
}

// startSandbox starts the built command's sandbox with args and returns
// once it has printed its banner, that is once it listens.
func startSandbox(t *testing.T, args ...string) *runningSandbox {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("stops the sandbox with an interrupt")
	}
	cmd := command(t, nil, append([]string{"sandbox"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	s := &runningSandbox{cmd: cmd, rest: make(chan string, 1), stderr: &strings.Builder{}}
	cmd.Stderr = s.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	// Read up to the banner's last line: a sandbox that dies first closes
	// its output, and the test fails rather than waits.
	r := bufio.NewReader(stdout)
	var banner strings.Builder
	for !strings.HasSuffix(banner.String(), "Stop with Ctrl-C.\n") {
		line, err := r.ReadString('\n')
		banner.WriteString(line)
		if err != nil {
			require.NoError(t, cmd.Wait())
			require.FailNow(t, "the sandbox ended before it listened", "%s%s", banner.String(), s.stderr)
		}
	}
	s.banner = banner.String()
	go func() {
		rest, _ := io.ReadAll(r)
		s.rest <- string(rest)
	}()
	return s
}

// stop interrupts the sandbox as Ctrl-C does and returns its exit code
// and what it printed after its banner.
func (s *runningSandbox) stop(t *testing.T) (int, string) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(os.Interrupt))
	rest := <-s.rest
	err := s.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), rest
	}
	require.NoError(t, err)
	return 0, rest
}

// readEnvFile reads KEY=VALUE lines, in order.
func readEnvFile(t *testing.T, file string) ([]string, map[string]string) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var keys []string
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "not KEY=VALUE: %q", line)
		keys = append(keys, k)
		env[k] = v
	}
	return keys, env
}

// TestSandboxServesLogsAndWritesEnv: the sandbox serves the answers given
// with -handle, signed, logs one line per request with the reason of a
// refusal, and writes its credentials to the -env file, where request
// reads them.
func TestSandboxServesLogsAndWritesEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	answer := filepath.Join(dir, "answer.json")
	require.NoError(t, os.WriteFile(answer, []byte(`{"sandbox_answer": "from answer.json", "n": 1}`), 0o600))
	envFile := filepath.Join(dir, "sandbox.env")
	sb := startSandbox(t, "-env", envFile,
		"-handle", "POST v3/global/papay/contracts/jsapi-pre-entrust-sign=@"+answer,
		"-handle", `GET /v3/cli-test/{id}={"inline": true}`)

	// The credentials: every variable the command reads, in the table's
	// order, in a file only its owner reads.
	keys, env := readEnvFile(t, envFile)
	var want []string
	for _, cr := range credentialTable {
		want = append(want, cr.env)
	}
	assert.Equal(t, want, keys)
	info, err := os.Stat(envFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	base := env["WECHATPAY_BASE_URL"]
	assert.Equal(t, "WeChat Pay sandbox listening at "+base+"\n"+
		"Dashboard: "+base+"\n\n"+
		"Its test credentials (valid for this sandbox only) are in "+envFile+", one KEY=VALUE a line.\n\n"+
		"Answers POST /v3/global/papay/contracts/jsapi-pre-entrust-sign with "+answer+"\n"+
		"Answers GET /v3/cli-test/{id} with {\"inline\": true}\n\n"+
		"Try: wechatpay request POST v3/pay/transactions/native -data '{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\""+env["WECHATPAY_MCHID"]+"\",\"description\":\"test\",\"out_trade_no\":\"T10001\",\"notify_url\":\"http://127.0.0.1:8080/notify\",\"amount\":{\"total\":1}}'\n"+
		"Pay it at "+base+"sandbox/orders/T10001: every order has its pay page at sandbox/orders/{out_trade_no}.\n"+
		"Stop with Ctrl-C.\n", sb.banner)
	for _, file := range []string{"WECHATPAY_PRIVATE_KEY", "WECHATPAY_CERT", "WECHATPAY_PUBLIC_KEY", "WECHATPAY_PLATFORM_CERT"} {
		assert.FileExists(t, env[file])
	}

	requests := []struct {
		env  map[string]string
		args []string
		code int
		out  string
	}{
		{env, []string{"request", "POST", "v3/global/papay/contracts/jsapi-pre-entrust-sign", "-data", `{"appid":"wxd678efh567hg6787"}`}, exitOK,
			"{\n  \"sandbox_answer\": \"from answer.json\",\n  \"n\": 1\n}\n"},
		{env, []string{"request", "GET", "v3/cli-test/x7"}, exitOK, "{\n  \"inline\": true\n}\n"},
		{with(env, "WECHATPAY_SERIAL", "0123456789ABCDEF0123456789ABCDEF01234567"), []string{"request", "GET", "v3/cli-test/x8"}, exitFailed, ""},
		{env, []string{"request", "GET", "v3/nowhere-in-the-sandbox"}, exitFailed, ""},
	}
	for _, r := range requests {
		code, out, errOut := runBinary(t, r.env, "", r.args...)
		assert.Equal(t, r.code, code, errOut)
		assert.Equal(t, r.out, out)
	}
	// A request without an Accept header, which WeChat Pay refuses.
	resp, err := http.Post(base+"v3/pay/transactions/native", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	code, log := sb.stop(t)
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "POST /v3/global/papay/contracts/jsapi-pre-entrust-sign 200\n"+
		"GET /v3/cli-test/x7 200\n"+
		"GET /v3/cli-test/x8 401 refused: serial_no 0123456789ABCDEF0123456789ABCDEF01234567 is not the serial of the merchant API certificate\n"+
		"GET /v3/nowhere-in-the-sandbox 404\n"+
		"POST /v3/pay/transactions/native 400 refused: missing Accept or User-Agent header\n", log)
	assert.Empty(t, sb.stderr.String())
}

// TestSandboxHandleMistakes: a -handle the sandbox cannot serve stops it
// before it listens, naming the mistake.
func TestSandboxHandleMistakes(t *testing.T) {
	t.Parallel()
	code, help, errOut := runBinary(t, nil, "", "help", "sandbox")
	require.Equal(t, exitOK, code, errOut)
	notJSON := filepath.Join(t.TempDir(), "answer.json")
	require.NoError(t, os.WriteFile(notJSON, []byte("<xml/>"), 0o600))
	tests := []struct {
		handle string
		want   string // the whole standard error
	}{
		{"POST v3/x", `wechatpay sandbox: invalid value "POST v3/x" for flag -handle: expected 'METHOD PATH=@FILE' or 'METHOD PATH=JSON'` + "\n\n" + help},
		{"v3/x=@a.json", `wechatpay sandbox: invalid value "v3/x=@a.json" for flag -handle: expected 'METHOD PATH=@FILE' or 'METHOD PATH=JSON'` + "\n\n" + help},
		{"FETCH v3/x=@a.json", `wechatpay sandbox: invalid value "FETCH v3/x=@a.json" for flag -handle: method "FETCH": expected GET, POST, PUT, PATCH or DELETE` + "\n\n" + help},
		{"POST v2/pay/micropay=@a.json", `wechatpay sandbox: invalid value "POST v2/pay/micropay=@a.json" for flag -handle: /v2/pay/micropay is not an APIv3 path: -handle answers JSON, as APIv3 does` + "\n\n" + help},
		{"POST v3/{bad=@a.json", `wechatpay sandbox: invalid value "POST v3/{bad=@a.json" for flag -handle: POST /v3/{bad is not a path pattern: a placeholder is a whole segment, such as {out_trade_no}` + "\n\n" + help},
		{"POST v3/x=@/nonexistent-answer-4f2a.json", `wechatpay sandbox: -handle "POST v3/x=@/nonexistent-answer-4f2a.json": open /nonexistent-answer-4f2a.json: no such file or directory` + "\n"},
		{"POST v3/x=@" + notJSON, `wechatpay sandbox: -handle "POST v3/x=@` + notJSON + `": the answer is not valid JSON` + "\n"},
		{"POST v3/x={", `wechatpay sandbox: -handle "POST v3/x={": the answer is not valid JSON` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.handle, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runBinary(t, nil, "", "sandbox", "-handle", tt.handle)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out, "it never listened")
			assert.Equal(t, tt.want, errOut)
		})
	}
}

// TestSandboxDashboard: the sandbox serves the simulation's dashboard at /
// and /sandbox/... (its pages in HTML, what it does not have a 404 page,
// other methods 405), logs each of its requests with a "dashboard: "
// prefix, and passes every other path to the fake WeChat Pay as before.
func TestSandboxDashboard(t *testing.T) {
	t.Parallel()
	envFile := filepath.Join(t.TempDir(), "sandbox.env")
	sb := startSandbox(t, "-env", envFile)
	_, env := readEnvFile(t, envFile)
	base := env["WECHATPAY_BASE_URL"]
	assert.True(t, strings.HasPrefix(sb.banner, "WeChat Pay sandbox listening at "+base+"\nDashboard: "+base+"\n\n"), sb.banner)
	assert.Contains(t, sb.banner, "\nPay it at "+base+"sandbox/orders/T10001: every order has its pay page at sandbox/orders/{out_trade_no}.\n")

	tests := []struct {
		method, path string
		status       int
		ctype, want  string
	}{
		{"GET", "", http.StatusOK, "text/html; charset=utf-8", "<title>WeChat Pay sandbox</title>"},
		{"GET", "sandbox/orders/NO-SUCH-ORDER-7f3a", http.StatusNotFound, "text/html; charset=utf-8",
			`The simulation has no order with out_trade_no &#34;NO-SUCH-ORDER-7f3a&#34;.`},
		{"POST", "sandbox/orders/NO-SUCH-ORDER-7f3a", http.StatusNotFound, "text/html; charset=utf-8",
			`The simulation has no order with out_trade_no &#34;NO-SUCH-ORDER-7f3a&#34;.`},
		{"PUT", "", http.StatusMethodNotAllowed, "text/html; charset=utf-8", "<h1>405 Method not allowed</h1>"},
		// Browsers ask for it: the dashboard's 404, not a refused APIv2 call.
		{"GET", "favicon.ico", http.StatusNotFound, "text/html; charset=utf-8", "<h1>404 Not found</h1>"},
		// Not the dashboard's: the fake's, which refuses an unsigned request.
		{"GET", "v3/pay/transactions/out-trade-no/X", http.StatusUnauthorized, "application/json; charset=utf-8", `"code":"SIGN_ERROR"`},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader("action=pay"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, tt.status, resp.StatusCode, "%s /%s", tt.method, tt.path)
		assert.Equal(t, tt.ctype, resp.Header.Get("Content-Type"), "%s /%s", tt.method, tt.path)
		assert.Contains(t, string(body), tt.want, "%s /%s", tt.method, tt.path)
	}

	code, log := sb.stop(t)
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "dashboard: GET / 200\n"+
		"dashboard: GET /sandbox/orders/NO-SUCH-ORDER-7f3a 404\n"+
		"dashboard: POST /sandbox/orders/NO-SUCH-ORDER-7f3a 404\n"+
		"dashboard: PUT / 405\n"+
		"dashboard: GET /favicon.ico 404\n"+
		"GET /v3/pay/transactions/out-trade-no/X 401 refused: the Authorization header does not start with WECHATPAY2-SHA256-RSA2048\n", log)
	assert.Empty(t, sb.stderr.String())
}
