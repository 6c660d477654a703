// Package e2e tests `wechatpay sandbox` in a real browser: a checkout
// from the merchant's order to the notification its notify_url receives,
// with the payer's click in headless Chromium between them.
//
// It is a module of its own so that the browser driver (chromedp) never
// enters the library's go.mod. Run it from this folder:
//
//	cd e2e && go test ./...
//
// It finds Chromium at $CHROME_PATH, else /usr/bin/chromium (Debian's
// chromium package), else chromium, chromium-browser or google-chrome on
// PATH. Without one it skips and says why, unless CI is set (as .ci/run
// sets it): then it fails. It saves screenshots of the pay page and of
// the dashboard in $E2E_SCREENSHOTS, else in wechatpay-e2e-screenshots
// under the system's temporary folder; with -update it refreshes the
// committed ones in screenshots/:
//
//	cd e2e && go test ./... -update
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/notify"
)

// Bounds on waiting, generous for a loaded 2-core machine; never
// assertions on how long anything took.
const (
	testBound = 4 * time.Minute  // the whole test, the CLI's build included
	stepBound = 30 * time.Second // one browser action, or the notification
)

// update makes the test refresh the committed screenshots (screenshots/,
// the record of what the dashboard looks like) rather than leave the
// working tree changed by every run.
var update = flag.Bool("update", false, "save the screenshots in screenshots/, the committed ones")

// screenshotDir is where the test saves its screenshots.
func screenshotDir() string {
	switch {
	case *update:
		return "screenshots"
	case os.Getenv("E2E_SCREENSHOTS") != "":
		return os.Getenv("E2E_SCREENSHOTS")
	}
	return filepath.Join(os.TempDir(), "wechatpay-e2e-screenshots")
}

// TestCheckoutInBrowser: a merchant places a native order with the library
// against `wechatpay sandbox`; a payer opens its pay page in Chromium,
// sees the amount and the description, and clicks Pay; the page then
// shows SUCCESS, the merchant's notify handler (the library's notify
// package) receives a TRANSACTION.SUCCESS notification it verified and
// decrypted, and the order query answers SUCCESS. The dashboard lists the
// order.
func TestCheckoutInBrowser(t *testing.T) {
	chrome := chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), testBound)
	defer cancel()

	sb := startSandbox(ctx, t)
	b, err := wechatpay.NewBuilder(sb.Config(t))
	require.NoError(t, err)
	mchID := sb.Env["WECHATPAY_MCHID"]

	// The merchant's notify_url, on loopback.
	parser, err := notify.NewParser(b.PublicKeys(), sb.Env["WECHATPAY_APIV3_KEY"])
	require.NoError(t, err)
	received := make(chan *notify.Notification, 16)
	handler := parser.Handler(func(_ context.Context, n *notify.Notification) error {
		select {
		case received <- n:
		default: // more than the test reads: they would only be ignored
		}
		return nil
	})
	notifyLog := newOutput()
	handler.Logger = slog.New(slog.NewTextHandler(notifyLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	merchant := httptest.NewServer(handler)
	t.Cleanup(merchant.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the notify handler's log:\n%s", notifyLog)
		}
	})

	// The merchant places the order.
	outTradeNo := "E2E" + randomHex(8)
	const description = "Tea & cake for two" // the page writes &amp; and shows &
	resp, err := b.V3().Pay().Transactions().Native().Post(ctx, wechatpay.Options{JSON: map[string]any{
		"appid":        "wxd678efh567hg6787",
		"mchid":        mchID,
		"description":  description,
		"out_trade_no": outTradeNo,
		"notify_url":   merchant.URL + "/wechatpay/notify",
		"amount":       map[string]any{"total": 1999, "currency": "CNY"},
	}})
	require.NoError(t, err, "placing the native order")
	codeURL := resp.Get("code_url").String()
	require.True(t, strings.HasPrefix(codeURL, "weixin://"), "the order's code_url is %q; expected weixin://...; the answer: %s", codeURL, resp)

	// The payer opens the order's pay page: what scanning the code_url
	// would show.
	browser := startBrowser(ctx, t, chrome)
	payURL := sb.URL + "sandbox/orders/" + url.PathEscape(outTradeNo)
	page, err := run(browser, chromedp.NavigateResponse(payURL))
	require.NoError(t, err, "opening %s", payURL)
	require.EqualValues(t, http.StatusOK, page.Status, "GET %s", payURL)
	text, err := run(browser, chromedp.Text(chromedp.CSS("body")))
	require.NoError(t, err)
	// The page stops the test here if it is not a pay page: the steps
	// after it would only wait for buttons that are not there.
	require.Contains(t, text, "19.99", "the pay page %s shows the amount", payURL)
	require.Contains(t, text, description, "the pay page %s shows the description", payURL)
	state, err := run(browser, chromedp.Text(chromedp.ID("state")))
	require.NoError(t, err, "the pay page has no #state")
	require.Equal(t, "NOTPAY", strings.TrimSpace(state), "the order's state before paying")
	screenshot(t, browser, "pay.png")

	// Pay: the form posts, and its answer's redirect shows the order again.
	require.NoError(t, do(browser, chromedp.Click(chromedp.ID("pay"))), "clicking #pay")
	waitForState(t, browser, "SUCCESS")

	// The merchant's handler received the notification, verified and
	// decrypted.
	select {
	case n := <-received:
		assert.Equal(t, "TRANSACTION.SUCCESS", n.EventType)
		assert.Equal(t, outTradeNo, n.Get("out_trade_no").String(), "the notification's out_trade_no")
		assert.Equal(t, "SUCCESS", n.Get("trade_state").String(), "the notification's trade_state")
		assert.Equal(t, int64(1999), n.Get("amount.total").Int(), "the notification's amount.total")
		assert.Equal(t, mchID, n.Get("mchid").String(), "the notification's mchid")
	case <-time.After(stepBound):
		t.Fatalf("the notify handler received no notification for %s within %s (see its log below)", outTradeNo, stepBound)
	case <-ctx.Done():
		t.Fatalf("waiting for the notification: %v", context.Cause(ctx))
	}

	// The merchant's order query agrees.
	q, err := b.V3().Pay().Transactions().OutTradeNo().Value(outTradeNo).Get(ctx, wechatpay.Options{Query: url.Values{"mchid": {mchID}}})
	require.NoError(t, err, "querying the order")
	assert.Equal(t, "SUCCESS", q.Get("trade_state").String(), "the order query's trade_state: %s", q)
	assert.Equal(t, outTradeNo, q.Get("out_trade_no").String())
	assert.Equal(t, int64(1999), q.Get("amount.total").Int())

	// The dashboard lists the order.
	page, err = run(browser, chromedp.NavigateResponse(sb.URL))
	require.NoError(t, err, "opening the dashboard %s", sb.URL)
	require.EqualValues(t, http.StatusOK, page.Status, "GET %s", sb.URL)
	text, err = run(browser, chromedp.Text(chromedp.CSS("body")))
	require.NoError(t, err)
	assert.Contains(t, text, outTradeNo, "the dashboard lists the order")
	screenshot(t, browser, "dashboard.png")
}

// startBrowser starts headless Chromium with a profile of its own, and
// returns the context its actions run in. The browser lives until the
// test's cleanup (or ctx's end); its output is printed if the test failed.
func startBrowser(ctx context.Context, t *testing.T, path string) context.Context {
	t.Helper()
	log := newOutput()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox, // root in a container has no user namespaces for Chromium's sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Nothing but the sandbox on loopback: no proxy, no QUIC, no
		// background fetches of updates, components or sync.
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("window-size", "1280,800"),
		chromedp.CombinedOutput(log),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	logf := func(format string, args ...any) { log.Printf(format, args...) }
	bctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(logf), chromedp.WithErrorf(logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to end, before its profile is removed
		if t.Failed() {
			t.Logf("chromium's output (its complaints about D-Bus left out: a container has none):\n%s", withoutDBus(log.String()))
		}
	})
	// The first action starts the browser, bound to bctx: later actions
	// get shorter bounds of their own (see run).
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}

// withoutDBus drops the lines in which Chromium says it found no D-Bus,
// dozens of them, which hide the lines that explain a failure.
func withoutDBus(log string) string {
	var b strings.Builder
	for line := range strings.Lines(log) {
		if !strings.Contains(line, ":ERROR:dbus/") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// run runs one browser action within stepBound.
func run[T any](browser context.Context, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(browser, stepBound)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// do runs browser actions that return nothing within stepBound.
func do(browser context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(browser, stepBound)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// waitForState waits until the page's #state reads want: after a click,
// the old page answers until the form's redirect has loaded the new one.
func waitForState(t *testing.T, browser context.Context, want string) {
	t.Helper()
	wait, cancel := context.WithTimeout(browser, stepBound)
	defer cancel()
	var last string
	var lastErr error
	for {
		state, err := run(wait, chromedp.Text(chromedp.ID("state")))
		if err == nil && strings.TrimSpace(state) == want {
			return
		}
		last, lastErr = state, err
		select {
		case <-wait.Done():
			where, _ := run(browser, chromedp.Location())
			t.Fatalf("the page at %s never showed #state %s: it last read %q (error: %v)", where, want, last, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// screenshot saves a full-page PNG of what the browser shows as name in
// screenshotDir.
func screenshot(t *testing.T, browser context.Context, name string) {
	t.Helper()
	png, err := run(browser, chromedp.FullScreenshot(100)) // quality 100 is PNG; below, JPEG
	require.NoError(t, err, "taking the screenshot %s", name)
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "the screenshot %s is not a PNG", name)
	dir := screenshotDir()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	file := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(file, png, 0o644))
	t.Logf("saved %s", file)
}

// randomHex returns n random bytes in hex: an out_trade_no no earlier run
// used, with no dependence on the clock.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return strings.ToUpper(hex.EncodeToString(b))
}
