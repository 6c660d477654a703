package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatpay-chain/wechatpay"
)

// listeningPrefix starts the first line `wechatpay sandbox` prints.
const listeningPrefix = "WeChat Pay sandbox listening at "

// sandboxEnv are the variables `wechatpay sandbox -env` writes.
var sandboxEnv = []string{
	"WECHATPAY_MCHID", "WECHATPAY_SERIAL", "WECHATPAY_CERT", "WECHATPAY_PRIVATE_KEY",
	"WECHATPAY_PUBLIC_KEY", "WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_PLATFORM_CERT",
	"WECHATPAY_APIV3_KEY", "WECHATPAY_SECRET", "WECHATPAY_BASE_URL",
}

// sandbox is a `wechatpay sandbox` process built from this repository, as
// a developer in any language runs it.
type sandbox struct {
	URL string            // "http://127.0.0.1:PORT/"
	Env map[string]string // the -env file's variables

	cmd    *exec.Cmd
	stdout *output
	stderr *output
}

// startSandbox builds the CLI from the repository (the replace directive
// in go.mod points the module at ../), starts `wechatpay sandbox` on a
// free loopback port, and reads its URL and its -env file. The process is
// interrupted at cleanup (killed if it has not ended 10 s later), and its
// output is printed when the test has failed.
func startSandbox(ctx context.Context, t *testing.T) *sandbox {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "wechatpay")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/wechatpay-chain/wechatpay/cmd/wechatpay")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the wechatpay CLI: %v\n%s", err, out)
	}
	keys := filepath.Join(dir, "keys")
	if err := os.Mkdir(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, "sandbox.env")

	sb := &sandbox{stdout: newOutput(), stderr: newOutput()}
	// Not the test's context: the sandbox must outlive a failed wait, so
	// that its output can still be read, and it is stopped by cleanup.
	life, stop := context.WithCancel(context.Background())
	sb.cmd = exec.CommandContext(life, bin, "sandbox", "-addr", "127.0.0.1:0", "-env", envFile, "-dir", keys)
	sb.cmd.Stdout, sb.cmd.Stderr = sb.stdout, sb.stderr
	// Interrupt, as Ctrl-C does, so that it shuts down as it would for a
	// developer; kill it only if it hangs.
	sb.cmd.Cancel = func() error { return sb.cmd.Process.Signal(os.Interrupt) }
	sb.cmd.WaitDelay = 10 * time.Second
	if err := sb.cmd.Start(); err != nil {
		stop()
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Logf("started %s sandbox (pid %d)", bin, sb.cmd.Process.Pid)
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = sb.cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stop()
		<-exited
		if t.Failed() {
			// After the interrupt Wait reports the context's end; the
			// process's own state says how it ended.
			ended := fmt.Sprint(waitErr)
			if ps := sb.cmd.ProcessState; ps != nil {
				ended = ps.String()
			}
			t.Logf("the sandbox (pid %d) ended: %s\n--- its stdout:\n%s\n--- its stderr:\n%s", sb.cmd.Process.Pid, ended, sb.stdout, sb.stderr)
		}
	})

	select {
	case line := <-sb.stdout.first:
		url, ok := strings.CutPrefix(line, listeningPrefix)
		if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/") {
			t.Fatalf("the sandbox's first line is %q; expected %q followed by http://127.0.0.1:PORT/", line, listeningPrefix)
		}
		sb.URL = url
	case <-exited:
		t.Fatalf("the sandbox ended before listening: %v", waitErr)
	case <-ctx.Done():
		t.Fatalf("the sandbox printed no line: %v", context.Cause(ctx))
	}

	env, err := readEnvFile(ctx, envFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range sandboxEnv {
		if env[k] == "" {
			t.Fatalf("the sandbox's -env file has no %s; it has %s", k, strings.Join(keysOf(env), ", "))
		}
	}
	if env["WECHATPAY_BASE_URL"] != sb.URL {
		t.Fatalf("the -env file's WECHATPAY_BASE_URL is %q; the sandbox listens at %q", env["WECHATPAY_BASE_URL"], sb.URL)
	}
	sb.Env = env
	return sb
}

// readEnvFile waits for the -env file (written whole, by a rename) and
// reads its KEY=VALUE lines.
func readEnvFile(ctx context.Context, file string) (map[string]string, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		b, err := os.ReadFile(file)
		if err == nil {
			env := map[string]string{}
			for line := range strings.Lines(string(b)) {
				line = strings.TrimRight(line, "\r\n")
				if line == "" {
					continue
				}
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					return nil, fmt.Errorf("the sandbox's -env file %s has a line that is not KEY=VALUE (line not shown: it may hold a key)", file)
				}
				env[k] = v
			}
			return env, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the sandbox wrote no -env file %s: %w", file, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// Config is the merchant configuration for the sandbox, built from its
// -env file as an integration would build it from its own settings.
func (sb *sandbox) Config(t *testing.T) wechatpay.Config {
	t.Helper()
	key, err := wechatpay.LoadPrivateKey(sb.Env["WECHATPAY_PRIVATE_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	pub, err := wechatpay.LoadPublicKey(sb.Env["WECHATPAY_PUBLIC_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	return wechatpay.Config{
		MchID:      sb.Env["WECHATPAY_MCHID"],
		Serial:     sb.Env["WECHATPAY_SERIAL"],
		PrivateKey: key,
		Certs:      map[string]*rsa.PublicKey{sb.Env["WECHATPAY_PUBLIC_KEY_ID"]: pub},
		Secret:     sb.Env["WECHATPAY_SECRET"],
		BaseURL:    sb.URL,
	}
}

// keysOf lists a map's keys, for an error message.
func keysOf(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// output keeps what a process or a logger writes, safe for concurrent
// use, and hands over the first complete line.
type output struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	sent  bool
	first chan string // the first line, without its newline, once
}

func newOutput() *output { return &output{first: make(chan string, 1)} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if !o.sent {
		if line, err := bufio.NewReader(bytes.NewReader(o.buf.Bytes())).ReadString('\n'); err == nil {
			o.sent = true
			o.first <- strings.TrimRight(line, "\r\n")
		}
	}
	return len(p), nil
}

// Printf writes one line, for the browser's log.
func (o *output) Printf(format string, args ...any) {
	fmt.Fprintf(o, format+"\n", args...)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
