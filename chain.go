package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// Chain is a request path under construction. It is an immutable value:
// every method returns a new Chain, so a shared prefix can be branched from
// any number of times, from any goroutine.
//
// Its own methods, before the generated segment methods (V3, Pay,
// Transactions, Native, ...; one per documented path segment, listed
// alphabetically with them):
//
//   - the verbs, which send: Get, Post, Put, Patch, Delete, and GetAsync,
//     PostAsync, PutAsync, PatchAsync, DeleteAsync, which return a *Future;
//   - Seg (a segment named by wechatpay-php's rules) and Value (a literal
//     value such as an order number, escaped as one segment);
//   - URL (where a request would go), Path (the template), Err (the first
//     error met while building) and Endpoints (what the catalog documents
//     at this path).
//
// The path is a template of literal segments, already-escaped values and
// {name} placeholders. An invalid segment does not stop the chain: the first
// such error is returned by the verb that would have sent the request.
type Chain struct {
	b     *Builder
	base  string // set when the chain began with a full URL
	path  string
	query string // the query of a full URL, sent verbatim, never shown
	// masked is path with each Value segment written {value}, for logs;
	// empty when the chain has none.
	masked string
	err    error
}

// Seg appends a segment named with wechatpay-php's rules (see PathSegment):
// jsapiPreEntrustSign -> jsapi-pre-entrust-sign, V3 -> v3, _out_trade_no_ ->
// {out_trade_no}. Names that must not be normalised, such as an order
// number, go through Value instead.
func (c *Chain) Seg(name string) *Chain {
	if c = c.usable(); c.err != nil {
		return c
	}
	seg, err := PathSegment(name)
	if err != nil {
		return c.failed(err)
	}
	return c.with(seg)
}

// Value appends a literal value (an order number, a media id) as one path
// segment: never normalised, and escaped like a placeholder value (see
// Options.Path), so "N123/45" is sent as N123%2F45. A value that is, or
// holds, "." or ".." once percent-decoded is an error: sent, it would reach
// another endpoint.
func (c *Chain) Value(v string) *Chain {
	if c = c.usable(); c.err != nil {
		return c
	}
	if v == "" {
		return c.failed(fmt.Errorf("wechatpay: Value(\"\") after %s: a path value cannot be empty", c.path))
	}
	seg := escapeSegment(v)
	if err := checkValue(seg); err != nil {
		return c.failed(fmt.Errorf("wechatpay: Value(%q) after %s: %w", v, c.path, err))
	}
	masked := c.masked
	if masked == "" {
		masked = c.path
	}
	next := c.with(seg)
	next.masked = masked + "/{value}"
	return next
}

// Path returns the path template, such as
// "v3/pay/transactions/out-trade-no/{out_trade_no}".
func (c *Chain) Path() string { return c.usable().path }

// Err reports the first error met while building the chain, if any.
func (c *Chain) Err() error { return c.usable().err }

// errNoBuilder is the error of a Chain that did not come from a Builder.
var errNoBuilder = errors.New("wechatpay: this Chain was not made by a Builder: start chains with Builder.V3, V2 or Chain")

// usable returns c, or a chain holding errNoBuilder when c is nil or was
// not made by a Builder, so that misuse is an error rather than a panic. A
// chain of a Builder that NewBuilder did not make holds errNotBuilt.
func (c *Chain) usable() *Chain {
	if c == nil || c.b == nil && c.err == nil {
		return &Chain{err: errNoBuilder}
	}
	return c
}

// Get sends a GET request. opts is at most one Options.
func (c *Chain) Get(ctx context.Context, opts ...Options) (*Response, error) {
	return c.do(ctx, http.MethodGet, opts)
}

// Post sends a POST request. opts is at most one Options.
func (c *Chain) Post(ctx context.Context, opts ...Options) (*Response, error) {
	return c.do(ctx, http.MethodPost, opts)
}

// Put sends a PUT request. opts is at most one Options.
func (c *Chain) Put(ctx context.Context, opts ...Options) (*Response, error) {
	return c.do(ctx, http.MethodPut, opts)
}

// Patch sends a PATCH request. opts is at most one Options.
func (c *Chain) Patch(ctx context.Context, opts ...Options) (*Response, error) {
	return c.do(ctx, http.MethodPatch, opts)
}

// Delete sends a DELETE request, with a body when Options give one.
func (c *Chain) Delete(ctx context.Context, opts ...Options) (*Response, error) {
	return c.do(ctx, http.MethodDelete, opts)
}

// GetAsync starts Get and returns at once.
func (c *Chain) GetAsync(ctx context.Context, opts ...Options) *Future {
	return c.async(ctx, http.MethodGet, opts)
}

// PostAsync starts Post and returns at once.
func (c *Chain) PostAsync(ctx context.Context, opts ...Options) *Future {
	return c.async(ctx, http.MethodPost, opts)
}

// PutAsync starts Put and returns at once.
func (c *Chain) PutAsync(ctx context.Context, opts ...Options) *Future {
	return c.async(ctx, http.MethodPut, opts)
}

// PatchAsync starts Patch and returns at once.
func (c *Chain) PatchAsync(ctx context.Context, opts ...Options) *Future {
	return c.async(ctx, http.MethodPatch, opts)
}

// DeleteAsync starts Delete and returns at once.
func (c *Chain) DeleteAsync(ctx context.Context, opts ...Options) *Future {
	return c.async(ctx, http.MethodDelete, opts)
}

func (c *Chain) async(ctx context.Context, method string, opts []Options) *Future {
	return goFuture(func() (*Response, error) { return c.do(ctx, method, opts) })
}

func (c *Chain) do(ctx context.Context, method string, opts []Options) (*Response, error) {
	if c = c.usable(); c.err != nil {
		return nil, c.err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	start := time.Now()
	ctx, attempts := c.b.withAttempts(ctx)
	resp, err := c.run(ctx, method, opts)
	if c.b.logger != nil {
		path := c.logPath(opts)
		c.b.logRequest(ctx, method, path, start, attempts, resp, err, func() string { return c.logError(method, path, err) })
	}
	return resp, err
}

// run reads opts once, into a prepared request, and has the Builder send
// it; do logs it.
func (c *Chain) run(ctx context.Context, method string, opts []Options) (*Response, error) {
	var o Options
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		return nil, fmt.Errorf("wechatpay: %s %s: got %d Options, expected at most one", method, c.path, len(opts))
	}
	var r request
	if err := c.prepare(&r, method, o); err != nil {
		return nil, err
	}
	if r.upload != nil {
		defer r.upload.close()
	}
	if r.upload == nil && r.sink == nil && c.b.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.b.timeout)
			defer cancel()
		}
	}
	return c.b.send(ctx, &r)
}

// prepare turns o into the request to send: APIv2 XML (prepareV2), an
// upload (Options.Media), a download to a Sink, or a JSON or raw body.
func (c *Chain) prepare(r *request, method string, o Options) error {
	if c.v2() {
		return c.prepareV2(r, method, o)
	}
	if !c.b.v3 {
		return fmt.Errorf("wechatpay: %s %s: this Builder has no APIv3 credentials: set Config.Serial, Config.PrivateKey and Config.Certs", method, c.path)
	}
	if o.XML != nil || o.Nonceless || o.Security {
		return fmt.Errorf("wechatpay: %s %s: Options.XML, Nonceless and Security are for APIv2 (v2/) paths", method, c.path)
	}
	// Errors name the path without its query: a query written into the
	// path (a token) must not reach an error or a log.
	path, _, _ := strings.Cut(c.path, "?")
	*r = request{method: method, path: path, header: o.Headers, limit: c.b.limit()}
	fail := r.fail
	var err error
	if r.url, err = c.url(o); err != nil {
		return fail(err)
	}
	if r.stack, err = requestStack(c.b.stack, o); err != nil {
		return fail(err)
	}
	if o.Media != nil || o.Sink != nil {
		if err := o.checkStream(method); err != nil {
			return fail(err)
		}
		if o.Media != nil {
			if r.upload, err = o.Media.multipart(); err != nil {
				return fail(fmt.Errorf("Options.Media: %w", err))
			}
			r.contentType = r.upload.contentType
			return nil
		}
		r.sink = o.Sink // a download; a POST one may carry a body
	}
	if r.body, err = o.body(method); err != nil {
		return fail(err)
	}
	if r.body != nil {
		r.contentType = "application/json"
	}
	return nil
}

// URL returns the URL a request with opts would go to: the host chosen as
// the README's "Base URL" section says, the filled path (without "v2/" for
// APIv2) and the query.
func (c *Chain) URL(opts ...Options) (string, error) {
	if c = c.usable(); c.err != nil {
		return "", c.err
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	u, err := c.url(o)
	if err != nil {
		return "", fmt.Errorf("wechatpay: %s: %w", c.path, err)
	}
	return u, nil
}

// Endpoints returns the documented operations at this chain's path (one per
// method), matching literal values against the catalog's placeholders; nil
// when the catalog does not have the path.
func (c *Chain) Endpoints() []catalog.Endpoint { return catalog.Match(c.usable().path) }

//go:generate go run ./internal/segmentgen

// lit appends seg as it is: the generated segment methods (segments_gen.go)
// use it, so that documented names are never renamed.
func (c *Chain) lit(seg string) *Chain {
	if c = c.usable(); c.err != nil {
		return c
	}
	return c.with(seg)
}

// with returns a new chain with seg (already in path form) appended; after
// a trailing "/" that would leave an empty segment, an error.
func (c *Chain) with(seg string) *Chain {
	if strings.HasSuffix(c.path, "/") {
		return c.failed(fmt.Errorf("wechatpay: %s ends in \"/\": a segment after it would leave an empty segment (\"//\"); expected the path without its trailing \"/\"", c.path))
	}
	next := &Chain{b: c.b, base: c.base, path: c.path + "/" + seg, query: c.query}
	if c.masked != "" {
		next.masked = c.masked + "/" + seg
	}
	return next
}

// failed returns a new chain that reports err from its verbs.
func (c *Chain) failed(err error) *Chain {
	return &Chain{b: c.b, base: c.base, path: c.path, query: c.query, masked: c.masked, err: err}
}

// withoutQuery drops the query from the URL net/http puts in its errors:
// a download_url's token must not reach an error message or a log.
func withoutQuery(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u, _, _ := strings.Cut(ue.URL, "?")
	if u == ue.URL {
		return err
	}
	if err == error(ue) {
		return &url.Error{Op: ue.Op, URL: u, Err: ue.Err}
	}
	ue.URL = u // inside another error, a new one per request
	return err
}

// requestStack returns the stack a request runs: base, or a copy edited by
// Options.Middleware.
func requestStack(base *middleware.Stack, o Options) (*middleware.Stack, error) {
	if o.Middleware == nil {
		return base, nil
	}
	stack := base.Clone()
	if err := o.Middleware(stack); err != nil {
		return nil, fmt.Errorf("Options.Middleware: %w", err)
	}
	return stack, nil
}

// v2 reports whether the chain is an APIv2 one: a path (not a full URL)
// that starts with "v2/". A full URL is APIv3, sent where it says.
func (c *Chain) v2() bool { return c.base == "" && strings.HasPrefix(c.path, "v2/") }
