package certificates_test

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/internal/zerotest"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// notInitialised is the answer of a Manager that NewManager did not make.
const notInitialised = "certificates: the Manager is not initialised: create it with NewManager"

// zeroWalk walks every exported type of the package with methods
// (Certificate has none).
var zeroWalk = zerotest.Walk{
	Values: []any{certificates.Manager{}, certificates.Config{}},
	Funcs: map[string]any{
		"Download":   certificates.Download,
		"NewBuilder": certificates.NewBuilder,
		"NewManager": certificates.NewManager,
	},
	Expect: map[string]zerotest.Expect{
		// Start and Refresh say to use NewManager; Stop has nothing to
		// stop; the lookups know no certificate; printing works.
		"Manager/zero":             {Err: notInitialised},
		"Manager/nil":              {Err: notInitialised},
		"Manager.MarshalJSON/zero": {},
		"Manager.MarshalJSON/nil":  {},

		"Download":   {Err: "certificates: downloading: wechatpay: the Builder is not initialised: create it with NewBuilder"},
		"NewBuilder": {Err: "certificates: Config.APIv3Key has 0 characters"},
		"NewManager": {Err: "certificates: Config.APIv3Key has 0 characters"},
	},
}

// TestZeroValues calls every exported method on the zero value and the nil
// pointer of every exported type, and every function with zero arguments:
// none panics or blocks, and each works or says what to use instead.
func TestZeroValues(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	zeroWalk.Run(t)
}

// TestZeroValuesCovered fails when an exported type or function is added
// without its case in zeroWalk.
func TestZeroValuesCovered(t *testing.T) {
	t.Parallel()
	zerotest.Covered(t, ".", zeroWalk)
}

// TestZeroValuesInUse: a Manager{} or nil *Manager given a working Builder
// says to use NewManager (a Manager{}'s Start used to crash the process
// from its download goroutine); a working Manager or Download given a
// Builder{} says to use NewBuilder; a Manager{} as a Builder's keys knows
// no key, so answers fail verification.
func TestZeroValuesInUse(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
	defer srv.Close()
	b, err := wechatpay.NewBuilder(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer b.CloseIdleConnections()
	ctx := context.Background()
	var nilManager *certificates.Manager
	const notBuilt = "wechatpay: the Builder is not initialised: create it with NewBuilder"

	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"Manager{} Start", func() error { return (&certificates.Manager{}).Start(ctx, b) }, notInitialised},
		{"nil Manager Start", func() error { return nilManager.Start(ctx, b) }, notInitialised},
		{"Manager{} Refresh", func() error { return (&certificates.Manager{}).Refresh(ctx) }, notInitialised},
		{"Manager{} Stop, twice", func() error {
			m := &certificates.Manager{}
			m.Stop()
			m.Stop()
			nilManager.Stop()
			return m.Refresh(ctx)
		}, notInitialised},
		{"Start through a Builder{}", func() error {
			m, err := certificates.NewManager(certificates.Config{APIv3Key: srv.APIv3Key})
			if err != nil {
				return err
			}
			defer m.Stop()
			return m.Start(ctx, &wechatpay.Builder{})
		}, notBuilt},
		{"Download through a Builder{}", func() error {
			_, err := certificates.Download(ctx, &wechatpay.Builder{}, srv.APIv3Key, "")
			return err
		}, notBuilt},
		{"Manager{} as a Builder's keys", func() error {
			cfg := srv.Config()
			cfg.Certs, cfg.Keys = nil, &certificates.Manager{}
			zb, err := wechatpay.NewBuilder(cfg)
			if err != nil {
				return err
			}
			defer zb.CloseIdleConnections()
			_, err = zb.V3().Certificates().Get(ctx)
			if err != nil && !errors.Is(err, wechatpay.ErrUnknownSerial) {
				return errors.New("not ErrUnknownSerial: " + err.Error())
			}
			return err
		}, "is not among the configured verification keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zerotest.CallWant(t, tc.call, tc.want)
		})
	}
}
