package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// sandboxCommand runs the simulated WeChat Pay (wechatpaytest.Simulator)
// until interrupted, for developers in any language: it prints its URL and
// credentials (or writes them to a file), remembers the orders, refunds
// and contracts placed with it, shows them on a dashboard in the browser
// where a simulated payer pays or declines, notifies the notify_url they
// give, serves answers given on the command line, logs every request it
// receives, and can send signed, encrypted notifications to a notify URL.
func sandboxCommand(ctx context.Context, e env, args []string) int {
	f := newFlags(e, "sandbox", "sandbox [flags]\n\n"+
		"A simulated WeChat Pay: orders placed with it can be paid or declined on their pay\n"+
		"page (/sandbox/orders/{out_trade_no}), and their notifications go to the notify_url\n"+
		"given, signed and encrypted, retried on WeChat Pay's schedule. Its dashboard at /\n"+
		"shows orders, refunds, contracts, notifications and bills.\n\n"+
		"Every request it receives is logged on standard output: method, path, status,\n"+
		"and why it refused one (a bad signature, a missing header); the dashboard's with\n"+
		"a \"dashboard: \" prefix.")
	addr := f.String("addr", "127.0.0.1:0", "address to listen on")
	dir := f.String("dir", "", "folder for the sandbox's keys and certificates (default: a temporary folder, removed on exit)")
	envFile := f.String("env", "", "write the credentials to this file, one KEY=VALUE a line (the WECHATPAY_ variables request reads), instead of printing them")
	var handles handleFlag
	f.Var(&handles, "handle", "answer 'METHOD PATH' with the JSON in FILE, signed: 'METHOD PATH=@FILE' or 'METHOD PATH=JSON'; PATH may hold {placeholders} (repeatable)")
	notifyURL := f.String("notify", "", "send a signed, encrypted notification to this URL once started")
	every := f.Duration("notify-every", 0, "with -notify, send one again at this interval")
	event := f.String("event", "TRANSACTION.SUCCESS", "with -notify, the event type")
	if _, code := f.parse(args); code >= 0 {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintln(e.stderr, "wechatpay sandbox:", err)
		return exitFailed
	}
	for i := range handles {
		if err := handles[i].load(); err != nil {
			fmt.Fprintln(e.stderr, "wechatpay sandbox:", err)
			return exitUsage
		}
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "wechatpay-sandbox-")
		if err != nil {
			return fail(err)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	sim := wechatpaytest.NewSimulator()
	defer sim.Close()
	srv := sim.Server
	for _, h := range handles {
		body := h.body
		srv.Handle(h.pattern, func(w http.ResponseWriter, _ *http.Request) {
			wechatpaytest.JSON(w, http.StatusOK, json.RawMessage(body))
		})
	}
	front, err := listenFront(*addr, srv, sim.Dashboard(), e.stdout)
	if err != nil {
		return fail(err)
	}
	defer front.stop()
	// Closing the simulation first cuts short the deliveries that dashboard
	// requests wait for, so that front.stop does not wait for them.
	defer sim.Close()
	files, err := writeSandboxFiles(srv, *dir)
	if err != nil {
		return fail(err)
	}
	creds := credentials{
		mchID: srv.MchID, serial: srv.MerchantSerial, cert: files["cert"], privateKey: files["key"],
		publicKey: files["pub"], publicKeyID: srv.PublicKeyID, platformCert: files["platform"],
		apiv3Key: srv.APIv3Key, secret: srv.Secret, baseURL: front.url,
	}

	var banner strings.Builder
	fmt.Fprintf(&banner, "WeChat Pay sandbox listening at %s\n", front.url)
	fmt.Fprintf(&banner, "Dashboard: %s\n\n", front.url)
	if *envFile != "" {
		if err := writeEnvFile(*envFile, &creds); err != nil {
			return fail(fmt.Errorf("-env: %w", err))
		}
		fmt.Fprintf(&banner, "Its test credentials (valid for this sandbox only) are in %s, one KEY=VALUE a line.\n\n", *envFile)
	} else {
		fmt.Fprintf(&banner, "Its test credentials (valid for this sandbox only):\n")
		for _, cr := range credentialTable {
			fmt.Fprintf(&banner, "export %s=%s\n", cr.env, *cr.field(&creds))
		}
		fmt.Fprintln(&banner)
	}
	for _, h := range handles {
		fmt.Fprintf(&banner, "Answers %s with %s\n", h.pattern, strings.TrimPrefix(h.answer, "@"))
	}
	if len(handles) > 0 {
		fmt.Fprintln(&banner)
	}
	fmt.Fprintf(&banner, "Try: wechatpay request POST v3/pay/transactions/native -data '{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"%s\",\"description\":\"test\",\"out_trade_no\":\"T10001\",\"notify_url\":\"http://127.0.0.1:8080/notify\",\"amount\":{\"total\":1}}'\n", srv.MchID)
	fmt.Fprintf(&banner, "Pay it at %ssandbox/orders/T10001: every order has its pay page at sandbox/orders/{out_trade_no}.\n", front.url)
	fmt.Fprintln(&banner, "Stop with Ctrl-C.")
	front.print(banner.String())

	if *notifyURL != "" {
		notify := func() {
			resource := map[string]any{"mchid": srv.MchID, "appid": "wxd678efh567hg6787", "out_trade_no": "T10001",
				"transaction_id": "4200000001" + time.Now().Format("20060102150405"), "trade_type": "NATIVE",
				"trade_state": "SUCCESS", "trade_state_desc": "支付成功", "success_time": time.Now().Format(time.RFC3339),
				"amount": map[string]any{"total": 1, "payer_total": 1, "currency": "CNY", "payer_currency": "CNY"}}
			resp, err := srv.Notify(ctx, nil, *notifyURL, *event, resource, wechatpaytest.NoFault)
			if err != nil {
				fmt.Fprintf(e.stderr, "notify %s: %v\n", *notifyURL, err)
				return
			}
			resp.Body.Close()
			front.print(fmt.Sprintf("notified %s (%s): %s\n", *notifyURL, *event, resp.Status))
		}
		notify()
		if *every > 0 {
			t := time.NewTicker(*every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return exitOK
				case <-t.C:
					notify()
				}
			}
		}
	}
	<-ctx.Done()
	return exitOK
}

// handle is one -handle: a ServeMux pattern and the JSON that answers it.
type handle struct {
	flag    string // as given
	pattern string // "POST /v3/global/papay/contracts/jsapi-pre-entrust-sign"
	answer  string // "@FILE" or the JSON
	body    []byte // the JSON, once load has read it
}

// handleFlag collects -handle values. Their form is checked while parsing
// (a usage mistake); the answer files are read by load.
type handleFlag []handle

func (h *handleFlag) String() string { return "" }

func (h *handleFlag) Set(v string) error {
	target, answer, ok := strings.Cut(v, "=")
	method, path, ok2 := strings.Cut(strings.TrimSpace(target), " ")
	if !ok || !ok2 || answer == "" {
		return errors.New("expected 'METHOD PATH=@FILE' or 'METHOD PATH=JSON'")
	}
	method, path = strings.ToUpper(method), "/"+strings.TrimPrefix(strings.TrimSpace(path), "/")
	if !slices.Contains(methods, method) {
		return fmt.Errorf("method %q: expected GET, POST, PUT, PATCH or DELETE", method)
	}
	// The fake server answers APIv2 (any path without a v3 segment) in
	// XML, from its own handlers.
	if !strings.Contains(path, "/v3/") {
		return fmt.Errorf("%s is not an APIv3 path: -handle answers JSON, as APIv3 does", path)
	}
	pattern := method + " " + path
	if err := checkPattern(pattern); err != nil {
		return err
	}
	*h = append(*h, handle{flag: v, pattern: pattern, answer: answer})
	return nil
}

// checkPattern turns ServeMux's panic on a bad pattern into an error.
func checkPattern(pattern string) (err error) {
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("%s is not a path pattern: a placeholder is a whole segment, such as {out_trade_no}", pattern)
		}
	}()
	http.NewServeMux().Handle(pattern, http.NotFoundHandler())
	return nil
}

// load reads the answer, once, before the sandbox starts: a missing file
// or broken JSON is found now rather than at the first request.
func (h *handle) load() error {
	body := []byte(h.answer)
	if file, ok := strings.CutPrefix(h.answer, "@"); ok {
		var err error
		if body, err = os.ReadFile(file); err != nil {
			return fmt.Errorf("-handle %q: %w", h.flag, err)
		}
	}
	if !json.Valid(body) {
		return fmt.Errorf("-handle %q: the answer is not valid JSON", h.flag)
	}
	h.body = body
	return nil
}

// writeEnvFile writes the credentials as KEY=VALUE lines, the variables
// request reads, readable by the owner only (they hold the sandbox's keys).
// It writes a temporary file and renames it, so that a script waiting for
// the file never reads half of it.
func writeEnvFile(file string, c *credentials) error {
	var b strings.Builder
	for _, cr := range credentialTable {
		fmt.Fprintf(&b, "%s=%s\n", cr.env, *cr.field(c))
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing to remove
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// front is the sandbox's listener: it serves the dashboard at / and
// /sandbox/..., passes every other request to the fake server, and logs
// each.
type front struct {
	url  string
	srv  *http.Server
	mu   sync.Mutex // one line at a time on out
	out  io.Writer
	seq  atomic.Int64
	done chan struct{}
}

// sandboxSeqHeader tags a request passed to the fake server, to find its
// record (and the reason it was refused) among the server's Requests. No
// signature covers request headers other than Authorization.
const sandboxSeqHeader = "Wechatpay-Sandbox-Request"

// listenFront listens on addr, serves dashboard at / and /sandbox/... and
// passes the other requests to srv, logging one line each on out.
func listenFront(addr string, srv *wechatpaytest.Server, dashboard http.Handler, out io.Writer) (*front, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(srv.URL)
	if err != nil {
		ln.Close()
		return nil, err
	}
	f := &front{url: "http://" + ln.Addr().String() + "/", out: out, done: make(chan struct{})}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
			r.Out.Header.Set(sandboxSeqHeader, r.In.Header.Get(sandboxSeqHeader))
		},
		// No proxy from the environment, and the answer passed on byte for
		// byte as the fake server signed it.
		Transport:     &http.Transport{Proxy: nil, DisableCompression: true},
		FlushInterval: -1, // downloads stream as the fake writes them
	}
	f.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isDashboard(r.URL.Path) {
				lw := &loggingWriter{ResponseWriter: w, log: func(status int) {
					f.print(fmt.Sprintf("dashboard: %s %s %d\n", r.Method, r.URL.EscapedPath(), status))
				}}
				dashboard.ServeHTTP(lw, r)
				lw.ensureLogged()
				return
			}
			seq := strconv.FormatInt(f.seq.Add(1), 10)
			r.Header.Set(sandboxSeqHeader, seq)
			lw := &loggingWriter{ResponseWriter: w, log: func(status int) { f.logRequest(srv, r, seq, status) }}
			proxy.ServeHTTP(lw, r)
			lw.ensureLogged()
		}),
	}
	go func() {
		defer close(f.done)
		_ = f.srv.Serve(ln)
	}()
	return f, nil
}

// isDashboard reports whether path is the dashboard's: / and /sandbox/...,
// and /favicon.ico, which browsers ask for (the dashboard answers 404)
// and which would otherwise be logged as a refused APIv2 call. WeChat Pay
// serves nothing there (its paths start with /v3/, /pay/, /secapi/, ...),
// so the fake loses nothing.
func isDashboard(path string) bool {
	return path == "/" || path == "/sandbox" || path == "/favicon.ico" || strings.HasPrefix(path, "/sandbox/")
}

// logRequest prints a request's line: method, path, status, and why the
// fake server refused it.
func (f *front) logRequest(srv *wechatpaytest.Server, r *http.Request, seq string, status int) {
	line := fmt.Sprintf("%s %s %d", r.Method, r.URL.EscapedPath(), status)
	reqs := srv.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Header.Get(sandboxSeqHeader) == seq {
			if reqs[i].Rejected != "" {
				line += " refused: " + reqs[i].Rejected
			}
			break
		}
	}
	f.print(line + "\n")
}

// print writes s on the sandbox's output, whole.
func (f *front) print(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprint(f.out, s)
}

// stop lets requests in progress finish, and their lines be logged.
func (f *front) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
	<-f.done
}

// loggingWriter logs a request when its answer's status is written: before
// the client can read the answer, so that the lines of requests sent one
// after another come in that order.
type loggingWriter struct {
	http.ResponseWriter
	log    func(status int)
	logged bool
}

func (w *loggingWriter) WriteHeader(status int) {
	if !w.logged && status >= 200 {
		w.logged = true
		w.log(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *loggingWriter) Write(b []byte) (int, error) {
	w.ensureLogged()
	return w.ResponseWriter.Write(b)
}

// ensureLogged logs an answer that never set its status: 200.
func (w *loggingWriter) ensureLogged() {
	if !w.logged {
		w.logged = true
		w.log(http.StatusOK)
	}
}

// Flush passes streamed downloads on as they come.
func (w *loggingWriter) Flush() {
	w.ensureLogged()
	if fl, ok := w.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// writeSandboxFiles writes the merchant key and certificate, the WeChat Pay
// public key and the platform certificate as a merchant would hold them.
func writeSandboxFiles(srv *wechatpaytest.Server, dir string) (map[string]string, error) {
	key, err := x509.MarshalPKCS8PrivateKey(srv.MerchantKey)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&srv.PublicKeyKey.PublicKey)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for name, f := range map[string]struct {
		file, typ string
		der       []byte
	}{
		"key":      {"apiclient_key.pem", "PRIVATE KEY", key},
		"cert":     {"apiclient_cert.pem", "CERTIFICATE", srv.MerchantCert.Raw},
		"pub":      {"pub_key.pem", "PUBLIC KEY", pub},
		"platform": {"wechatpay_" + srv.PlatformSerial + ".pem", "CERTIFICATE", srv.PlatformCert.Raw},
	} {
		path := filepath.Join(dir, f.file)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), 0o600); err != nil {
			return nil, err
		}
		files[name] = path
	}
	return files, nil
}
