package certificates_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/aesgcm"
	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestNewBuilder: one call downloads the certificates and returns a Builder
// that verifies answers with them, and only with them (the Config has no
// Certs, and the server signs with its platform certificate).
func TestNewBuilder(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath), wechatpaytest.WithIdentity(wechatpaytest.PlatformCertificate))
	defer srv.Close()
	cfg := srv.Config()
	cfg.Certs = nil
	ctx, cancel := context.WithCancel(context.Background())

	b, mgr, err := certificates.NewBuilder(ctx, cfg, certificates.Config{APIv3Key: srv.APIv3Key, MissInterval: time.Hour})
	require.NoError(t, err)
	defer b.CloseIdleConnections()
	defer mgr.Stop()
	assert.Equal(t, 1, downloads(srv), "the first download is done when NewBuilder returns")
	assert.Equal(t, []string{srv.PlatformSerial}, mgr.Serials())
	assert.Equal(t, srv.PlatformSerial, b.WechatpaySerial(), "requests name the manager's current certificate")

	resp, err := b.V3().Pay().Transactions().OutTradeNo().Value("T1").Get(ctx, wechatpay.Options{Query: map[string][]string{"mchid": {srv.MchID}}})
	require.NoError(t, err)
	assert.Equal(t, srv.PlatformSerial, resp.Header().Get("Wechatpay-Serial"))
	assert.Equal(t, "T1", resp.Get("out_trade_no").String())

	// The manager is the Builder's key source and outlives NewBuilder's
	// context: an answer signed with a rotated certificate downloads again.
	cancel()
	newSerial := srv.RotatePlatformCertificate()
	require.NoError(t, unnamed(context.Background(), b))
	assert.Equal(t, 2, downloads(srv))
	assert.ElementsMatch(t, []string{srv.PlatformSerial, newSerial}, mgr.Serials())
}

// cancelOnDownload cancels a context when a certificate download starts,
// so that NewBuilder's context ends while the download is in flight.
type cancelOnDownload struct {
	cancel context.CancelFunc
	base   *http.Transport
	n      atomic.Int32
}

func (c *cancelOnDownload) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/v3/certificates") {
		c.n.Add(1)
		c.cancel()
	}
	return c.base.RoundTrip(r)
}

func (c *cancelOnDownload) CloseIdleConnections() { c.base.CloseIdleConnections() }

// TestNewBuilderFirstDownloadFails: when the first download fails,
// NewBuilder returns the error and nothing of what it made keeps running:
// no refreshing, no download in flight, no idle connection. The leak check
// runs while the server is still up, so that a connection left open would
// still be there.
func TestNewBuilderFirstDownloadFails(t *testing.T) {
	wrongKey := "wrong-apiv3-key-0123456789abcdef"
	tests := []struct {
		name  string
		setup func(srv *wechatpaytest.Server, cfg *wechatpay.Config, mc *certificates.Config, cancel context.CancelFunc) *cancelOnDownload
		check func(t *testing.T, err error)
	}{
		{"a wrong APIv3 key", func(_ *wechatpaytest.Server, _ *wechatpay.Config, mc *certificates.Config, _ context.CancelFunc) *cancelOnDownload {
			mc.APIv3Key = wrongKey
			return nil
		}, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, aesgcm.ErrDecrypt)
			assert.NotContains(t, err.Error(), wrongKey)
		}},
		{"a server error", func(srv *wechatpaytest.Server, _ *wechatpay.Config, _ *certificates.Config, _ context.CancelFunc) *cancelOnDownload {
			srv.SetFault(wechatpaytest.ServerError)
			return nil
		}, func(t *testing.T, err error) {
			var apiErr *wechatpay.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusInternalServerError, apiErr.StatusCode)
		}},
		{"the context ends during the download", func(srv *wechatpaytest.Server, cfg *wechatpay.Config, _ *certificates.Config, cancel context.CancelFunc) *cancelOnDownload {
			// The answer would take an hour: only Stop ends the download,
			// which Start leaves running for others to wait on.
			srv.SetFault(wechatpaytest.Slow)
			srv.SetDelay(time.Hour)
			rt := &cancelOnDownload{cancel: cancel, base: http.DefaultTransport.(*http.Transport).Clone()}
			cfg.HTTPClient = &http.Client{Transport: rt}
			return rt
		}, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, context.Canceled)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			ignore := goleak.IgnoreCurrent() // the server's own goroutines
			cfg := srv.Config()
			cfg.Certs = nil
			mc := certificates.Config{APIv3Key: srv.APIv3Key}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rt := tt.setup(srv, &cfg, &mc, cancel)

			b, mgr, err := certificates.NewBuilder(ctx, cfg, mc)
			require.Error(t, err)
			assert.Nil(t, b)
			assert.Nil(t, mgr)
			assert.ErrorContains(t, err, "certificates: ")
			assert.NotContains(t, err.Error(), srv.APIv3Key)
			tt.check(t, err)
			if rt != nil {
				assert.Equal(t, int32(1), rt.n.Load(), "the download was started")
			} else {
				assert.Equal(t, 1, downloads(srv), "the download was sent")
			}
			goleak.VerifyNone(t, ignore)
		})
	}
}

// TestNewBuilderRefusesBadConfig: a Config that cannot work is refused
// before anything is sent, with an error naming the field.
func TestNewBuilderRefusesBadConfig(t *testing.T) {
	srv := newServer(t)
	good := srv.Config()
	good.Certs = nil
	var nilCtx context.Context
	tests := []struct {
		name string
		ctx  context.Context
		cfg  func() wechatpay.Config
		mc   certificates.Config
		want string
	}{
		{"a short APIv3 key", context.Background(), func() wechatpay.Config { return good },
			certificates.Config{APIv3Key: "short"},
			"certificates: Config.APIv3Key has 5 characters: the APIv3 key set in the merchant platform has 32"},
		{"no APIv3 key", context.Background(), func() wechatpay.Config { return good },
			certificates.Config{},
			"certificates: Config.APIv3Key has 0 characters: the APIv3 key set in the merchant platform has 32"},
		{"Keys already set", context.Background(), func() wechatpay.Config {
			cfg := good
			cfg.Keys = middleware.StaticKeys{}
			return cfg
		}, certificates.Config{APIv3Key: srv.APIv3Key},
			"certificates: NewBuilder puts the Manager in wechatpay.Config.Keys, which already holds a middleware.StaticKeys: " +
				"leave it nil, or combine key sources yourself with NewManager and Manager.Start"},
		{"a bad wechatpay.Config", context.Background(), func() wechatpay.Config {
			cfg := good
			cfg.MchID = ""
			return cfg
		}, certificates.Config{APIv3Key: srv.APIv3Key},
			`wechatpay: Config.MchID "" is not a merchant id`},
		{"a nil context", nilCtx, func() wechatpay.Config { return good },
			certificates.Config{APIv3Key: srv.APIv3Key},
			"certificates: NewBuilder needs a context: context.Background() if nothing bounds the first download"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			before := len(srv.Requests())
			b, mgr, err := certificates.NewBuilder(tt.ctx, tt.cfg(), tt.mc)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), srv.APIv3Key)
			assert.Nil(t, b)
			assert.Nil(t, mgr)
			assert.Equal(t, before, len(srv.Requests()), "nothing is sent")
		})
	}
}
