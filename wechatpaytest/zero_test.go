package wechatpaytest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/internal/zerotest"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

const notRunning = "wechatpaytest: the Server is not running: create it with NewServer"

// zeroWalk walks every exported type of the package with methods. A
// Server{} or nil *Server is not running: what can fail says so, Close and
// the setters do nothing, the getters report nothing, Config is empty.
var zeroWalk = zerotest.Walk{
	Values: []any{wechatpaytest.Server{}, wechatpaytest.Keys{}, wechatpaytest.Simulator{}, wechatpaytest.SimError{}, wechatpaytest.Delivery{}},
	Funcs: map[string]any{
		"Error": wechatpaytest.Error,
		"JSON":  wechatpaytest.JSON,
	},
	Skip: map[string]string{
		"NewServer":        "it starts a server: TestZeroOptions gives it nil and zero options",
		"NewTLSServer":     "it starts a server: NewServer with WithTLS, see TestNewTLSServer",
		"WithAddr":         "an Option: see TestZeroOptions",
		"WithBasePath":     "an Option: see TestZeroOptions",
		"WithIdentity":     "an Option: see TestZeroOptions",
		"WithTLS":          "an Option without arguments",
		"NewSimulator":     "it starts a simulation: TestSimulatorZeroOptions gives it nil and zero options",
		"WithVirtualClock": "an Option: see TestSimulatorZeroOptions",
		"WithNotifyClient": "an Option: see TestSimulatorZeroOptions",
	},
	Expect: map[string]zerotest.Expect{
		"Server/zero": {Err: notRunning},
		"Server/nil":  {Err: notRunning},
		// A Simulator{} has no Server: what it promotes answers as a
		// Server{} does, its own methods name the Simulator.
		"Simulator/zero": {Err: "is not running: create it with New"},
		"Simulator/nil":  {Err: "is not running: create it with New"},
		// Keys{} have no CA: the error says to take them from NewServer.
		"Server.IssuePlatformCertificate/zero": {Err: "Keys from NewServer"},
		"Keys.IssuePlatformCertificate/zero":   {Err: "Keys from NewServer"},
		"Keys.IssuePlatformCertificate/nil":    {Err: "Keys from NewServer"},
	},
}

// TestZeroValues calls every exported method on the zero value and the nil
// pointer of every exported type, and every function with zero arguments
// (Error and JSON with status 0 answer 200, as net/http does): none panics
// or blocks, and each works or says what to use instead.
func TestZeroValues(t *testing.T) {
	t.Parallel()
	zeroWalk.Run(t)
}

// TestZeroValuesCovered fails when an exported type or function is added
// without its case in zeroWalk.
func TestZeroValuesCovered(t *testing.T) {
	t.Parallel()
	zerotest.Covered(t, ".", zeroWalk)
}

// TestZeroServerInUse: what a Server{} hands out cannot reach anything
// (NewBuilder refuses its empty Config), what it is given is ignored, and
// a status of 0 is 200.
func TestZeroServerInUse(t *testing.T) {
	t.Parallel()
	var s wechatpaytest.Server
	var nilServer *wechatpaytest.Server
	err := zerotest.Call(t, func() error {
		s.Handle("GET /v3/zero", func(http.ResponseWriter, *http.Request) {})
		s.HandleV2("/pay/zero", func(map[string]string) map[string]string { return nil })
		nilServer.Handle("GET /v3/zero", nil)
		nilServer.HandleV2("/pay/zero", nil)
		nilServer.Close()
		s.Close()
		_, err := wechatpay.NewBuilder(s.Config())
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "wechatpay: Config.MchID") {
		t.Errorf("NewBuilder(Server{}.Config()) = %v, want the error for an empty Config", err)
	}
	rec := httptest.NewRecorder()
	if zerotest.Call(t, func() error { wechatpaytest.Error(rec, 0, "ZERO", "zero"); return nil }); rec.Code != http.StatusOK {
		t.Errorf("Error with status 0 answered %d, want 200", rec.Code)
	}
}

// TestZeroOptions: NewServer skips a nil Option and takes zero ones as
// the defaults.
func TestZeroOptions(t *testing.T) {
	t.Parallel()
	var srv *wechatpaytest.Server
	if zerotest.Call(t, func() error {
		srv = wechatpaytest.NewServer(nil, wechatpaytest.WithAddr(""), wechatpaytest.WithBasePath(""), wechatpaytest.WithIdentity(0))
		return nil
	}); srv == nil {
		return
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || !strings.HasSuffix(srv.URL, "/") || strings.HasSuffix(srv.URL, "//") {
		t.Errorf("URL %q, want http://127.0.0.1:port/", srv.URL)
	}
	b, err := wechatpay.NewBuilder(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer b.CloseIdleConnections()
	if _, err := b.V3().Certificates().Get(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestSimulatorZeroOptions: NewSimulator skips a nil Option, takes a zero
// virtual clock start and a nil notify client as the defaults.
func TestSimulatorZeroOptions(t *testing.T) {
	t.Parallel()
	var sim *wechatpaytest.Simulator
	if zerotest.Call(t, func() error {
		sim = wechatpaytest.NewSimulator(nil, wechatpaytest.WithVirtualClock(time.Time{}), wechatpaytest.WithNotifyClient(nil))
		return nil
	}); sim == nil {
		return
	}
	defer sim.Close()
	if got := sim.Now(); !got.Equal(time.Time{}) {
		t.Errorf("Now() = %s, want the zero time the clock was started at", got)
	}
	sim.Advance(time.Minute)
	if got := sim.Now(); !got.Equal(time.Time{}.Add(time.Minute)) {
		t.Errorf("Now() after Advance(1m) = %s, want a minute after the zero time", got)
	}
}
