package wechatpay

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wechatpay-chain/wechatpay/internal/rsakey"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// DefaultBaseURL is the mainland APIv3 host.
const DefaultBaseURL = "https://api.mch.weixin.qq.com/"

// DefaultMaxResponseBytes is the largest answer a Builder reads unless
// Config.MaxResponseBytes says otherwise: 32 MiB, far above any API answer
// (APIv3 answers are JSON of a few KiB; the large files go to a Sink).
const DefaultMaxResponseBytes = 32 << 20

// Config holds a merchant's credentials and the Builder's settings.
type Config struct {
	// MchID is the merchant id (商户号), digits such as "1900000001".
	MchID string
	// Serial is the serial number of the merchant API certificate
	// (apiclient_cert.pem), upper-case hex; see CertificateSerial.
	Serial string
	// PrivateKey is the merchant API private key (apiclient_key.pem), RSA
	// of 2048 bits or more (shorter keys are refused: ErrWeakKey).
	PrivateKey *rsa.PrivateKey
	// SigningKey replaces PrivateKey when the key lives in an HSM or KMS.
	SigningKey middleware.SigningKey
	// Certs holds the keys WeChat Pay signs responses with, by id: WeChat Pay
	// platform certificate serials (40 hex digits) and/or the WeChat Pay
	// public key id (PUB_KEY_ID_...). Both kinds may be configured at once
	// during a migration. The merchant's own certificate does not belong here.
	Certs map[string]*rsa.PublicKey
	// Keys is a source of verification keys that changes over time, such as
	// a certificates.Manager that downloads platform certificates; it is
	// asked after Certs. Public-key merchants need none. NewBuilder refuses
	// a Config with neither Certs nor Keys, since no response could be
	// verified; a Builder used only for certificates.Download (which checks
	// the download against the certificates it carries) or unsigned
	// downloads sets Keys to an empty middleware.StaticKeys{}, saying so.
	Keys middleware.PublicKeys
	// WechatpaySerial is the key id sent in the Wechatpay-Serial request
	// header (WeChat signs the response with the key it names, and
	// Builder.Encrypt encrypts with it). Empty chooses: the WeChat Pay public
	// key id in Certs if there is one, else the current certificate of Keys,
	// else the greatest platform certificate serial in Certs.
	WechatpaySerial string
	// BaseURL replaces DefaultBaseURL, e.g. "https://api2.mch.weixin.qq.com/"
	// or "https://api.mch.weixin.qq.com/hk/"; its path is kept and signed.
	// A WeChat Pay host (a name under weixin.qq.com or wechatpay.cn)
	// replaces the default host only: an endpoint the catalog documents on
	// another host (v3/global/ on apihk, ...) still goes there, so writing
	// the default host in changes nothing. Any other host (a proxy, a
	// gateway, a test server) takes every request. Empty sends each
	// documented endpoint to the host the catalog gives it, and anything
	// else to DefaultBaseURL. Options.BaseURL and a full-URL chain choose a
	// request's host whatever BaseURL is; Chain.URL shows the choice.
	BaseURL string
	// HTTPClient is the client requests go through; nil means a client over
	// NewTransport(), made for WeChat Pay: connections per host reused and
	// bounded,
	// an idle timeout below the servers' 8 s, HTTP/2 when offered, TLS
	// session resumption, connect, TLS and response-header timeouts (the
	// whole request is bounded by the caller's context and Timeout). A
	// client given here replaces all of that: start its transport from
	// NewTransport() to keep it. The Builder uses a copy and never follows
	// redirects; with Failover, a copy of its *http.Transport too (see
	// Failover.ConnectTimeout).
	HTTPClient *http.Client
	// MaxConnsPerHost is how many connections per host the default
	// transport (Config.HTTPClient nil) opens at most, and keeps open when
	// idle: the requests a service sends at once to one host, beyond which
	// a request waits for a connection to be free. 0 means
	// DefaultMaxConnsPerHost; it is an error with Config.HTTPClient, whose
	// transport decides.
	MaxConnsPerHost int
	// Middleware edits the Builder's APIv3 middleware stack once, at
	// NewBuilder: replace the signer, add a logging step, and so on.
	Middleware func(*middleware.Stack) error

	// Secret is the APIv2 key (32 characters, set in the merchant platform),
	// named as in wechatpay-php. It signs v2/ chains; APIv3 needs none of it.
	Secret string
	// Timeout bounds each request whose context has no deadline; 0 means
	// 30 s, a negative value none. Uploads and downloads (Options.Media,
	// Options.Sink) are bounded by their context only.
	Timeout time.Duration
	// Retry retries answers that ask for it (5xx, 429, 202); nil: never.
	Retry *Retry
	// Failover sends requests to the backup host when the primary cannot
	// be reached; nil: never.
	Failover *Failover
	// Logger gets one record per request (method, path, status,
	// Request-ID, attempts, duration); nil logs nothing. The path is a
	// template, never values: the catalog's when it knows the path, else
	// the chain's {placeholders} and {value} segments, else the first two
	// segments and "/..." (see the README's logging notes).
	Logger *slog.Logger
	// MaxResponseBytes bounds what an answer may cost: the Builder reads an
	// answer whole before verifying it, so a body (counted after gzip is
	// undone) longer than this is refused unread past the limit and
	// unverified, with an error matching ErrResponseTooLarge. It applies to
	// APIv3 and APIv2 answers, error answers and uploads' answers, and such
	// an answer is not retried. 0 means DefaultMaxResponseBytes (32 MiB, far
	// above any API answer); a negative value means no limit. Downloads to
	// an Options.Sink stream and are not limited: an APIv2 bill download
	// (v2/pay/downloadbill and the like) answers the bill itself, which
	// without a Sink is held in memory and may need a larger limit.
	MaxResponseBytes int64

	// TLSCertificate is the merchant API certificate with its private key,
	// for the APIv2 endpoints that need mutual TLS (refunds, red packets,
	// transfers: every v2/secapi/ path, the catalog's "security" endpoints,
	// or Options.Security).
	// See LoadPKCS12 (apiclient_cert.p12) and LoadTLSCertificate (PEM).
	TLSCertificate *tls.Certificate
}

// hasAPIv3 reports whether cfg holds any APIv3 credential; then it must
// hold all of them.
func (cfg *Config) hasAPIv3() bool {
	return cfg.Serial != "" || cfg.PrivateKey != nil || cfg.SigningKey != nil || len(cfg.Certs) > 0 || cfg.Keys != nil
}

func (cfg *Config) check() error {
	if !mchIDPattern.MatchString(cfg.MchID) {
		return fmt.Errorf("wechatpay: Config.MchID %s is not a merchant id: expected digits such as \"1900000001\"", shown(cfg.MchID))
	}
	if cfg.Secret != "" && len(cfg.Secret) != 32 {
		// The length only: the secret itself never goes into an error.
		return fmt.Errorf("wechatpay: Config.Secret has %d characters: the APIv2 key set in the merchant platform has 32", len(cfg.Secret))
	}
	if cfg.TLSCertificate != nil && (len(cfg.TLSCertificate.Certificate) == 0 || cfg.TLSCertificate.PrivateKey == nil) {
		return errors.New("wechatpay: Config.TLSCertificate needs the certificate and its private key: see LoadPKCS12 and LoadTLSCertificate")
	}
	switch {
	case cfg.MaxConnsPerHost < 0:
		return fmt.Errorf("wechatpay: Config.MaxConnsPerHost is %d: expected 0 (the default, %d) or more", cfg.MaxConnsPerHost, DefaultMaxConnsPerHost)
	case cfg.MaxConnsPerHost > 0 && cfg.HTTPClient != nil:
		return errors.New("wechatpay: Config.MaxConnsPerHost sets the default transport, but Config.HTTPClient replaces it: set MaxConnsPerHost and MaxIdleConnsPerHost on Config.HTTPClient's transport (start it from wechatpay.NewTransport())")
	}
	if !cfg.hasAPIv3() {
		if cfg.Secret == "" {
			return errors.New("wechatpay: Config has no credentials: APIv3 needs Serial, PrivateKey and Certs; APIv2 needs Secret")
		}
		return nil
	}
	return cfg.checkAPIv3()
}

func (cfg *Config) checkAPIv3() error {
	switch {
	case cfg.Serial == "":
		return errors.New("wechatpay: Config.Serial is empty: expected the serial number of the merchant API certificate apiclient_cert.pem (hex, see CertificateSerial)")
	case pubKeyIDPattern.MatchString(cfg.Serial):
		return fmt.Errorf("wechatpay: Config.Serial is %q, a WeChat Pay public key id: that id belongs in Config.Certs; Config.Serial is the serial of the merchant API certificate apiclient_cert.pem", cfg.Serial)
	case !hexSerialPattern.MatchString(cfg.Serial):
		return fmt.Errorf("wechatpay: Config.Serial %s is not a certificate serial: expected the hex serial of the merchant API certificate apiclient_cert.pem, such as 5157F09EFDC096DE15EBE81A47057A7232F1B8E1", shown(cfg.Serial))
	}
	switch {
	case cfg.PrivateKey == nil && cfg.SigningKey == nil:
		return errors.New("wechatpay: Config.PrivateKey is nil: expected the merchant API private key apiclient_key.pem (see LoadPrivateKey), or a Config.SigningKey")
	case cfg.PrivateKey != nil && cfg.SigningKey != nil:
		return errors.New("wechatpay: Config.PrivateKey and Config.SigningKey are both set: set one, the key that signs requests")
	case nilInside(cfg.SigningKey):
		return fmt.Errorf("wechatpay: Config.SigningKey is a nil %T: expected a key that signs (or set Config.PrivateKey instead)", cfg.SigningKey)
	case cfg.PrivateKey != nil && cfg.PrivateKey.N == nil:
		return errors.New("wechatpay: Config.PrivateKey is an empty rsa.PrivateKey: expected the merchant API private key apiclient_key.pem (see LoadPrivateKey)")
	}
	if nilInside(cfg.Keys) {
		return fmt.Errorf("wechatpay: Config.Keys is a nil %T: expected a source of verification keys (such as a started certificates.Manager), or leave Config.Keys nil", cfg.Keys)
	}
	for _, serial := range sortedKeys(cfg.Certs) {
		pub := cfg.Certs[serial]
		switch {
		case !hexSerialPattern.MatchString(serial) && !pubKeyIDPattern.MatchString(serial):
			return fmt.Errorf("wechatpay: Config.Certs key %q is neither a platform certificate serial (hex) nor a WeChat Pay public key id (PUB_KEY_ID_...)", serial)
		case pub == nil || pub.N == nil:
			return fmt.Errorf("wechatpay: Config.Certs[%q] is nil: expected the WeChat Pay public key or platform certificate key with that id (see LoadPublicKey)", serial)
		case strings.EqualFold(serial, cfg.Serial):
			return fmt.Errorf("wechatpay: Config.Certs[%q] is the merchant API certificate (Config.Serial): Certs holds what WeChat Pay signs with, the WeChat Pay public key or platform certificates", serial)
		case cfg.PrivateKey != nil && cfg.PrivateKey.PublicKey.Equal(pub):
			return fmt.Errorf("wechatpay: Config.Certs[%q] is the merchant's own public key: Certs holds what WeChat Pay signs with, the WeChat Pay public key or platform certificates", serial)
		}
	}
	// Without any key every response would fail verification: say so now,
	// before an order is placed whose answer cannot be trusted, rather than
	// after. A Middleware edit may bring its own verifier; a Builder that
	// only downloads certificates says so with an empty StaticKeys.
	if len(cfg.Certs) == 0 && cfg.Keys == nil && cfg.Middleware == nil {
		return errors.New("wechatpay: Config.Certs is empty and Config.Keys is nil, so no response could be verified: " +
			"set Config.Certs to the WeChat Pay public key (PUB_KEY_ID_... -> pub_key.pem) and/or WeChat Pay platform certificates (serial -> key), " +
			"or Config.Keys to a certificates.Manager that downloads the platform certificates; " +
			"a Builder only for certificates.Download (which verifies the download with the certificates it holds) sets Config.Keys: middleware.StaticKeys{}")
	}
	if cfg.WechatpaySerial != "" && cfg.Keys == nil {
		if _, ok := cfg.Certs[cfg.WechatpaySerial]; !ok {
			if _, ok := cfg.Certs[normalizeSerial(cfg.WechatpaySerial)]; !ok {
				return fmt.Errorf("wechatpay: Config.WechatpaySerial %s is not a key of Config.Certs [%s]: WeChat Pay would sign responses with a key this Builder cannot verify", shownID(cfg.WechatpaySerial), strings.Join(sortedKeys(cfg.Certs), ", "))
			}
		}
	}
	return nil
}

// checkKeySizes refuses every RSA key of cfg shorter than 2048 bits, naming
// the field and the key.
func (cfg *Config) checkKeySizes() error {
	if cfg.PrivateKey != nil {
		if err := rsakey.Check(rsakey.Merchant, &cfg.PrivateKey.PublicKey); err != nil {
			return fmt.Errorf("wechatpay: Config.PrivateKey: %w", err)
		}
		// A key whose numbers do not agree would fail every request; say so
		// once, here. crypto/rsa's errors name no key material.
		if err := cfg.PrivateKey.Validate(); err != nil {
			return fmt.Errorf("wechatpay: Config.PrivateKey is not a usable RSA private key (%v): expected the merchant API private key apiclient_key.pem (see LoadPrivateKey)", err)
		}
	}
	// middleware.FromCryptoSigner's keys, like any crypto.Signer, tell
	// their public key; other SigningKeys cannot be checked here.
	if err := checkSigner(cfg.SigningKey); err != nil {
		return fmt.Errorf("wechatpay: Config.SigningKey: %w", err)
	}
	for _, id := range sortedKeys(cfg.Certs) {
		what := rsakey.Platform
		if pubKeyIDPattern.MatchString(id) {
			what = rsakey.Public
		}
		if err := rsakey.Check(what, cfg.Certs[id]); err != nil {
			return fmt.Errorf("wechatpay: Config.Certs[%q]: %w", id, err)
		}
	}
	if cfg.TLSCertificate != nil {
		if err := checkSigner(cfg.TLSCertificate.PrivateKey); err != nil {
			return fmt.Errorf("wechatpay: Config.TLSCertificate: %w", err)
		}
	}
	return nil
}

// checkSigner checks the size of key's RSA public key, if it tells one.
func checkSigner(key any) error {
	if k, ok := key.(*rsa.PrivateKey); ok {
		if k == nil {
			return nil
		}
		return rsakey.Check(rsakey.Merchant, &k.PublicKey)
	}
	if s, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		if pub, ok := s.Public().(*rsa.PublicKey); ok {
			return rsakey.Check(rsakey.Merchant, pub)
		}
	}
	return nil
}

// verificationKeys returns the keys responses are verified with (Certs,
// then Keys) and the source of the Wechatpay-Serial header.
func (cfg *Config) verificationKeys() (middleware.PublicKeys, func() string) {
	certs := make(middleware.StaticKeys, len(cfg.Certs))
	for serial, pub := range cfg.Certs {
		certs[normalizeSerial(serial)] = pub
	}
	var keys middleware.PublicKeys = certs
	if cfg.Keys != nil {
		keys = middleware.MultiKeys{certs, cfg.Keys}
	}
	fixed := normalizeSerial(cfg.WechatpaySerial)
	if fixed == "" {
		fixed = defaultWechatpaySerial(certs)
	}
	current, dynamic := cfg.Keys.(middleware.CurrentSerial)
	if cfg.WechatpaySerial != "" || strings.HasPrefix(fixed, "PUB_KEY_ID_") || !dynamic {
		return keys, func() string { return fixed }
	}
	return keys, func() string {
		if s := current.CurrentSerial(); s != "" {
			return s
		}
		return fixed
	}
}

// ownTransport returns a copy of rt that can take a client certificate
// without changing rt: mutual TLS goes through a transport of its own.
func ownTransport(rt http.RoundTripper) (*http.Transport, error) {
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("mutual TLS needs Config.HTTPClient's Transport to be an *http.Transport, not %T", rt)
	}
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	// Clone copies the slice header: clip it so that adding the certificate
	// cannot write into the original's backing array.
	t.TLSClientConfig.Certificates = slices.Clip(t.TLSClientConfig.Certificates)
	if t.TLSClientConfig.ClientSessionCache != nil {
		// A session resumed from a connection without the merchant
		// certificate would carry none: mutual TLS keeps its own sessions.
		t.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return t, nil
}

var (
	mchIDPattern     = regexp.MustCompile(`^[0-9]{1,32}$`)
	hexSerialPattern = regexp.MustCompile(`^[0-9A-Fa-f]{1,64}$`)
	pubKeyIDPattern  = regexp.MustCompile(`^PUB_KEY_ID_[0-9A-Za-z_]+$`)
)

// shown quotes a value that failed a check, for the error that says so,
// unless it is long enough to be a secret put in the wrong field (an APIv3
// or APIv2 key has 32 characters): then only its length is shown.
func shown(v string) string {
	if len(v) <= 16 {
		return strconv.Quote(v)
	}
	return fmt.Sprintf("(%d characters, not shown: it may be a secret in the wrong field)", len(v))
}

// shownID quotes v when it has the shape of a key id (a certificate serial
// or a WeChat Pay public key id), and otherwise as shown does.
func shownID(v string) string {
	// 40 hex digits: a serial. An APIv2 or APIv3 key made from a digest is
	// hex too, but 32 digits long.
	if len(v) == 40 && hexSerialPattern.MatchString(v) || pubKeyIDPattern.MatchString(v) {
		return strconv.Quote(v)
	}
	return shown(v)
}

// normalizeSerial upper-cases hex serials, the form WeChat Pay sends them in;
// public key ids are kept as they are.
func normalizeSerial(s string) string {
	if hexSerialPattern.MatchString(s) {
		return strings.ToUpper(s)
	}
	return s
}

func defaultWechatpaySerial(certs middleware.StaticKeys) string {
	serials := certs.Serials()
	for _, s := range serials {
		if strings.HasPrefix(s, "PUB_KEY_ID_") {
			return s
		}
	}
	if len(serials) == 0 {
		return ""
	}
	return serials[len(serials)-1]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// baseURL is Config.BaseURL checked and ending in "/", or DefaultBaseURL.
func (cfg *Config) baseURL() (string, error) {
	if cfg.BaseURL == "" {
		return DefaultBaseURL, nil
	}
	base, err := normalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return "", fmt.Errorf("wechatpay: Config.BaseURL: %w", err)
	}
	return base, nil
}

// replacesCatalogHosts reports whether Config.BaseURL, checked, takes
// every request: it names a host that is not WeChat Pay's (a proxy, a
// gateway, a test server), which the catalog's hosts know nothing of. A
// WeChat Pay host takes the default host's place only, so that writing
// the default in, or the backup api2, cannot turn the catalog's hosts off.
func (cfg *Config) replacesCatalogHosts() bool {
	return cfg.BaseURL != "" && !weChatPayHost(cfg.BaseURL)
}

// weChatPayDomains are WeChat Pay's own domains: api.mch.weixin.qq.com and
// api2, apihk, apius, fraud.mch, payapp.weixin.qq.com; api.wechatpay.cn
// and api2.wechatpay.cn.
var weChatPayDomains = []string{"weixin.qq.com", "wechatpay.cn"}

// weChatPayHost reports whether base's host is one of weChatPayDomains or
// under one, in any case, with or without a port or a final ".".
func weChatPayHost(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, domain := range weChatPayDomains {
		if host == domain || strings.HasSuffix(host, "."+domain) {
			return true
		}
	}
	return false
}

// normalizeBaseURL checks that base is an absolute http(s) URL and gives it
// a trailing slash, so that paths join under its own path.
func normalizeBaseURL(base string) (string, error) {
	u, err := url.Parse(base)
	shown := redactURL(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL such as %q", shown, DefaultBaseURL)
	}
	if u.User != nil {
		// It would go out as Basic credentials next to the signature.
		return "", fmt.Errorf("%q has user info: expected a scheme, host and optional path such as https://api.mch.weixin.qq.com/hk/", shown)
	}
	if strings.ContainsAny(base, "?#") {
		// A "?" or "#" with nothing after it too: the path would be
		// appended to the query or fragment, and sent somewhere else.
		return "", fmt.Errorf("%q has a query or fragment: expected a scheme, host and optional path such as https://api.mch.weixin.qq.com/hk/", shown)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			// Every request would climb out of the base path it names.
			return "", fmt.Errorf("%q has a %q segment: expected a scheme, host and optional path such as https://api.mch.weixin.qq.com/hk/", shown, seg)
		}
	}
	if err := checkRequestText(u.EscapedPath()); err != nil {
		return "", fmt.Errorf("%q: %w", shown, err)
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base, nil
}

// httpClient copies the caller's client (or builds one over NewTransport)
// and turns redirects off: a redirect would re-send a signature made for
// another path.
func httpClient(c *http.Client, maxConnsPerHost int) *http.Client {
	var hc http.Client
	if c != nil {
		hc = *c
	} else {
		t := NewTransport()
		if maxConnsPerHost > 0 {
			t.MaxConnsPerHost, t.MaxIdleConnsPerHost = maxConnsPerHost, maxConnsPerHost
			t.MaxIdleConns = max(t.MaxIdleConns, maxConnsPerHost)
		}
		hc.Transport = t
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// DefaultMaxConnsPerHost is how many connections per host NewTransport
// opens at most and keeps when idle (net/http keeps 2 idle, and opens
// without limit): a service sending up to this many requests at once
// reuses its connections rather than paying a TLS handshake for most
// requests, and a burst waits for a connection rather than opening more
// than it will keep.
const DefaultMaxConnsPerHost = 64

// IdleConnTimeout is how long NewTransport keeps an idle connection:
// under the 8 s after which WeChat Pay's servers close one, so that a
// request is never written into a connection the server is closing.
const IdleConnTimeout = 7 * time.Second

// NewTransport returns the transport a Builder uses when Config.HTTPClient
// is nil, a new one each call: net/http's defaults (proxy from the
// environment, keep-alives) made for WeChat Pay: DefaultMaxConnsPerHost
// connections per host, all kept when idle, for IdleConnTimeout, HTTP/2 when the server
// offers it, a TLS session cache so that a new connection resumes rather
// than repeats the handshake, a 5 s connect timeout, and TLS handshake and
// response-header timeouts. Start from it to set a proxy or TLS roots in
// Config.HTTPClient without losing the rest.
func NewTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: defaultConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * DefaultMaxConnsPerHost,
		MaxIdleConnsPerHost:   DefaultMaxConnsPerHost,
		MaxConnsPerHost:       DefaultMaxConnsPerHost,
		IdleConnTimeout:       IdleConnTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			ClientSessionCache: tls.NewLRUClientSessionCache(0),
		},
	}
}
