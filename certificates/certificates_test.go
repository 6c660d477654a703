package certificates_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// downloads counts the certificate downloads the server received.
func downloads(srv *wechatpaytest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.RequestURI, "/v3/certificates") {
			n++
		}
	}
	return n
}

// startedDownloads counts the certificate downloads the client starts.
// Unlike the server's record, which a download cancelled in flight may
// still reach after Stop has returned, it changes only when one begins.
type startedDownloads struct {
	n    atomic.Int64
	base *http.Transport
}

func (s *startedDownloads) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/v3/certificates") {
		s.n.Add(1)
	}
	return s.base.RoundTrip(r)
}

func (s *startedDownloads) CloseIdleConnections() { s.base.CloseIdleConnections() }

func TestDownload(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b, err := wechatpay.NewBuilder(srv.Config())
	require.NoError(t, err)
	ctx := context.Background()

	certs, err := certificates.Download(ctx, b, srv.APIv3Key, "")
	require.NoError(t, err)
	require.Len(t, certs, 1)
	assert.Equal(t, srv.PlatformSerial, certs[0].Serial)
	assert.Equal(t, srv.PlatformCert.Raw, certs[0].Certificate.Raw)
	assert.True(t, strings.HasPrefix(string(certs[0].PEM), "-----BEGIN CERTIFICATE-----"))
	assert.WithinDuration(t, srv.PlatformCert.NotAfter, certs[0].ExpireTime, time.Second)

	_, err = certificates.Download(ctx, b, strings.Repeat("k", 32), "")
	assert.ErrorIs(t, err, aesgcm.ErrDecrypt)

	srv.SetFault(wechatpaytest.UnknownSerial)
	_, err = certificates.Download(ctx, b, srv.APIv3Key, "")
	srv.SetFault(wechatpaytest.NoFault)
	assert.ErrorIs(t, err, middleware.ErrUnknownSerial)
	assert.ErrorContains(t, err, "the download is not signed by a certificate it lists")

	srv.SetFault(wechatpaytest.TamperedBody)
	_, err = certificates.Download(ctx, b, srv.APIv3Key, "")
	srv.SetFault(wechatpaytest.NoFault)
	assert.ErrorIs(t, err, middleware.ErrBadSignature)
}

// managed returns a Builder that verifies only with a started Manager.
func managed(t *testing.T, srv *wechatpaytest.Server, mc certificates.Config) (*wechatpay.Builder, *certificates.Manager) {
	t.Helper()
	mc.APIv3Key = srv.APIv3Key
	mgr, err := certificates.NewManager(mc)
	require.NoError(t, err)
	cfg := srv.Config()
	cfg.Certs, cfg.Keys = nil, mgr
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	require.NoError(t, mgr.Start(context.Background(), b))
	return b, mgr
}

// unnamed sends a request without Wechatpay-Serial, so that the server
// signs with its newest platform certificate.
func unnamed(ctx context.Context, b *wechatpay.Builder) error {
	_, err := b.V3().Pay().Transactions().OutTradeNo().Value("T1").Get(ctx, wechatpay.Options{
		Query:      map[string][]string{"mchid": {"1900000001"}},
		Headers:    http.Header{"Accept": {"application/json"}, "User-Agent": {"test"}},
		Middleware: middleware.Without(middleware.HeadersStep),
	})
	return err
}

func TestManagerRotation(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath), wechatpaytest.WithIdentity(wechatpaytest.PlatformCertificate))
	defer srv.Close()
	b, mgr := managed(t, srv, certificates.Config{})
	defer b.CloseIdleConnections()
	defer mgr.Stop()
	ctx := context.Background()

	assert.Equal(t, []string{srv.PlatformSerial}, mgr.Serials())
	assert.Equal(t, srv.PlatformSerial, mgr.CurrentSerial())
	assert.Equal(t, srv.PlatformSerial, b.WechatpaySerial(), "requests name the manager's current certificate")
	resp, err := b.V3().Pay().Transactions().OutTradeNo().Value("T1").Get(ctx, wechatpay.Options{Query: map[string][]string{"mchid": {srv.MchID}}})
	require.NoError(t, err)
	assert.Equal(t, srv.PlatformSerial, resp.Header().Get("Wechatpay-Serial"))
	require.Equal(t, 1, downloads(srv))

	newSerial := srv.RotatePlatformCertificate()
	// Concurrent answers signed with a certificate the manager has not seen:
	// one download serves them all.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := unnamed(ctx, b); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, 2, downloads(srv), "one download for the unknown serial, shared by every request")
	assert.ElementsMatch(t, []string{srv.PlatformSerial, newSerial}, mgr.Serials())
	assert.Len(t, mgr.Certificates(), 2)
}

func TestManagerMissIsRateLimited(t *testing.T) {
	t.Parallel()
	srv := newServer(t, wechatpaytest.WithIdentity(wechatpaytest.PlatformCertificate))
	b, mgr := managed(t, srv, certificates.Config{MissInterval: time.Hour})
	defer mgr.Stop()
	ctx := context.Background()

	srv.SetFault(wechatpaytest.UnknownSerial)
	for range 3 {
		err := unnamed(ctx, b)
		assert.ErrorIs(t, err, wechatpay.ErrUnknownSerial)
	}
	srv.SetFault(wechatpaytest.NoFault)
	assert.Equal(t, 2, downloads(srv), "the start, then one download for three misses within MissInterval")
}

func TestManagerScheduledRefreshAndStop(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
	defer srv.Close()
	var mu sync.Mutex
	var bgErrs []error
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := certificates.NewManager(certificates.Config{APIv3Key: srv.APIv3Key, Interval: 20 * time.Millisecond,
		OnError: func(err error) { mu.Lock(); bgErrs = append(bgErrs, err); mu.Unlock() }})
	require.NoError(t, err)
	cfg := srv.Config()
	cfg.Keys = mgr
	started := &startedDownloads{base: http.DefaultTransport.(*http.Transport).Clone()}
	cfg.HTTPClient = &http.Client{Transport: started}
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	defer started.base.CloseIdleConnections()
	require.NoError(t, mgr.Start(ctx, b))
	assert.Error(t, mgr.Start(ctx, b), "a second Start is refused")

	newSerial := srv.RotatePlatformCertificate()
	assert.Eventually(t, func() bool { _, ok := mgr.PublicKey(ctx, newSerial); return ok && downloads(srv) >= 2 },
		5*time.Second, 10*time.Millisecond, "the scheduled refresh finds the new certificate")

	cancel() // Start's context does not end the refreshing: Stop does
	mgr.Stop()
	mgr.Stop() // twice is fine
	n := started.n.Load()
	time.Sleep(60 * time.Millisecond) // three intervals: a refresh that outlived Stop would start
	assert.Equal(t, n, started.n.Load(), "nothing is downloaded after Stop")
	assert.ErrorIs(t, mgr.Refresh(context.Background()), certificates.ErrStopped)
	mu.Lock()
	assert.Empty(t, bgErrs)
	mu.Unlock()
}

func TestManagerMixedWithPublicKey(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	mgr, err := certificates.NewManager(certificates.Config{APIv3Key: srv.APIv3Key})
	require.NoError(t, err)
	cfg := srv.Config()
	delete(cfg.Certs, srv.PlatformSerial) // the public key from Certs, certificates from the manager
	cfg.Keys = mgr
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	require.NoError(t, mgr.Start(context.Background(), b))
	defer mgr.Stop()
	assert.Equal(t, srv.PublicKeyID, b.WechatpaySerial(), "the public key id wins when there is one")
	for _, serial := range []string{srv.PublicKeyID, srv.PlatformSerial} {
		resp, err := b.V3().Pay().Transactions().OutTradeNo().Value("T1").Get(context.Background(), wechatpay.Options{
			Query: map[string][]string{"mchid": {srv.MchID}}, Headers: http.Header{"Wechatpay-Serial": {serial}}})
		require.NoError(t, err)
		assert.Equal(t, serial, resp.Header().Get("Wechatpay-Serial"))
	}
}

func TestNewManagerChecksTheKey(t *testing.T) {
	t.Parallel()
	_, err := certificates.NewManager(certificates.Config{APIv3Key: "short"})
	assert.EqualError(t, err, "certificates: Config.APIv3Key has 5 characters: the APIv3 key set in the merchant platform has 32")
}

// TestForgedNotificationsDoNotStarveRotation: anyone can POST a
// notification naming a serial nobody knows. Such misses must not spend the
// budget of on-miss downloads that answers from WeChat Pay (over TLS) rely
// on when the platform certificate really rotates.
func TestForgedNotificationsDoNotStarveRotation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  certificates.Config
		// downloads the flood of forged notifications causes
		flood int
	}{
		{"notifications have their own budget", certificates.Config{MissInterval: time.Hour}, 1},
		{"notifications never download", certificates.Config{MissInterval: time.Hour, NotificationMissInterval: -1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, wechatpaytest.WithIdentity(wechatpaytest.PlatformCertificate))
			b, mgr := managed(t, srv, tt.cfg)
			defer b.CloseIdleConnections()
			defer mgr.Stop()
			ctx := context.Background()
			require.Equal(t, 1, downloads(srv))

			parser := &notify.Parser{Keys: mgr, APIv3Key: srv.APIv3Key}
			var accepted atomic.Int32
			merchant := httptest.NewServer(parser.Handler(func(context.Context, *notify.Notification) error {
				accepted.Add(1)
				return nil
			}))
			defer merchant.Close()
			for i := range 20 {
				h, body, err := srv.Notification("TRANSACTION.SUCCESS", map[string]any{"out_trade_no": "T1"}, wechatpaytest.UnknownSerial)
				require.NoError(t, err)
				h.Set("Wechatpay-Serial", fmt.Sprintf("%040X", i+1)) // any serial a forger likes
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, merchant.URL, bytes.NewReader(body))
				require.NoError(t, err)
				req.Header = h
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			}
			assert.Equal(t, 1+tt.flood, downloads(srv), "the forged serials' downloads")
			assert.Zero(t, accepted.Load())

			// The real rotation, within the same MissInterval: an answer
			// signed with the new certificate still verifies.
			newSerial := srv.RotatePlatformCertificate()
			require.NoError(t, unnamed(ctx, b))
			assert.Equal(t, 2+tt.flood, downloads(srv))
			assert.Contains(t, mgr.Serials(), newSerial)

			// And so does a genuine notification signed with it.
			resp, err := srv.Notify(ctx, nil, merchant.URL, "TRANSACTION.SUCCESS", map[string]any{"out_trade_no": "T1"}, wechatpaytest.NoFault)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusNoContent, resp.StatusCode)
			assert.Equal(t, int32(1), accepted.Load())
		})
	}
}
