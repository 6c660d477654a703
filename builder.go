package wechatpay

import (
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// Version is this library's version, sent in the User-Agent.
const Version = "0.1.0"

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
	// BaseURL sends every request to this host, e.g.
	// "https://apihk.mch.weixin.qq.com/" or "https://api.mch.weixin.qq.com/hk/";
	// its path is kept and signed. Empty sends each documented endpoint to
	// the host the catalog gives it, and anything else to DefaultBaseURL.
	BaseURL string
	// HTTPClient is the client requests go through; nil means a client with
	// connect, TLS and response-header timeouts (the whole request is bounded
	// by the caller's context). The Builder uses a copy and never follows
	// redirects; with Failover, a copy of its *http.Transport too (see
	// Failover.ConnectTimeout).
	HTTPClient *http.Client
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

// Builder sends requests for one merchant. It is safe for concurrent use and
// never changes after NewBuilder; chains branch from it freely. A Builder{}
// or nil *Builder has nothing to send with: its chains, Encrypt, Decrypt,
// DownloadBill and payment parameters return an error saying to use
// NewBuilder.
type Builder struct {
	mchID   string
	baseURL string // absolute, ends in "/"
	// explicitBase is set when Config.BaseURL chose the host: it then wins
	// over the hosts the catalog gives.
	explicitBase bool
	client       *resty.Client
	// tlsClient presents the merchant certificate (mutual TLS); nil without
	// Config.TLSCertificate. It has its own transport: nothing shared
	// changes per request.
	tlsClient *resty.Client
	v3        bool              // the Builder has APIv3 credentials
	stack     *middleware.Stack // APIv3 steps (empty without APIv3 credentials)
	keys      middleware.PublicKeys
	serial    func() string // the Wechatpay-Serial of requests, and the key Encrypt uses
	signer    middleware.SigningKey
	private   *rsa.PrivateKey   // nil when the key lives in an HSM or KMS
	secret    string            // the APIv2 key
	stackV2   *middleware.Stack // APIv2 steps
	timeout   time.Duration     // for requests whose context has no deadline; 0: none
	logger    *slog.Logger
	failover  *failover // nil without Config.Failover
	// maxResponse is the most bytes an answer's body (decompressed) may
	// hold; 0: no limit.
	maxResponse int64
}

// NewBuilder checks cfg and returns a Builder. An error names the Config
// field that is wrong and says what was expected.
func NewBuilder(cfg Config) (*Builder, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := cfg.checkKeySizes(); err != nil {
		return nil, err
	}
	base := DefaultBaseURL
	if cfg.BaseURL != "" {
		var err error
		if base, err = normalizeBaseURL(cfg.BaseURL); err != nil {
			return nil, fmt.Errorf("wechatpay: Config.BaseURL: %w", err)
		}
	}
	b := &Builder{mchID: cfg.MchID, baseURL: base, explicitBase: cfg.BaseURL != "", secret: cfg.Secret,
		v3: cfg.hasAPIv3(), stack: &middleware.Stack{}, timeout: cfg.Timeout, logger: cfg.Logger}
	switch {
	case b.timeout == 0:
		b.timeout = 30 * time.Second
	case b.timeout < 0:
		b.timeout = 0
	}
	switch b.maxResponse = cfg.MaxResponseBytes; {
	case b.maxResponse == 0:
		b.maxResponse = DefaultMaxResponseBytes
	case b.maxResponse < 0:
		b.maxResponse = 0
	}
	if b.v3 {
		b.signer, b.private = cfg.SigningKey, cfg.PrivateKey
		if b.signer == nil {
			b.signer = middleware.FromCryptoSigner(cfg.PrivateKey)
		}
		b.keys, b.serial = cfg.verificationKeys()
		stack, err := middleware.NewStack(
			(&middleware.Headers{UserAgent: UserAgent, SerialSource: b.serial}).Step(),
			(&middleware.Signer{MchID: cfg.MchID, Serial: normalizeSerial(cfg.Serial), Key: b.signer}).Step(),
			(&middleware.Verifier{Keys: b.keys}).Step(),
		)
		if err != nil {
			return nil, err
		}
		if cfg.Middleware != nil {
			if err := cfg.Middleware(stack); err != nil {
				return nil, fmt.Errorf("wechatpay: Config.Middleware: %w", err)
			}
		}
		b.stack = stack
	} else if cfg.Middleware != nil {
		return nil, errors.New("wechatpay: Config.Middleware edits the APIv3 stack, but this Config has no APIv3 credentials (Serial, PrivateKey, Certs)")
	}
	var err error
	if b.stackV2, err = middleware.NewStack((&middleware.Headers{UserAgent: UserAgent}).Step()); err != nil {
		return nil, err
	}

	hc := httpClient(cfg.HTTPClient)
	if cfg.Failover != nil {
		b.failover = newFailover(*cfg.Failover)
		hc.Transport = budgetTransport(hc.Transport)
	}
	b.client = b.newClient(hc)
	if cfg.TLSCertificate != nil {
		t, err := ownTransport(hc.Transport)
		if err != nil {
			return nil, fmt.Errorf("wechatpay: Config.TLSCertificate: %w", err)
		}
		tlsHC := *hc
		tlsHC.Transport = t
		b.tlsClient = b.newClient(&tlsHC).SetCertificates(*cfg.TLSCertificate)
	}
	for _, c := range []*resty.Client{b.client, b.tlsClient} {
		if c == nil {
			continue
		}
		if cfg.Retry != nil {
			cfg.Retry.apply(c)
		}
		if b.failover != nil {
			// After SetCertificates: resty's TLS settings need the bare
			// *http.Transport.
			c.SetTransport(failoverTransport{failover: b.failover, base: c.GetClient().Transport, stack: b.stack})
		}
	}
	return b, nil
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

// newClient returns a resty client over hc that runs the middleware stacks.
func (b *Builder) newClient(hc *http.Client) *resty.Client {
	c := resty.NewWithClient(hc)
	// resty would print retries and failures to stderr; logging is
	// Config.Logger's, and off unless set.
	c.SetLogger(silent{})
	// resty fills in its own User-Agent, and copies a JSON Content-Type into
	// an empty Accept, before the headers step runs: client-level defaults
	// keep both ours unless a request sets its own.
	c.SetHeader("Accept", middleware.DefaultAccept)
	c.SetHeader("User-Agent", UserAgent)
	// resty reads every answer whole (gzip undone) before the middleware
	// verifies it: the limit stops reading there, whatever the server sends.
	c.SetResponseBodyLimit(int(min(b.maxResponse, math.MaxInt)))
	c.SetPreRequestHook(func(_ *resty.Client, req *http.Request) error {
		countAttempt(req.Context())
		return stackFrom(req.Context(), b.stack).HandleRequest(req)
	})
	c.OnAfterResponse(func(_ *resty.Client, resp *resty.Response) error {
		return stackFrom(resp.Request.Context(), b.stack).HandleResponse(resp.RawResponse, resp.Body())
	})
	return c
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
	return t, nil
}

// UserAgent names this library, its version, the Go version and the OS; it
// is sent unless a request sets its own.
var UserAgent = fmt.Sprintf("wechatpay-chain-go/%s (%s/%s) Go/%s", Version, runtime.GOOS, runtime.GOARCH, runtime.Version())

// V3 starts a chain at "v3", for APIv3 (JSON) endpoints.
func (b *Builder) V3() *Chain { return b.Chain("v3") }

// V2 starts a chain at "v2", for APIv2 (XML) endpoints; "v2/" is stripped
// from the URL.
func (b *Builder) V2() *Chain { return b.Chain("v2") }

// Chain starts a chain at path, taken verbatim: capitals and a trailing slash
// are kept, and {name} placeholders are filled from Options.Path (escaped as
// a path segment, or as a query value after "?"). A "." or ".." segment, in
// any percent-encoded form, is an error: it would reach another endpoint; so
// is an empty segment other than the last ("//"). An APIv2 path has no "?":
// its parameters are signed, in Options.XML (or Options.Query for a GET).
//
// A full URL (a download_url such as
// https://api.mch.weixin.qq.com/v3/billdownload/file?token=...) is taken as
// it is, host included. It must be http(s)://host/path with an optional
// query: no user info, no fragment, a path after the host. It is an APIv3
// request to exactly that URL ("v2/" is stripped from APIv2 paths only).
// Its query (a download_url's token) is sent as it is, but kept out of
// Path, errors and logs.
//
// A leading "V2/" is APIv2's "v2/", as in wechatpay-php.
func (b *Builder) Chain(path string) *Chain {
	given := path
	var base, query string
	var err error
	if isURL(path) {
		if base, path, err = splitURL(path); err == nil {
			path, query, _ = strings.Cut(path, "?")
			err = checkRequestText(query)
		}
	}
	c := &Chain{b: b, base: base, path: strings.TrimPrefix(path, "/"), query: query}
	if base == "" && (c.path == "V2" || strings.HasPrefix(c.path, "V2/")) {
		// wechatpay-php routes "V2/" to APIv2 too: it ignores the case.
		c.path = "v2" + c.path[2:]
	}
	switch {
	case b.ready() != nil:
		c.err = errNotBuilt
		return c
	case err != nil:
	case given == "":
		err = errors.New("the path is empty")
	case c.v2() && strings.Contains(c.path, "?"):
		// It would travel unsigned beside the signed parameters, past
		// the merchant-id guard.
		err = errors.New(`an APIv2 path has no "?": its parameters are signed, so they go in Options.XML (or Options.Query for a GET)`)
	default:
		err = checkTemplate(c.path)
	}
	if err != nil {
		c.err = fmt.Errorf("wechatpay: Chain(%q): %w", redactURL(given), err)
	}
	return c
}

// Lookup returns the chain for a documented path, the counterpart of
// wechatpay-php's $instance['v3/pay/transactions/native']; ok is false when
// the catalog does not have the path. Placeholder names must be the
// documented ones. The path is read as Chain reads it ("V2/" is "v2/", a
// leading "/" is dropped). Chain(path) builds a chain for any path.
func (b *Builder) Lookup(path string) (c *Chain, ok bool) {
	c = b.Chain(path)
	if c.err == nil && c.base == "" {
		path = c.path
	}
	return c, len(catalog.Get(path)) > 0
}

// Endpoint is Lookup with an error that names the nearest documented paths
// when path is not in the catalog.
func (b *Builder) Endpoint(path string) (*Chain, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	c, ok := b.Lookup(path)
	if !ok {
		return nil, fmt.Errorf("wechatpay: %w", &catalog.NotDocumentedError{Path: path, Nearest: catalog.Nearest(path, 3)})
	}
	return c, nil
}

// Stack returns a copy of the Builder's middleware stack, for inspection;
// an empty one for a Builder not made by NewBuilder.
func (b *Builder) Stack() *middleware.Stack {
	if b == nil {
		return &middleware.Stack{}
	}
	return b.stack.Clone()
}

// Client returns the underlying resty client, for transport settings such as
// a proxy or retries. Configure it before sending requests, and leave its
// PreRequestHook and response body limit alone: the middleware stack runs
// there, and Config.MaxResponseBytes sets the limit. Mutual-TLS requests go
// through a client of their own: Builder.CloseIdleConnections closes both.
// It is nil for a Builder not made by NewBuilder.
func (b *Builder) Client() *resty.Client {
	if b == nil {
		return nil
	}
	return b.client
}

// errNotBuilt is the error of every request through a Builder that
// NewBuilder did not make (a nil pointer, or a Builder{} literal): it has
// no credentials, no client and no middleware to send with.
var errNotBuilt = errors.New("wechatpay: the Builder is not initialised: create it with NewBuilder")

// ready returns errNotBuilt for a Builder that NewBuilder did not make.
func (b *Builder) ready() error {
	if b == nil || b.client == nil {
		return errNotBuilt
	}
	return nil
}

// CloseIdleConnections closes the idle connections of every HTTP client the
// Builder owns: the plain one and the one that presents the merchant
// certificate (mutual TLS), through Failover when it is on. Connections in
// use are left alone. Client().GetClient().CloseIdleConnections() reaches
// the plain client only.
func (b *Builder) CloseIdleConnections() {
	if b == nil {
		return
	}
	for _, c := range []*resty.Client{b.client, b.tlsClient} {
		if c != nil {
			c.GetClient().CloseIdleConnections()
		}
	}
}

var (
	mchIDPattern     = regexp.MustCompile(`^[0-9]{1,32}$`)
	hexSerialPattern = regexp.MustCompile(`^[0-9A-Fa-f]{1,64}$`)
	pubKeyIDPattern  = regexp.MustCompile(`^PUB_KEY_ID_[0-9A-Za-z_]+$`)
)

// hasAPIv3 reports whether cfg holds any APIv3 credential; then it must
// hold all of them.
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

// httpClient copies the caller's client (or builds one) and turns redirects
// off: a redirect would re-send a signature made for another path.
func httpClient(c *http.Client) *http.Client {
	var hc http.Client
	if c != nil {
		hc = *c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 30 * time.Second
		hc.Transport = t
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// silent is a resty.Logger that drops everything.
type silent struct{}

func (silent) Errorf(string, ...any) {}
func (silent) Warnf(string, ...any)  {}
func (silent) Debugf(string, ...any) {}
