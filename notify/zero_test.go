package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wechatpay-chain/wechatpay/internal/zerotest"
	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

const nilDeduper = "notify: the MemoryDeduper is nil: use &MemoryDeduper{}"

// zeroWalk walks every exported type of the package with methods
// (Resource has none). The walk's Handler gets a POST with an empty body.
var zeroWalk = zerotest.Walk{
	Values: []any{notify.Parser{}, notify.Notification{}, notify.Handler{}, notify.MemoryDeduper{}, notify.ClaimResult(0)},
	Funcs: map[string]any{
		"DecryptReqInfo": notify.DecryptReqInfo,
		"NewParser":      notify.NewParser,
		"ParseRefundV2":  notify.ParseRefundV2,
		"ParseV2":        notify.ParseV2,
		"ReplyV2":        notify.ReplyV2,
	},
	Expect: map[string]zerotest.Expect{
		"Parser.Parse/zero": {Err: "notify: the Parser is misconfigured: no verification keys"},
		"Parser.Parse/nil":  {Err: "notify: the Parser is misconfigured: the Parser is nil: create it with NewParser"},
		// Handler(nil), the walk's argument: WeChat Pay is told to deliver
		// again later.
		"Parser.Handler/zero": {Err: `HTTP 500: {"code":"FAIL"`},
		"Parser.Handler/nil":  {Err: `HTTP 500: {"code":"FAIL"`},

		"Notification.Decode/zero": {Err: "notify: decoding the resource into <nil>: unexpected end of JSON input"},
		"Notification.Decode/nil":  {Err: "the Notification is nil"},

		"MemoryDeduper/nil": {Err: nilDeduper},

		"DecryptReqInfo": {Err: "notify: the APIv2 secret has 0 characters"},
		"NewParser":      {Err: "notify: the Parser is misconfigured: no verification keys"},
		"ParseRefundV2":  {Err: "notify: the APIv2 secret has 0 characters"},
		"ParseV2":        {Err: "notify: the APIv2 secret has 0 characters"},
	},
}

// TestZeroValues calls every exported method on the zero value and the nil
// pointer of every exported type, and every function with zero arguments:
// none panics or blocks, and each works or says what to use instead.
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

// TestZeroHandlers: handlers built from zero or nil parts answer a real
// notification with 500 FAIL (WeChat Pay delivers it again later) and log
// why, instead of crashing; a working one still answers 204.
func TestZeroHandlers(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	header, body, err := srv.Notification("TRANSACTION.SUCCESS", map[string]string{"out_trade_no": "zero"}, wechatpaytest.NoFault)
	if err != nil {
		t.Fatal(err)
	}
	parser, err := notify.NewParser(middleware.StaticKeys{srv.PublicKeyID: &srv.PublicKeyKey.PublicKey}, srv.APIv3Key)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	fn := func(context.Context, *notify.Notification) error { return nil }
	var nilParser *notify.Parser

	for _, tc := range []struct {
		name    string
		handler http.Handler
		status  int
		log     string // what the log says (a nil Handler logs to slog.Default)
	}{
		{"nil Handler", (*notify.Handler)(nil), 500, ""},
		{"Handler{}", &notify.Handler{Logger: logger}, 500, "notify.Handler has no Parser or no Func"},
		{"Handler(nil)", &notify.Handler{Parser: parser, Logger: logger}, 500, "notify.Handler has no Parser or no Func"},
		{"nil Parser", &notify.Handler{Parser: nilParser, Func: fn, Logger: logger}, 500, "notify.Handler has no Parser or no Func"},
		{"Parser{}", &notify.Handler{Parser: &notify.Parser{}, Func: fn, Logger: logger}, 500, "the Parser is misconfigured"},
		{"nil MemoryDeduper", &notify.Handler{Parser: parser, Func: fn, Deduper: (*notify.MemoryDeduper)(nil), Logger: logger}, 500, nilDeduper},
		{"MemoryDeduper{}", &notify.Handler{Parser: parser, Func: fn, Deduper: &notify.MemoryDeduper{}, Logger: logger}, 204, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log.Reset()
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/notify", bytes.NewReader(body))
			req.Header = header.Clone()
			if err := zerotest.Call(t, func() error { tc.handler.ServeHTTP(rec, req); return nil }); err != nil || t.Failed() {
				return
			}
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 500 && !strings.Contains(rec.Body.String(), `"code":"FAIL"`) {
				t.Errorf("body %s is not a FAIL answer", rec.Body)
			}
			if tc.log != "" && !strings.Contains(log.String(), tc.log) {
				t.Errorf("the log %q does not say %q", log.String(), tc.log)
			}
		})
	}
}
