package certificates_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// clock is a settable Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// newCA makes a CA named name that is not WeChat Pay's.
func newCA(t *testing.T, name pkix.Name) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: name, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return ca, key
}

// TestPlatformCertificateTrust: a download is refused, naming the serial
// and what is wrong, when a certificate it lists is not what WeChat Pay
// issues: an RSA key of 2048 bits or more, within its validity by the
// Manager's clock, issued under Tenpay.com Root CA's name. Self-signed
// certificates go as well, even under that name. The good one is kept.
func TestPlatformCertificateTrust(t *testing.T) {
	srv := newServer(t)
	now := time.Now().Truncate(time.Second) // the clock the Manager judges validity by
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	valid := func() *x509.Certificate {
		return &x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0)}
	}
	issued := func(tmpl *x509.Certificate, pub *rsa.PublicKey) *x509.Certificate {
		cert, err := srv.IssuePlatformCertificate(tmpl, pub)
		require.NoError(t, err)
		return cert
	}
	// signed issues tmpl with another CA (or itself when ca is nil).
	signed := func(tmpl *x509.Certificate, ca *x509.Certificate, caKey any) *x509.Certificate {
		tmpl.SerialNumber = big.NewInt(now.UnixNano())
		if ca == nil {
			ca, caKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		cert, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		return cert
	}
	userCA, userCAKey := newCA(t, pkix.Name{CommonName: "Tenpay.com User CA", OrganizationalUnit: []string{"CA Center"}, Organization: []string{"Tenpay.com"}})
	namesake, namesakeKey := newCA(t, pkix.Name{CommonName: "Tenpay.com Root CA", OrganizationalUnit: []string{"Tenpay.com CA Center"}, Organization: []string{"Example Ltd"}})
	selfSigned := valid()
	selfSigned.Subject = srv.PlatformCA.Subject // Tenpay.com Root CA's own name as issuer and subject
	selfIssued := valid()
	selfIssued.Subject = srv.PlatformCert.Subject

	tests := []struct {
		name string
		key  *rsa.PrivateKey
		cert *x509.Certificate
		// want are parts of the error; none: the certificate is kept.
		want []string
	}{
		{"issued by Tenpay.com Root CA, valid", key, issued(valid(), &key.PublicKey), nil},
		{"1024-bit key", weak, issued(valid(), &weak.PublicKey), []string{"1024-bit RSA key", "2048 bits or more"}},
		{"not yet valid", key, issued(&x509.Certificate{NotBefore: now.Add(24 * time.Hour), NotAfter: now.AddDate(5, 0, 0)}, &key.PublicKey),
			[]string{"not valid before " + now.Add(24*time.Hour).UTC().Format(time.RFC3339), "the time now is " + now.UTC().Format(time.RFC3339)}},
		{"expired", key, issued(&x509.Certificate{NotBefore: now.AddDate(-5, 0, 0), NotAfter: now.Add(-24 * time.Hour)}, &key.PublicKey),
			[]string{"expired at " + now.Add(-24*time.Hour).UTC().Format(time.RFC3339), "the time now is " + now.UTC().Format(time.RFC3339)}},
		{"self-signed under Tenpay.com Root CA's name", key, signed(selfSigned, nil, nil),
			[]string{"self-signed", "issued by CN=Tenpay.com Root CA,OU=Tenpay.com CA Center,O=Tenpay.com"}},
		{"named as issued by Tenpay.com Root CA, signed with its own key", key,
			signed(selfIssued, &x509.Certificate{Subject: srv.PlatformCA.Subject}, key), []string{"self-signed"}},
		{"issued by another CA", key, signed(valid(), userCA, userCAKey),
			[]string{`issued by "CN=Tenpay.com User CA,OU=CA Center,O=Tenpay.com"`, "issued by CN=Tenpay.com Root CA,OU=Tenpay.com CA Center,O=Tenpay.com"}},
		{"issued by a CA with the right common name only", key, signed(valid(), namesake, namesakeKey),
			[]string{`issued by "CN=Tenpay.com Root CA,OU=Tenpay.com CA Center,O=Example Ltd"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
			defer srv.Close()
			serial := srv.AddPlatformCertificate(tt.key, tt.cert) // the newest: it signs the download
			mgr, err := certificates.NewManager(certificates.Config{APIv3Key: srv.APIv3Key, Now: func() time.Time { return now }})
			require.NoError(t, err)
			defer mgr.Stop()
			cfg := srv.Config()
			cfg.Keys = mgr
			b, err := wechatpay.NewBuilder(cfg)
			require.NoError(t, err)
			defer b.CloseIdleConnections()

			err = mgr.Start(context.Background(), b)
			if tt.want == nil {
				require.NoError(t, err)
				assert.ElementsMatch(t, []string{serial, srv.PlatformSerial}, mgr.Serials())
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "certificate "+serial+": ")
			for _, part := range tt.want {
				assert.Contains(t, err.Error(), part)
			}
			if tt.key != weak { // a short key may be refused on loading, before the platform checks (wechatpay.ErrWeakKey)
				assert.ErrorIs(t, err, certificates.ErrUntrusted)
			}
			assert.Empty(t, mgr.Serials(), "nothing of a refused download is kept")

			// Download, the one-shot form, refuses it too (by the local clock).
			_, err = certificates.Download(context.Background(), b, srv.APIv3Key, "")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "certificate "+serial+": ")
		})
	}
}

// TestManagerClock: the Manager judges validity by Config.Now, at
// download and on every lookup afterwards.
func TestManagerClock(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
	defer srv.Close()
	clk := &clock{now: time.Now()}
	mgr, err := certificates.NewManager(certificates.Config{APIv3Key: srv.APIv3Key, Now: clk.Now, MissInterval: time.Hour})
	require.NoError(t, err)
	defer mgr.Stop()
	cfg := srv.Config()
	cfg.Keys = mgr
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	defer b.CloseIdleConnections()
	require.NoError(t, mgr.Start(context.Background(), b))
	_, ok := mgr.PublicKey(context.Background(), srv.PlatformSerial)
	require.True(t, ok)
	require.Equal(t, srv.PlatformSerial, mgr.CurrentSerial())

	clk.Set(srv.PlatformCert.NotAfter.Add(time.Second))
	_, ok = mgr.PublicKey(context.Background(), srv.PlatformSerial)
	assert.False(t, ok, "expired by the Manager's clock")
	assert.Empty(t, mgr.CurrentSerial())
	err = mgr.Refresh(context.Background())
	assert.ErrorIs(t, err, certificates.ErrUntrusted)
	assert.ErrorContains(t, err, "expired at "+srv.PlatformCert.NotAfter.UTC().Format(time.RFC3339))
}

// TestManagerDropsWhatIsNoLongerListed: after a verified download, the
// Manager knows exactly the certificates it lists; keys configured in the
// Builder itself are not the Manager's and stay.
func TestManagerDropsWhatIsNoLongerListed(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
	defer srv.Close()
	mgr, err := certificates.NewManager(certificates.Config{APIv3Key: srv.APIv3Key})
	require.NoError(t, err)
	defer mgr.Stop()
	cfg := srv.Config()
	delete(cfg.Certs, srv.PlatformSerial) // the public key from Certs, certificates from the manager
	cfg.Keys = mgr
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	defer b.CloseIdleConnections()
	ctx := context.Background()
	require.NoError(t, mgr.Start(ctx, b))

	newSerial := srv.RotatePlatformCertificate()
	require.NoError(t, mgr.Refresh(ctx))
	assert.ElementsMatch(t, []string{srv.PlatformSerial, newSerial}, mgr.Serials())

	require.True(t, srv.RemovePlatformCertificate(srv.PlatformSerial))
	require.NoError(t, mgr.Refresh(ctx))
	assert.Equal(t, []string{newSerial}, mgr.Serials(), "WeChat Pay no longer lists the old certificate")
	require.Len(t, mgr.Certificates(), 1)
	assert.Equal(t, newSerial, mgr.Certificates()[0].Serial)
	assert.Equal(t, newSerial, mgr.CurrentSerial())
	assert.False(t, srv.RemovePlatformCertificate(newSerial), "the fake server always lists one")

	// A failed download changes nothing.
	srv.SetFaultN(wechatpaytest.TamperedBody, 1)
	require.Error(t, mgr.Refresh(ctx))
	assert.Equal(t, []string{newSerial}, mgr.Serials())

	// The public key configured in the Builder still verifies.
	_, err = b.V3().Pay().Transactions().OutTradeNo().Value("T1").Get(ctx, wechatpay.Options{
		Query: map[string][]string{"mchid": {srv.MchID}}, Headers: map[string][]string{"Wechatpay-Serial": {srv.PublicKeyID}}})
	require.NoError(t, err)
}

// TestManagerStartCanBeRetried: a Start that failed leaves the Manager as
// it was, and the next Start works.
func TestManagerStartCanBeRetried(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
	defer srv.Close()
	mgr, err := certificates.NewManager(certificates.Config{APIv3Key: srv.APIv3Key})
	require.NoError(t, err)
	cfg := srv.Config()
	cfg.Keys = mgr
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	defer b.CloseIdleConnections()
	ctx := context.Background()

	assert.ErrorContains(t, mgr.Refresh(ctx), "the Manager is not started", "no Builder yet: an error, not a crash")
	srv.SetFaultN(wechatpaytest.TamperedBody, 1)
	require.Error(t, mgr.Start(ctx, b), "the first download fails")
	assert.Empty(t, mgr.Serials())
	require.NoError(t, mgr.Start(ctx, b), "and Start can be tried again")
	assert.Equal(t, []string{srv.PlatformSerial}, mgr.Serials())
	assert.ErrorContains(t, mgr.Start(ctx, b), "already started")
	mgr.Stop()
	assert.ErrorIs(t, mgr.Start(ctx, b), certificates.ErrStopped)
}

// TestManagerOutlivesTheStartContext: ctx bounds the first download only;
// the scheduled refresh goes on until Stop, as a Go developer expects of a
// background job (x/oauth2's token source keeps refreshing after the call
// that made it returned).
func TestManagerOutlivesTheStartContext(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath(basePath))
	defer srv.Close()
	var mu sync.Mutex
	var bgErrs []error
	mgr, err := certificates.NewManager(certificates.Config{APIv3Key: srv.APIv3Key, Interval: 5 * time.Millisecond,
		MissInterval: time.Hour, OnError: func(err error) { mu.Lock(); bgErrs = append(bgErrs, err); mu.Unlock() }})
	require.NoError(t, err)
	cfg := srv.Config()
	cfg.Keys = mgr
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	defer b.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, mgr.Start(ctx, b))
	cancel() // a request's context, say, ends right after Start

	newSerial := srv.RotatePlatformCertificate()
	// Serials never downloads: only the scheduled refresh can find it.
	assert.Eventually(t, func() bool { return len(mgr.Serials()) == 2 }, 10*time.Second, 5*time.Millisecond,
		"the scheduled refresh still runs")
	assert.Contains(t, mgr.Serials(), newSerial)
	mgr.Stop()
	mu.Lock()
	assert.Empty(t, bgErrs)
	mu.Unlock()
}

// TestForgedNotificationDelaysARotationOneIntervalAtMost: one forged
// notification spends the notifications' on-miss budget; a genuine one
// signed with a certificate listed just after must get through once that
// budget's interval has passed (WeChat Pay redelivers after 15 s, 15 s,
// 30 s, 3 min...), not ten minutes later. The clock is Config.Now.
func TestForgedNotificationDelaysARotationOneIntervalAtMost(t *testing.T) {
	t.Parallel()
	srv := newServer(t, wechatpaytest.WithIdentity(wechatpaytest.PlatformCertificate))
	clk := &clock{now: time.Now()}
	mgr, err := certificates.NewManager(certificates.Config{APIv3Key: srv.APIv3Key, Now: clk.Now})
	require.NoError(t, err)
	cfg := srv.Config()
	cfg.Certs, cfg.Keys = nil, mgr
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, mgr.Start(ctx, b))
	defer mgr.Stop()
	parser, err := notify.NewParser(mgr, srv.APIv3Key)
	require.NoError(t, err)

	parse := func(serial string) error {
		h, body, err := srv.Notification("TRANSACTION.SUCCESS", map[string]any{"out_trade_no": "T1"}, wechatpaytest.NoFault)
		require.NoError(t, err)
		if serial != "" {
			h.Set("Wechatpay-Serial", serial) // a forger names any serial
		}
		_, err = parser.Parse(ctx, h, body)
		return err
	}
	require.ErrorIs(t, parse("FORGED0000000000000000000000000000000001"), notify.ErrUnknownSerial)
	srv.RotatePlatformCertificate() // listed and used at once: the worst case
	require.ErrorIs(t, parse(""), notify.ErrUnknownSerial, "within the interval the forged miss spent")
	clk.Set(clk.Now().Add(time.Minute))
	require.NoError(t, parse(""), "one interval later a genuine notification gets its download")
}
