package wechatpay_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/internal/zerotest"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// The errors of values no constructor made.
const (
	notBuilt   = "wechatpay: the Builder is not initialised: create it with NewBuilder"
	noBuilder  = "wechatpay: this Chain was not made by a Builder: start chains with Builder.V3, V2 or Chain"
	noFuture   = "wechatpay: this Future was not made by an ...Async verb (GetAsync, PostAsync, ...) or Then"
	emptyStack = "the stack has steps"
)

// says checks that a call's only result is a string holding want.
func says(want string) zerotest.Expect {
	return zerotest.Expect{Check: func(out []reflect.Value) error {
		if s := out[0].String(); !strings.Contains(s, want) {
			return fmt.Errorf("%q does not say %q", s, want)
		}
		return nil
	}}
}

// zeroWalk walks every exported type of the package with methods.
// Options, Sink, Media, Bill, Retry and Failover have none: their
// zero values are checked in use by TestZeroValuesInUse.
var zeroWalk = zerotest.Walk{
	Values: []any{
		wechatpay.Config{}, wechatpay.Builder{}, wechatpay.Chain{}, wechatpay.Response{}, wechatpay.Future{},
		wechatpay.APIError{}, wechatpay.V2Error{}, wechatpay.DigestError{}, wechatpay.FailoverError{},
		wechatpay.ResponseTooLargeError{},
	},
	Funcs: map[string]any{
		"CertificateSerial":  wechatpay.CertificateSerial,
		"LoadCertificate":    wechatpay.LoadCertificate,
		"LoadPKCS12":         wechatpay.LoadPKCS12,
		"LoadPrivateKey":     wechatpay.LoadPrivateKey,
		"LoadPublicKey":      wechatpay.LoadPublicKey,
		"LoadTLSCertificate": wechatpay.LoadTLSCertificate,
		"NewBuilder":         wechatpay.NewBuilder,
		"NewTransport":       wechatpay.NewTransport,
		"ParsePKCS12":        wechatpay.ParsePKCS12,
		"PathSegment":        wechatpay.PathSegment,
		"WaitAll":            wechatpay.WaitAll,
	},
	Expect: map[string]zerotest.Expect{
		// Every request through a Builder{} or a nil *Builder says to use
		// NewBuilder; what only inspects or prints it works (the walk
		// requires it of every method that cannot fail).
		"Builder/zero":             {Err: notBuilt},
		"Builder/nil":              {Err: notBuilt},
		"Builder.MarshalJSON/zero": {},
		"Builder.MarshalJSON/nil":  {},
		"Builder.Stack/zero":       {Check: noSteps},
		"Builder.Stack/nil":        {Check: noSteps},

		// A Chain{} or nil *Chain says to start from a Builder.
		"Chain/zero": {Err: noBuilder},
		"Chain/nil":  {Err: noBuilder},

		"Response.Decode/zero": {Err: "the response (status 0) has no body"},
		"Response.Decode/nil":  {Err: "the response (status 0) has no body"},

		// Then(nil) is the walk's argument; Then(fn) is in TestZeroValuesInUse.
		"Future.Then/zero": {Err: "Then(nil): expected a function"},
		"Future.Then/nil":  {Err: "Then(nil): expected a function"},
		// Likewise Otherwise(nil); Otherwise(fn) is in TestZeroValuesInUse.
		"Future.Otherwise/zero": {Err: "Otherwise(nil): expected a function"},
		"Future.Otherwise/nil":  {Err: "Otherwise(nil): expected a function"},
		"Future.Wait/zero":      {Err: noFuture},
		"Future.Wait/nil":       {Err: noFuture},
		"Future.Done/zero":      {Check: closedChannel},
		"Future.Done/nil":       {Check: closedChannel},

		"APIError.Error/nil":      says("nil *APIError"),
		"V2Error.Error/nil":       says("nil *V2Error"),
		"DigestError.Error/nil":   says("nil *DigestError"),
		"FailoverError.Error/nil": says("nil *FailoverError"),

		"ResponseTooLargeError.Error/nil": says("nil *ResponseTooLargeError"),

		"LoadCertificate":    {Err: "wechatpay: LoadCertificate:"},
		"LoadPKCS12":         {Err: "wechatpay: LoadPKCS12:"},
		"LoadPrivateKey":     {Err: "wechatpay: LoadPrivateKey:"},
		"LoadPublicKey":      {Err: "wechatpay: LoadPublicKey:"},
		"LoadTLSCertificate": {Err: "wechatpay: LoadCertificate:"},
		"NewBuilder":         {Err: "wechatpay: Config.MchID"},
		"ParsePKCS12":        {Err: "wechatpay: ParsePKCS12:"},
		"PathSegment":        {Err: `Seg(""): a segment cannot be empty`},
	},
}

func noSteps(out []reflect.Value) error {
	if names := out[0].Interface().(interface{ Names() []string }).Names(); len(names) > 0 {
		return fmt.Errorf("%s: %v", emptyStack, names)
	}
	return nil
}

func closedChannel(out []reflect.Value) error {
	if _, ok := out[0].TryRecv(); ok {
		return fmt.Errorf("the Done channel gave a value instead of being closed")
	}
	select {
	case <-out[0].Interface().(<-chan struct{}):
		return nil
	default:
		return fmt.Errorf("the Done channel is open: a select on it waits for ever")
	}
}

// TestZeroValues calls every exported method on the zero value and the nil
// pointer of every exported type, and every function with zero arguments:
// none panics or blocks, and each works or says what to use instead.
func TestZeroValues(t *testing.T) {
	// Not parallel: goleak would see other tests' goroutines.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	zeroWalk.Run(t)
}

// TestZeroValuesCovered fails when an exported type or function is added
// without its case in zeroWalk.
func TestZeroValuesCovered(t *testing.T) {
	t.Parallel()
	zerotest.Covered(t, ".", zeroWalk)
}

// TestZeroValuesInUse goes further than the walk: requests through a
// Builder{}, continuations of a Future{}, and zero Options, Sink, Media,
// Bill, Retry and Failover on a working Builder.
func TestZeroValuesInUse(t *testing.T) {
	// Not parallel: goleak would see other tests' goroutines.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// Closed by defer, not newServer's t.Cleanup: VerifyNone runs before cleanups.
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
	defer srv.Close()
	srv.Handle("/", echo)
	b := newBuilder(t, srv, func(cfg *wechatpay.Config) {
		cfg.Retry, cfg.Failover = &wechatpay.Retry{}, &wechatpay.Failover{}
	})
	defer b.CloseIdleConnections()
	ctx := context.Background()
	var nilBuilder *wechatpay.Builder
	var nilFuture *wechatpay.Future
	bill := wechatpay.Bill{DownloadURL: srv.URL + "v3/billdownload/file?token=zero", HashType: "SHA1", HashValue: "0000000000000000000000000000000000000000"}
	ok := func(*wechatpay.Response) (*wechatpay.Response, error) { return nil, nil }
	passOn := func(err error) (*wechatpay.Response, error) { return nil, err }
	wait := func(_ *wechatpay.Response, err error) error { return err }

	for _, tc := range []struct {
		name string
		call func() error
		want string // "" means no error
	}{
		{"Builder{} V3 chain Get", func() error { return wait((&wechatpay.Builder{}).V3().Pay().Transactions().Get(ctx)) }, notBuilt},
		{"Builder{} V2 chain Post", func() error { return wait((&wechatpay.Builder{}).V2().Pay().Micropay().Post(ctx)) }, notBuilt},
		{"Builder{} full URL Get", func() error { return wait((&wechatpay.Builder{}).Chain(bill.DownloadURL).Get(ctx)) }, notBuilt},
		{"nil Builder PostAsync", func() error { return wait(nilBuilder.Chain("v3/x").PostAsync(ctx).Wait()) }, notBuilt},
		{"Builder{} Lookup Get", func() error {
			c, _ := (&wechatpay.Builder{}).Lookup("v3/certificates")
			return wait(c.Get(ctx))
		}, notBuilt},
		{"Builder{} DownloadBill", func() error {
			return (&wechatpay.Builder{}).DownloadBill(ctx, bill, filepath.Join(t.TempDir(), "bill"))
		}, notBuilt},
		{"Future{} Then", func() error { return wait((&wechatpay.Future{}).Then(ok).Wait()) }, noFuture},
		{"nil Future Then", func() error { return wait(nilFuture.Then(ok).Wait()) }, noFuture},
		{"Future{} Otherwise", func() error { return wait((&wechatpay.Future{}).Otherwise(passOn).Wait()) }, noFuture},
		{"nil Future Otherwise", func() error { return wait(nilFuture.Otherwise(passOn).Wait()) }, noFuture},
		{"WaitAll of a Future{}", func() error { _, err := wechatpay.WaitAll(&wechatpay.Future{}); return err }, "future 0: " + noFuture},
		{"zero Options", func() error { return wait(b.Chain("v3/zero").Get(ctx, wechatpay.Options{})) }, ""},
		{"zero Retry and Failover", func() error { return wait(b.Chain("v3/zero").Post(ctx)) }, ""},
		{"zero Sink", func() error { return wait(b.Chain("v3/zero").Get(ctx, wechatpay.Options{Sink: &wechatpay.Sink{}})) }, "Options.Sink.Writer is nil"},
		{"zero Media", func() error { return wait(b.Chain("v3/zero").Post(ctx, wechatpay.Options{Media: &wechatpay.Media{}})) }, "Options.Media: Filename is empty"},
		{"zero Bill", func() error { return b.DownloadBill(ctx, wechatpay.Bill{}, filepath.Join(t.TempDir(), "bill")) }, "Bill.DownloadURL is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zerotest.CallWant(t, tc.call, tc.want)
		})
	}
	// Only the two requests with zero options were sent: the zero Sink and
	// Media were refused before anything left.
	var sent []string
	for _, r := range srv.Requests() {
		sent = append(sent, r.Method+" "+r.RequestURI)
	}
	if want := []string{"GET " + underBase("/v3/zero"), "POST " + underBase("/v3/zero")}; !reflect.DeepEqual(sent, want) {

		t.Errorf("the server got %q, want %q", sent, want)
	}
}
