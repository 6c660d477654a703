package certificates

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/aesgcm"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// Certificate is one downloaded platform certificate.
type Certificate struct {
	Serial        string            // upper-case hex, as Wechatpay-Serial names it
	Certificate   *x509.Certificate // decrypted and checked; its NotBefore and NotAfter decide when the Manager uses it
	PEM           []byte            // the certificate PEM-encoded, to save as a file (wechatpay certificates does)
	EffectiveTime time.Time         // effective_time as the answer states it, for display
	ExpireTime    time.Time         // expire_time as the answer states it, for display
}

// DefaultPath is where mainland merchants download certificates; Hong
// Kong merchants use "v3/global/certificates".
const DefaultPath = "v3/certificates"

// Download fetches the platform certificates through b (its host, its
// signature), decrypts each with apiv3Key, checks that each is what WeChat
// Pay issues as a platform certificate, and verifies the answer with the
// certificates it holds: the certificate that signed it must be among them.
// path empty means DefaultPath. b needs no verification key of its own: a
// Builder made only for this sets wechatpay.Config.Keys to an empty
// middleware.StaticKeys{} (wechatpay.NewBuilder refuses a Config with
// neither Certs nor Keys).
//
// A platform certificate must hold an RSA key of 2048 bits or more, be
// within its validity now, not be self-signed, and name WeChat Pay's CA as
// its issuer (CN=Tenpay.com Root CA, OU=Tenpay.com CA Center,
// O=Tenpay.com), as WeChat Pay's own downloader documentation asks users
// to check. The CA's signature on it is not verified: this package does
// not carry Tenpay's CA certificate. What binds the certificates to WeChat
// Pay is HTTPS, the APIv3 key they are encrypted with, and the answer's
// signature by one of them. One certificate that fails a check fails the
// whole download (errors.Is ErrUntrusted), naming its serial and what is
// wrong.
func Download(ctx context.Context, b *wechatpay.Builder, apiv3Key, path string) ([]Certificate, error) {
	return fetch(ctx, b, apiv3Key, path, time.Now())
}

// fetch is Download judging validity at now.
func fetch(ctx context.Context, b *wechatpay.Builder, apiv3Key, path string, now time.Time) ([]Certificate, error) {
	if path == "" {
		path = DefaultPath
	}
	// The Builder's verifier may not know these certificates yet, under
	// whatever name it runs: the answer skips the response steps and is
	// checked below against the certificates it carries.
	resp, err := b.Chain(path).Get(ctx, wechatpay.Options{Middleware: requestStepsOnly})
	if err != nil {
		return nil, fmt.Errorf("certificates: downloading: %w", err)
	}
	var payload struct {
		Data []struct {
			SerialNo           string    `json:"serial_no"`
			EffectiveTime      time.Time `json:"effective_time"`
			ExpireTime         time.Time `json:"expire_time"`
			EncryptCertificate struct {
				Algorithm      string `json:"algorithm"`
				Nonce          string `json:"nonce"`
				AssociatedData string `json:"associated_data"`
				Ciphertext     string `json:"ciphertext"`
			} `json:"encrypt_certificate"`
		} `json:"data"`
	}
	if err := resp.Decode(&payload); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	if len(payload.Data) == 0 {
		return nil, errors.New("certificates: the answer lists no certificate (merchants with only a WeChat Pay public key have none: they need no download)")
	}
	keys := middleware.StaticKeys{}
	out := make([]Certificate, 0, len(payload.Data))
	for _, d := range payload.Data {
		enc := d.EncryptCertificate
		if enc.Algorithm != aesgcm.Algorithm {
			return nil, fmt.Errorf("certificates: certificate %s is encrypted with %q; this package decrypts %s", d.SerialNo, enc.Algorithm, aesgcm.Algorithm)
		}
		plain, err := aesgcm.Decrypt(apiv3Key, enc.Nonce, enc.AssociatedData, enc.Ciphertext)
		if err != nil {
			return nil, fmt.Errorf("certificates: certificate %s: %w", d.SerialNo, err)
		}
		cert, err := wechatpay.LoadCertificate(string(plain))
		if err != nil {
			return nil, fmt.Errorf("certificates: certificate %s: %w", d.SerialNo, err)
		}
		serial := wechatpay.CertificateSerial(cert)
		if serial != d.SerialNo {
			return nil, fmt.Errorf("certificates: the answer says serial %s, but the certificate it holds is %s", d.SerialNo, serial)
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("certificates: certificate %s holds a %T key; expected RSA", serial, cert.PublicKey)
		}
		if err := checkPlatform(cert, pub, now); err != nil {
			return nil, fmt.Errorf("certificates: certificate %s: %w: %v", serial, ErrUntrusted, err)
		}
		keys[serial] = pub
		out = append(out, Certificate{Serial: serial, Certificate: cert, EffectiveTime: d.EffectiveTime, ExpireTime: d.ExpireTime,
			PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})})
	}
	if err := (&middleware.Verifier{Keys: keys}).Verify(resp.HTTPResponse(), resp.Body()); err != nil {
		return nil, fmt.Errorf("certificates: the download is not signed by a certificate it lists: %w", err)
	}
	return out, nil
}

// requestStepsOnly edits a stack down to its request steps (headers,
// signer, and any of the caller's), in their order: no step is found by
// its name, so a verifier put in under another name is left out too.
func requestStepsOnly(s *middleware.Stack) error {
	for _, name := range s.Names() {
		step, err := s.Remove(name)
		if err != nil {
			return err
		}
		if step.Request != nil {
			step.Response, step.Stream = nil, nil
			if err := s.Append(step); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrUntrusted matches the error for a downloaded certificate that is not
// what WeChat Pay issues as a platform certificate (errors.Is).
var ErrUntrusted = errors.New("not a WeChat Pay platform certificate")

// ErrStopped is Refresh's answer once the Manager is stopped.
var ErrStopped = errors.New("certificates: the Manager is stopped")

// errNotInitialised is the answer of a Manager that NewManager did not
// make (a nil pointer, or a Manager{} literal): it has no APIv3 key to
// decrypt with and nothing to stop its refreshing with.
var errNotInitialised = errors.New("certificates: the Manager is not initialised: create it with NewManager")

// ready returns errNotInitialised for a Manager that NewManager did not
// make.
func (m *Manager) ready() error {
	if m == nil || m.cancel == nil {
		return errNotInitialised
	}
	return nil
}

// Config configures a Manager.
type Config struct {
	// APIv3Key decrypts the certificates (32 characters).
	APIv3Key string
	// Path is where to download; empty means DefaultPath.
	Path string
	// Interval between scheduled downloads; 0 or more than 12 h means 12 h
	// (WeChat Pay lists a new certificate about 24 h before using it).
	Interval time.Duration
	// MissInterval is the least time between two downloads triggered by an
	// unknown serial in an answer from WeChat Pay; 0 means one minute.
	MissInterval time.Duration
	// NotificationMissInterval is the same for an unknown serial in a
	// notification (middleware.IsNotification). Anyone can POST one, so its
	// misses have a budget of their own and cannot delay the download that
	// an answer signed with a new certificate needs. 0 means one minute: a
	// forged notification can hold a genuine one back for that long at
	// most (its own download fetches the current list, and WeChat Pay
	// redelivers after 15 s, 15 s, 30 s, 3 min...). A negative value: a
	// notification's unknown serial never downloads (a download in progress
	// is still waited for). WeChat Pay lists a new certificate about a day
	// before using it, and the scheduled refresh finds it well before then.
	NotificationMissInterval time.Duration
	// OnError hears about background downloads that failed (the known
	// certificates stay in use); nil ignores them.
	OnError func(error)
	// Now gives the time the certificates' validity is judged by, at
	// download and at every lookup; nil means time.Now. Tests set it to
	// move the Manager's clock.
	Now func() time.Time
}

// Manager keeps the platform certificates WeChat Pay lists, by serial, and
// serves them to a Builder's verifier (wechatpay.Config.Keys) and to
// notify.Parser. It is safe for concurrent use. Create it with NewBuilder
// or NewManager: a Manager{} or nil *Manager knows no certificate, and its
// Start and Refresh return an error saying so.
type Manager struct {
	cfg Config

	mu     sync.RWMutex
	certs  map[string]Certificate
	b      *wechatpay.Builder
	values context.Context // Start's context without its deadline: downloads carry its values

	flight   sync.Mutex // guards running, the last misses, stopped and loopDone
	running  *download  // the download in progress, if any
	lastMiss time.Time  // the last download for an answer's unknown serial
	// lastNotificationMiss is the last download for a notification's.
	lastNotificationMiss time.Time
	stopped              bool
	loopDone             chan struct{} // closed when the scheduled refresh ends; nil before Start succeeds

	// base ends the scheduled refresh and downloads in progress on Stop;
	// runs counts the downloads.
	base   context.Context
	cancel context.CancelFunc
	runs   sync.WaitGroup
}

// download is one download in progress; waiters block on done.
type download struct {
	done chan struct{}
	err  error
}

// NewManager checks cfg and returns a Manager that knows no certificate
// until Start.
func NewManager(cfg Config) (*Manager, error) {
	if len(cfg.APIv3Key) != 32 {
		return nil, fmt.Errorf("certificates: Config.APIv3Key has %d characters: the APIv3 key set in the merchant platform has 32", len(cfg.APIv3Key))
	}
	if cfg.Interval <= 0 || cfg.Interval > 12*time.Hour {
		cfg.Interval = 12 * time.Hour
	}
	if cfg.MissInterval <= 0 {
		cfg.MissInterval = time.Minute
	}
	if cfg.NotificationMissInterval == 0 {
		cfg.NotificationMissInterval = time.Minute
	}
	base, cancel := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, certs: map[string]Certificate{}, base: base, cancel: cancel}, nil
}

// now is the Manager's clock.
func (m *Manager) now() time.Time {
	if m.cfg.Now != nil {
		return m.cfg.Now()
	}
	return time.Now()
}

// Start downloads the certificates through b now and returns the error if
// that fails; the Manager is then not started, and Start may be called
// again. Once it succeeds, the certificates are refreshed every
// Config.Interval until Stop. ctx bounds this first download only: its
// cancellation or deadline does not end the refreshing (Stop does), so a
// request's or a start-up timeout's context is fine here. Downloads carry
// ctx's values.
func (m *Manager) Start(ctx context.Context, b *wechatpay.Builder) error {
	if err := m.ready(); err != nil {
		return err
	}
	if b == nil {
		return errors.New("certificates: Start needs the Builder to download through")
	}
	m.flight.Lock()
	stopped := m.stopped
	m.flight.Unlock()
	if stopped {
		return ErrStopped
	}
	m.mu.Lock()
	if m.b != nil {
		m.mu.Unlock()
		return errors.New("certificates: the Manager is already started")
	}
	m.b, m.values = b, context.WithoutCancel(ctx)
	m.mu.Unlock()
	if err := m.Refresh(ctx); err != nil {
		m.mu.Lock()
		m.b, m.values = nil, nil
		m.mu.Unlock()
		return err
	}
	m.flight.Lock()
	defer m.flight.Unlock()
	if m.stopped { // Stop came during the download: no refreshing.
		return ErrStopped
	}
	m.loopDone = make(chan struct{})
	go m.loop(m.loopDone)
	return nil
}

// loop refreshes every Config.Interval until Stop, then closes done.
func (m *Manager) loop(done chan struct{}) {
	defer close(done)
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-m.base.Done():
			return
		case <-t.C:
			// A Stop racing the tick is not a failure.
			if err := m.Refresh(m.base); err != nil && m.base.Err() == nil && !errors.Is(err, ErrStopped) && m.cfg.OnError != nil {
				m.cfg.OnError(err)
			}
		}
	}
}

// Stop ends the refreshing, cancels a download in progress, and waits for
// both to end: no goroutine of the Manager outlives Stop. A Manager that
// NewManager did not make has nothing to stop.
func (m *Manager) Stop() {
	if m.ready() != nil {
		return
	}
	// Under flight, so that no download starts (runs.Add) and no refreshing
	// begins after this.
	m.flight.Lock()
	m.stopped = true
	done := m.loopDone
	m.flight.Unlock()
	m.cancel()
	if done != nil {
		<-done
	}
	m.runs.Wait()
}

// Refresh downloads the certificates now, or waits for the download in
// progress: there is never more than one at a time.
func (m *Manager) Refresh(ctx context.Context) error {
	if err := m.ready(); err != nil {
		return err
	}
	m.flight.Lock()
	if m.stopped {
		m.flight.Unlock()
		return ErrStopped
	}
	d := m.running
	if d == nil {
		d = &download{done: make(chan struct{})}
		m.running = d
		m.runs.Add(1)
		go m.run(d)
	}
	m.flight.Unlock()
	select {
	case <-d.done:
		return d.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run downloads for d, detached from any one caller's context so that a
// caller giving up does not fail the others waiting; Stop cancels it.
func (m *Manager) run(d *download) {
	defer m.runs.Done()
	m.mu.RLock()
	b, values := m.b, m.values
	m.mu.RUnlock()
	var err error
	if b == nil {
		err = errors.New("certificates: the Manager is not started: Start gives it the Builder to download through")
	} else {
		ctx, cancel := context.WithTimeout(values, time.Minute)
		stop := context.AfterFunc(m.base, cancel)
		var certs []Certificate
		if certs, err = fetch(ctx, b, m.cfg.APIv3Key, m.cfg.Path, m.now()); err == nil {
			m.keep(certs)
		}
		stop()
		cancel()
	}
	m.flight.Lock()
	d.err = err
	m.running = nil
	m.flight.Unlock()
	close(d.done)
}

// keep makes the downloaded certificates, all checked and valid, the known
// ones: a certificate WeChat Pay no longer lists is dropped.
func (m *Manager) keep(certs []Certificate) {
	known := make(map[string]Certificate, len(certs))
	for _, c := range certs {
		known[c.Serial] = c
	}
	m.mu.Lock()
	m.certs = known
	m.mu.Unlock()
}

// PublicKey returns the key of a known, valid certificate. For a serial it
// does not know, it downloads again (one download at a time, at most once
// per Config.MissInterval, or per Config.NotificationMissInterval when
// ctx is a notification's) and looks once more.
func (m *Manager) PublicKey(ctx context.Context, serial string) (*rsa.PublicKey, bool) {
	if m.ready() != nil {
		return nil, false
	}
	if key, ok := m.lookup(serial); ok {
		return key, true
	}
	m.mu.RLock()
	started := m.b != nil
	m.mu.RUnlock()
	if !started || serial == "" {
		return nil, false
	}
	interval, last := m.cfg.MissInterval, &m.lastMiss
	if middleware.IsNotification(ctx) {
		interval, last = m.cfg.NotificationMissInterval, &m.lastNotificationMiss
	}
	m.flight.Lock()
	now := m.now()
	allowed := m.running != nil || interval > 0 && now.Sub(*last) >= interval
	if allowed && m.running == nil {
		*last = now
	}
	m.flight.Unlock()
	if allowed {
		_ = m.Refresh(ctx)
	}
	return m.lookup(serial)
}

func (m *Manager) lookup(serial string) (*rsa.PublicKey, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.certs[serial]
	if now := m.now(); !ok || now.Before(c.Certificate.NotBefore) || now.After(c.Certificate.NotAfter) {
		return nil, false
	}
	return c.Certificate.PublicKey.(*rsa.PublicKey), true
}

// Serials lists the known serials, sorted.
func (m *Manager) Serials() []string {
	if m == nil {
		return []string{}
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.certs))
	for s := range m.certs {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// CurrentSerial is the newest certificate already in effect: what requests
// name in Wechatpay-Serial and what sensitive fields are encrypted with.
func (m *Manager) CurrentSerial() string {
	if m == nil {
		return ""
	}
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	var best Certificate
	for _, c := range m.certs {
		if now.Before(c.Certificate.NotBefore) || now.After(c.Certificate.NotAfter) {
			continue
		}
		if best.Certificate == nil || c.Certificate.NotBefore.After(best.Certificate.NotBefore) ||
			c.Certificate.NotBefore.Equal(best.Certificate.NotBefore) && c.Serial > best.Serial {
			best = c
		}
	}
	return best.Serial
}

// Certificates returns the known certificates, sorted by serial.
func (m *Manager) Certificates() []Certificate {
	if m == nil {
		return []Certificate{}
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Certificate, 0, len(m.certs))
	for _, c := range m.certs {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Serial < out[j].Serial })
	return out
}
