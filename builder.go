package wechatpay

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// Version is this library's version, sent in the User-Agent.
const Version = "0.1.0"

// Builder sends requests for one merchant. It is safe for concurrent use and
// never changes after NewBuilder; chains branch from it freely. A Builder{}
// or nil *Builder has nothing to send with: its chains, Encrypt, Decrypt,
// DownloadBill and payment parameters return an error saying to use
// NewBuilder.
type Builder struct {
	mchID   string
	baseURL string // absolute, ends in "/"
	// gatewayBase is set when Config.BaseURL names a host that is not
	// WeChat Pay's: it then wins over the hosts the catalog gives (a
	// WeChat Pay host there replaces the default host only).
	gatewayBase bool
	client      *resty.Client
	// tlsClient presents the merchant certificate (mutual TLS); nil without
	// Config.TLSCertificate. It has its own transport: nothing shared
	// changes per request.
	tlsClient *resty.Client
	// httpClient is what HTTPClient copies: the plain client's settings,
	// with middleware's Stack.Transport, which signs a copy of each
	// request it is given.
	httpClient *http.Client
	v3         bool              // the Builder has APIv3 credentials
	stack      *middleware.Stack // APIv3 steps (empty without APIv3 credentials)
	keys       middleware.PublicKeys
	serial     func() string // the Wechatpay-Serial of requests, and the key Encrypt uses
	signer     middleware.SigningKey
	private    *rsa.PrivateKey   // nil when the key lives in an HSM or KMS
	secret     string            // the APIv2 key
	stackV2    *middleware.Stack // APIv2 steps
	timeout    time.Duration     // for requests whose context has no deadline; 0: none
	logger     *slog.Logger
	failover   *failover // nil without Config.Failover
	// retries is set when Config.Retry is: resty then sends the requests
	// whose body is held, and repeats them.
	retries bool
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
	base, err := cfg.baseURL()
	if err != nil {
		return nil, err
	}
	b := &Builder{mchID: cfg.MchID, baseURL: base, gatewayBase: cfg.replacesCatalogHosts(), secret: cfg.Secret,
		v3: cfg.hasAPIv3(), stack: &middleware.Stack{}, timeout: cfg.Timeout, logger: cfg.Logger}
	b.setLimits(&cfg)
	if err := b.buildStacks(&cfg); err != nil {
		return nil, err
	}
	if err := b.buildClients(&cfg); err != nil {
		return nil, err
	}
	return b, nil
}

// setLimits fills in the request timeout and the answer size limit: 0 in
// cfg means the default, a negative value means none.
func (b *Builder) setLimits(cfg *Config) {
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
}

// buildStacks builds the APIv3 stack (headers, signer, verifier, then
// Config.Middleware's edits) when cfg has APIv3 credentials, and the APIv2
// stack (headers) always.
func (b *Builder) buildStacks(cfg *Config) error {
	if b.v3 {
		b.signer, b.private = cfg.SigningKey, precomputed(cfg.PrivateKey)
		if b.signer == nil {
			b.signer = middleware.FromCryptoSigner(b.private)
		}
		b.keys, b.serial = cfg.verificationKeys()
		stack, err := middleware.NewStack(
			(&middleware.Headers{UserAgent: UserAgent, SerialSource: b.serial}).Step(),
			(&middleware.Signer{MchID: cfg.MchID, Serial: normalizeSerial(cfg.Serial), Key: b.signer}).Step(),
			(&middleware.Verifier{Keys: b.keys}).Step(),
		)
		if err != nil {
			return err
		}
		if cfg.Middleware != nil {
			if err := cfg.Middleware(stack); err != nil {
				return fmt.Errorf("wechatpay: Config.Middleware: %w", err)
			}
		}
		b.stack = stack
	} else if cfg.Middleware != nil {
		return errors.New("wechatpay: Config.Middleware edits the APIv3 stack, but this Config has no APIv3 credentials (Serial, PrivateKey, Certs)")
	}
	var err error
	if b.stackV2, err = middleware.NewStack((&middleware.Headers{UserAgent: UserAgent}).Step()); err != nil {
		return err
	}
	return nil
}

// precomputed returns key ready for speed: a key given without its
// precomputed values (built from N, E, D and the primes rather than
// parsed) would have them derived again on every signature. The caller's
// key is left as it is: a copy is precomputed (at once when it already
// is).
func precomputed(key *rsa.PrivateKey) *rsa.PrivateKey {
	if key == nil || len(key.Primes) < 2 {
		return key
	}
	k := *key
	k.Precompute()
	return &k
}

// buildClients builds the plain client and, with Config.TLSCertificate, the
// mutual-TLS one, each over its own transport (nothing shared changes per
// request).
func (b *Builder) buildClients(cfg *Config) error {
	hc := httpClient(cfg.HTTPClient, cfg.MaxConnsPerHost)
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport // what http.Client uses
	}
	if cfg.Failover != nil {
		b.failover = newFailover(*cfg.Failover)
		base = budgetTransport(base)
	}
	b.retries = cfg.Retry != nil
	b.client = b.newClient(*hc, base, cfg.Retry)
	shared := *hc
	own := b.stack
	if !b.v3 {
		own = b.stackV2 // APIv2 signs inside the body: headers only
	}
	shared.Transport = b.withFailover(own.Transport(base))
	b.httpClient = &shared
	if cfg.TLSCertificate != nil {
		t, err := ownTransport(base)
		if err != nil {
			return fmt.Errorf("wechatpay: Config.TLSCertificate: %w", err)
		}
		t.TLSClientConfig.Certificates = append(t.TLSClientConfig.Certificates, *cfg.TLSCertificate)
		b.tlsClient = b.newClient(*hc, t, cfg.Retry)
	}
	return nil
}

// newClient returns a resty client over hc whose requests go through, from
// the outside in: resty (Retry), Failover, the attempt (counted, then
// signed by the request steps of the middleware stack, anew for each
// attempt on either host) and base. No resty hook runs a step: the
// transport runs the request steps for resty and for http.Client.Do
// alike, and send runs the response steps.
func (b *Builder) newClient(hc http.Client, base http.RoundTripper, retry *Retry) *resty.Client {
	hc.Transport = b.withFailover(attempt{stack: b.stack, base: base})
	c := resty.NewWithClient(&hc)
	// resty would print retries and failures to stderr; logging is
	// Config.Logger's, and off unless set.
	c.SetLogger(silent{})
	// resty fills in its own User-Agent, and copies a JSON Content-Type into
	// an empty Accept, before the headers step runs: client-level defaults
	// keep both ours unless a request sets its own.
	c.SetHeader("Accept", middleware.DefaultAccept)
	c.SetHeader("User-Agent", UserAgent)
	// resty reads every answer whole (gzip undone) before send verifies
	// it: the limit stops reading there, whatever the server sends.
	c.SetResponseBodyLimit(int(min(b.maxResponse, math.MaxInt)))
	if retry != nil {
		retry.apply(c)
	}
	return c
}

// withFailover puts Config.Failover, when it is on, in front of rt.
func (b *Builder) withFailover(rt http.RoundTripper) http.RoundTripper {
	if b.failover == nil {
		return rt
	}
	return failoverTransport{failover: b.failover, base: rt}
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

// HTTPClient returns a new *http.Client whose transport signs each request
// as the Builder's own APIv3 requests are signed (the request steps of its
// middleware stack, Config.Failover, Config.HTTPClient's settings, no
// redirects followed): for a call the Builder does not make, such as one
// through another library. A request body must be readable twice
// (http.NewRequest over a *bytes.Reader, *bytes.Buffer or *strings.Reader
// sets GetBody), or the request is refused unsent. Its answers are not
// verified and not limited by Config.MaxResponseBytes: check a 2xx answer
// with middleware.Verifier before trusting it. It does not present the
// merchant certificate (mutual TLS). A Builder without APIv3 credentials
// signs nothing there (APIv2 signs inside the body) and only sets the
// User-Agent and Accept headers. It is a copy: changing it changes nothing
// in the Builder. It is nil for a Builder not made by NewBuilder.
func (b *Builder) HTTPClient() *http.Client {
	if b.ready() != nil {
		return nil
	}
	hc := *b.httpClient
	return &hc
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
// use are left alone.
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

// silent is a resty.Logger that drops everything.
type silent struct{}

func (silent) Errorf(string, ...any) {}
func (silent) Warnf(string, ...any)  {}
func (silent) Debugf(string, ...any) {}
