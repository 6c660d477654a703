package certificates

import (
	"context"
	"errors"
	"fmt"

	"github.com/wechatpay-chain/wechatpay"
)

// NewBuilder is the one call a merchant with platform certificates needs:
// it creates a Manager from manager, puts it in cfg.Keys, builds the
// Builder with wechatpay.NewBuilder, and starts the Manager through it
// (Manager.Start: the first download now, then the refreshing). It
// returns both; the caller must call the Manager's Stop when done with
// the Builder, or the refreshing goes on.
//
// cfg.Keys must be nil: NewBuilder puts the Manager there. To combine the
// Manager with another key source, use NewManager and Manager.Start.
// cfg.Certs may hold the WeChat Pay public key as well: each key is found
// by its serial.
//
// A Config that cannot work (an APIv3 key of other than 32 characters, a
// wechatpay.Config that NewBuilder refuses) is refused before anything is
// sent. On any error nothing NewBuilder made keeps running: the Manager is
// stopped, a download in flight is cancelled and waited for, and the
// Builder's idle connections are closed (with cfg.HTTPClient, that
// client's). ctx bounds the first download only, as for Manager.Start.
func NewBuilder(ctx context.Context, cfg wechatpay.Config, manager Config) (*wechatpay.Builder, *Manager, error) {
	if ctx == nil {
		return nil, nil, errors.New("certificates: NewBuilder needs a context: context.Background() if nothing bounds the first download")
	}
	mgr, err := NewManager(manager)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Keys != nil {
		mgr.Stop()
		return nil, nil, fmt.Errorf("certificates: NewBuilder puts the Manager in wechatpay.Config.Keys, which already holds a %T: "+
			"leave it nil, or combine key sources yourself with NewManager and Manager.Start", cfg.Keys)
	}
	cfg.Keys = mgr
	b, err := wechatpay.NewBuilder(cfg)
	if err != nil {
		mgr.Stop()
		return nil, nil, err
	}
	if err := mgr.Start(ctx, b); err != nil {
		// Start leaves a download that outlived ctx running, for others to
		// wait on: Stop cancels it and waits for it to end.
		mgr.Stop()
		b.CloseIdleConnections()
		if err == ctx.Err() {
			err = fmt.Errorf("certificates: the first download did not end before the context: %w", err)
		}
		return nil, nil, err
	}
	return b, mgr, nil
}
