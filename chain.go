package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// Chain is a request path under construction. It is an immutable value:
// every method returns a new Chain, so a shared prefix can be branched from
// any number of times, from any goroutine.
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
	resp, err := c.send(ctx, method, opts)
	if c.b.logger != nil {
		path := c.logPath(opts)
		c.b.logRequest(ctx, method, path, start, attempts, resp, err, func() string { return c.logError(method, path, err) })
	}
	return resp, err
}

// send builds and sends the request; do logs it.
func (c *Chain) send(ctx context.Context, method string, opts []Options) (*Response, error) {
	var o Options
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		return nil, fmt.Errorf("wechatpay: %s %s: got %d Options, expected at most one", method, c.path, len(opts))
	}
	if o.Media == nil && o.Sink == nil && c.b.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.b.timeout)
			defer cancel()
		}
	}
	if c.v2() {
		return c.doV2(ctx, method, o)
	}
	if !c.b.v3 {
		return nil, fmt.Errorf("wechatpay: %s %s: this Builder has no APIv3 credentials: set Config.Serial, Config.PrivateKey and Config.Certs", method, c.path)
	}
	if o.XML != nil || o.Nonceless || o.Security {
		return nil, fmt.Errorf("wechatpay: %s %s: Options.XML, Nonceless and Security are for APIv2 (v2/) paths", method, c.path)
	}
	target, err := c.url(o)
	if err != nil {
		return c.fail(method, err)
	}
	stack, err := requestStack(c.b.stack, o)
	if err != nil {
		return c.fail(method, err)
	}
	if o.Media != nil || o.Sink != nil {
		if err := o.checkStream(method); err != nil {
			return c.fail(method, err)
		}
		return c.doStream(ctx, method, o, stack, target)
	}
	body, err := o.body(method)
	if err != nil {
		return c.fail(method, err)
	}
	if stack != c.b.stack {
		ctx = context.WithValue(ctx, stackKey{}, stack)
	}
	req := c.b.client.R().SetContext(ctx)
	copyHeaders(req.Header, o.Headers)
	if body != nil {
		req.SetBody(body)
		if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	resp, err := req.Execute(method, target)
	if err != nil {
		return c.fail(method, c.b.limit().refused(resp, err))
	}
	if !success(resp.StatusCode()) {
		return nil, newAPIError(method, c.path, resp.StatusCode(), resp.Header(), resp.Body())
	}
	return fromResty(resp), nil
}

// answerLimit is the most bytes an answer's body (decompressed) may hold,
// and the setting that chose it, which its error names; n 0: no limit.
type answerLimit struct {
	n     int64
	setBy string
}

// limit is the Builder's limit on answers, Config.MaxResponseBytes.
func (b *Builder) limit() answerLimit {
	return answerLimit{n: b.maxResponse, setBy: "Config.MaxResponseBytes"}
}

// v2XMLLimit is the limit on an APIv2 XML answer: apiv2.MaxSize, or the
// Builder's limit when that is tighter.
func (b *Builder) v2XMLLimit() answerLimit {
	if b.maxResponse > 0 && b.maxResponse < apiv2.MaxSize {
		return b.limit()
	}
	return answerLimit{n: apiv2.MaxSize, setBy: "apiv2.MaxSize"}
}

// refused turns resty's refusal of an answer longer than l into a
// *ResponseTooLargeError; other errors pass as they are.
func (l answerLimit) refused(resp *resty.Response, err error) error {
	if !errors.Is(err, resty.ErrResponseBodyTooLarge) || resp == nil || resp.RawResponse == nil {
		return err
	}
	return &ResponseTooLargeError{StatusCode: resp.StatusCode(), Header: resp.Header(), Limit: l.n, LimitSetBy: l.setBy}
}

// read reads body, resp's body (net/http has undone a gzip
// Content-Encoding it asked for), up to l, for the requests that bypass
// resty; a longer body is a *ResponseTooLargeError.
func (l answerLimit) read(resp *http.Response, body io.Reader) ([]byte, error) {
	if l.n <= 0 {
		return io.ReadAll(body)
	}
	data, err := io.ReadAll(io.LimitReader(body, l.n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > l.n {
		return nil, &ResponseTooLargeError{StatusCode: resp.StatusCode, Header: resp.Header, Limit: l.n, LimitSetBy: l.setBy}
	}
	return data, nil
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

// fail wraps err with the request it belongs to.
func (c *Chain) fail(method string, err error) (*Response, error) {
	return nil, fmt.Errorf("wechatpay: %s %s: %w", method, c.path, withoutQuery(err))
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

// copyHeaders adds the caller's headers to h.
func copyHeaders(h, from http.Header) {
	for k, vs := range from {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
}

// success reports whether an HTTP status is 2xx.
func success(status int) bool { return status >= 200 && status <= 299 }

// url joins the base URL, the filled path and the query. The host is the
// request's Options.BaseURL, else the chain's own (a full URL), else an
// explicit Config.BaseURL, else the catalog's host for the path, else
// DefaultBaseURL.
func (c *Chain) url(o Options) (string, error) {
	base := c.b.baseURL
	switch {
	case o.BaseURL != "":
		var err error
		if base, err = normalizeBaseURL(o.BaseURL); err != nil {
			return "", fmt.Errorf("Options.BaseURL: %w", err)
		}
	case c.base != "":
		base = c.base
	case !c.b.explicitBase:
		if host := catalog.BaseURI(c.path); host != "" {
			base = host
		}
	}
	path, err := fill(c.path, o.Path)
	if err != nil {
		return "", err
	}
	if c.v2() {
		// APIv2 paths are written with "v2/" but served without it.
		path = strings.TrimPrefix(path, "v2/")
	}
	target := base + path
	if c.query != "" {
		target += "?" + c.query
	}
	if len(o.Query) > 0 {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + o.Query.Encode()
	}
	return target, nil
}

// v2 reports whether the chain is an APIv2 one: a path (not a full URL)
// that starts with "v2/". A full URL is APIv3, sent where it says.
func (c *Chain) v2() bool { return c.base == "" && strings.HasPrefix(c.path, "v2/") }

type stackKey struct{}

// stackFrom returns the per-request stack a request carries, or def.
func stackFrom(ctx context.Context, def *middleware.Stack) *middleware.Stack {
	if s, ok := ctx.Value(stackKey{}).(*middleware.Stack); ok {
		return s
	}
	return def
}

// PathSegment applies wechatpay-php's naming rules to one chain segment:
// the first letter is lower-cased, every other upper-case letter becomes "-"
// and its lower case (jsapiPreEntrustSign -> jsapi-pre-entrust-sign,
// complaintsV2 -> complaints-v2, V3 -> v3), digits and inner underscores stay
// (applyment4sub, pay_bank), and _name_ becomes the placeholder {name}.
// Unlike wechatpay-php, which applies the capital rule inside a placeholder
// too (_outTradeNo_ -> {out-trade-no}), the name is kept as given
// (_outTradeNo_ -> {outTradeNo}): it is the key the caller fills in
// Options.Path.
func PathSegment(name string) (string, error) {
	if len(name) > 2 && name[0] == '_' && name[len(name)-1] == '_' {
		inner := name[1 : len(name)-1]
		if !isPlaceholderName(inner) {
			return "", fmt.Errorf("wechatpay: Seg(%q): a placeholder name holds letters, digits and underscores only", name)
		}
		return "{" + inner + "}", nil
	}
	if name == "" {
		return "", errors.New("wechatpay: Seg(\"\"): a segment cannot be empty; a path ending in \"/\" is written with Chain(path)")
	}
	if name == "." || name == ".." {
		return "", fmt.Errorf("wechatpay: Seg(%q): %s", name, errDotSegment)
	}
	// Most names are already lower case: return them without copying.
	i := 0
	for i < len(name) && ('a' <= name[i] && name[i] <= 'z' || '0' <= name[i] && name[i] <= '9' || name[i] == '_' || name[i] == '-' || name[i] == '.') {
		i++
	}
	if i == len(name) {
		return name, nil
	}
	var b strings.Builder
	b.Grow(len(name) + 4)
	b.WriteString(name[:i])
	for ; i < len(name); i++ {
		ch := name[i]
		switch {
		case 'A' <= ch && ch <= 'Z':
			if i > 0 {
				b.WriteByte('-')
			}
			b.WriteByte(ch + ('a' - 'A'))
		case 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9', ch == '_', ch == '-', ch == '.':
			b.WriteByte(ch)
		default:
			return "", fmt.Errorf("wechatpay: Seg(%q): %q is not allowed in a segment name; use Value for a literal value or Chain for a whole path", name, ch)
		}
	}
	return b.String(), nil
}

func isPlaceholderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '_') {
			return false
		}
	}
	return true
}

// checkTemplate reports a "#", a control character or a malformed
// {placeholder} in a Chain path, a literal segment that is "." or ".."
// (percent-encoded or not) or that holds a malformed percent-escape, and
// an empty segment other than the last.
func checkTemplate(path string) error {
	if strings.Contains(path, "#") {
		// The HTTP client would cut it and what follows off the request.
		return errors.New(`a path has no "#": expected segments and a query only; a "#" in a value goes through Options.Path or Value, which escape it`)
	}
	if err := checkRequestText(path); err != nil {
		return err
	}
	if err := checkLiteralSegments(path); err != nil {
		return err
	}
	if err := checkEmptySegments(path); err != nil {
		return err
	}
	rest := path
	for {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			return nil
		}
		if rest[open] == '}' {
			return errors.New(`"}" without "{"`)
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return errors.New(`"{" without "}"`)
		}
		if name := rest[open+1 : open+end]; !isPlaceholderName(name) {
			return fmt.Errorf("placeholder {%s}: a name holds letters, digits and underscores only", name)
		}
		rest = rest[open+end+1:]
	}
}

// checkRequestText refuses what a path or query cannot carry as written:
// control characters (net/url refuses them: the request could not be sent)
// and spaces, which would go into the request line unescaped and split it.
// A space in a value goes through Options.Path, Value or Options.Query,
// which escape it.
func checkRequestText(text string) error {
	for i := 0; i < len(text); i++ {
		if ch := text[i]; ch <= ' ' || ch == 0x7f {
			return fmt.Errorf("a path has no control characters or spaces: %q at byte %d; expected segments and a query only (escape a value with Options.Path, Value or Options.Query)", ch, i)
		}
	}
	return nil
}

// checkEmptySegments reports an empty segment before the last in path's
// path part: it would be sent as "//", which servers read as another path
// (v2//secapi/pay/refund went out as //secapi/pay/refund, and without the
// merchant certificate). An empty last segment is the trailing "/" of a
// few documented paths (v3/applyment4sub/applyment/).
func checkEmptySegments(path string) error {
	path, _, _ = strings.Cut(path, "?")
	if i := strings.Index(path, "//"); i >= 0 {
		return fmt.Errorf("an empty segment at byte %d (\"//\"): expected a name, an id or a {placeholder} between two \"/\" (only the last segment may be empty, for a trailing \"/\")", i+1)
	}
	if strings.HasPrefix(path, "/") {
		return errors.New(`an empty segment at the start (a path starting with "//"): expected the path without a leading "/"`)
	}
	return nil
}

// fill replaces every {name} in template with the escaped value from values.
// Every placeholder needs a value and every value a placeholder: a typo in
// either must not reach WeChat as a wrong path.
func fill(template string, values map[string]string) (string, error) {
	if !strings.Contains(template, "{") {
		if len(values) > 0 {
			return "", fmt.Errorf("Options.Path has %s but the path has no {placeholder}", strings.Join(sortedKeys(values), ", "))
		}
		return template, nil
	}
	var b strings.Builder
	b.Grow(len(template) + 32)
	// Placeholders after "?" are query values; values cannot hold a "?"
	// once escaped, so the template's first "?" starts the query.
	query := strings.IndexByte(template, '?')
	if query < 0 {
		query = len(template)
	}
	rest := template
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		end := open + strings.IndexByte(rest[open:], '}')
		name := rest[open+1 : end]
		v, ok := values[name]
		if !ok {
			return "", fmt.Errorf("placeholder {%s} has no value: set Options.Path[%q]", name, name)
		}
		after := rest[end+1:]
		b.WriteString(rest[:open])
		if len(template)-len(rest)+open > query {
			b.WriteString(url.QueryEscape(v))
			rest = after
			continue
		}
		// Only a last segment may be empty: it gives the trailing "/" that a
		// few paths have (wechatpay-php's _empty_ idiom); elsewhere it would
		// give "//".
		if v == "" && after != "" && after[0] != '?' {
			return "", fmt.Errorf("placeholder {%s} is empty: Options.Path[%q] needs a value", name, name)
		}
		seg := escapeSegment(v)
		if err := checkValue(seg); err != nil {
			return "", &pathValueError{
				msg:  fmt.Sprintf("placeholder {%s}: Options.Path[%q] is %q: %v", name, name, v, err),
				bare: fmt.Sprintf("placeholder {%s}: Options.Path[%q] %s", name, name, err.bare),
			}
		}
		b.WriteString(seg)
		rest = after
	}
	for k := range values {
		if !hasPlaceholder(template, k) {
			var unused []string
			for _, k := range sortedKeys(values) {
				if !hasPlaceholder(template, k) {
					unused = append(unused, k)
				}
			}
			return "", fmt.Errorf("Options.Path has %s, which match no {placeholder} in %s", strings.Join(unused, ", "), template)
		}
	}
	filled := b.String()
	// A value can still complete what the template around it holds (".{a}"
	// with an empty last value, "%2{a}" with "e."): check the result too.
	if err := checkLiteralSegments(filled); err != nil {
		return "", &pathValueError{
			msg: fmt.Sprintf("the filled path %s: %v", filled, err),
			bare: fmt.Sprintf("the filled path of %s: with the template around them, the Options.Path values make a segment that is %q or %q, "+
				"or holds an invalid percent-escape, once percent-decoded: %s", template, ".", "..", errDotSegment),
		}
	}
	return filled, nil
}

// hasPlaceholder reports whether template holds {name}.
func hasPlaceholder(template, name string) bool {
	for rest := template; ; {
		i := strings.Index(rest, name)
		if i < 0 {
			return false
		}
		if i > 0 && rest[i-1] == '{' && i+len(name) < len(rest) && rest[i+len(name)] == '}' {
			return true
		}
		rest = rest[i+len(name):]
	}
}

// escapeSegment escapes v as one path segment ("/" -> %2F, like
// url.PathEscape), but keeps valid %XX triplets: ids that WeChat hands out
// already percent-encoded (complaint image media ids) then reach the server
// exactly as issued instead of being encoded twice.
func escapeSegment(v string) string {
	const hexDigits = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(v); i++ {
		ch := v[i]
		keep := segmentSafe(ch) || ch == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2])
		if keep && b == nil {
			continue
		}
		if b == nil {
			b = make([]byte, i, len(v)+16)
			copy(b, v[:i])
		}
		if keep {
			b = append(b, ch)
		} else {
			b = append(b, '%', hexDigits[ch>>4], hexDigits[ch&15])
		}
	}
	if b == nil {
		return v
	}
	return string(b)
}

// segmentSafe is true for the bytes url.PathEscape leaves alone.
func segmentSafe(ch byte) bool {
	switch {
	case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9':
		return true
	}
	switch ch {
	case '-', '_', '.', '~', '$', '&', '+', ':', '=', '@':
		return true
	}
	return false
}

func isHex(ch byte) bool {
	return '0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F'
}

// errDotSegment says why "." and ".." segments are refused.
const errDotSegment = `"." and ".." name the current and the parent path: sent, they would reach another endpoint; expected a segment name, an id or a {placeholder}`

// pathValueError is a refused Options.Path value. Its message quotes the
// value for the caller; bare says the same without it, for a log record.
type pathValueError struct {
	msg  string // with the value
	bare string // without it
}

func (e *pathValueError) Error() string { return e.msg }

// checkValue reports a value (escaped as one segment) that is, or holds,
// "." or ".." once percent-decoded. Servers decode %2E and may decode %2F
// and "\" into separators before they resolve dot segments, so the decoded
// value is split at both. The error's bare form, which does not quote the
// value, follows "the value".
func checkValue(seg string) *pathValueError {
	dec, err := url.PathUnescape(seg)
	if err != nil {
		// escapeSegment leaves only valid escapes; never reached.
		return &pathValueError{msg: fmt.Sprintf("%v: expected a value", err), bare: "is not a valid escaped value: expected a value"}
	}
	part, ok := dotPart(dec)
	switch {
	case !ok:
		return nil
	case dec == part:
		return &pathValueError{
			msg:  fmt.Sprintf("the value is %q once percent-decoded: %s", part, errDotSegment),
			bare: fmt.Sprintf("is %q once percent-decoded: %s", part, errDotSegment),
		}
	}
	return &pathValueError{
		msg:  fmt.Sprintf("the value holds a %q part once percent-decoded (%q): %s", part, dec, errDotSegment),
		bare: fmt.Sprintf("holds a %q part once percent-decoded: %s", part, errDotSegment),
	}
}

// dotPart returns the first part of s, split at "/" and "\", that is "."
// or "..".
func dotPart(s string) (string, bool) {
	for {
		i := strings.IndexAny(s, "/\\")
		part := s
		if i >= 0 {
			part = s[:i]
		}
		if part == "." || part == ".." {
			return part, true
		}
		if i < 0 {
			return "", false
		}
		s = s[i+1:]
	}
}

// checkLiteralSegments checks every segment of path's path part (before
// "?") that holds no {placeholder}: its percent-escapes are well formed,
// and it is not "." or ".." once decoded.
func checkLiteralSegments(path string) error {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	for _, seg := range strings.Split(path, "/") {
		if strings.ContainsAny(seg, "{}") {
			continue
		}
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return fmt.Errorf("segment %q has an invalid percent-escape: expected %%XX with two hex digits (%%25 for a literal %%)", seg)
		}
		if _, ok := dotPart(dec); ok {
			return fmt.Errorf("segment %q: %s", seg, errDotSegment)
		}
	}
	return nil
}

// fullURLForm is what Chain expects of a full URL.
const fullURLForm = "expected http(s)://host/path with an optional query, such as https://api.mch.weixin.qq.com/v3/billdownload/file?token=..."

// isURL reports whether Chain takes s as a full URL: its first segment holds
// a ":" (as "https:" does). No WeChat Pay path has one, so a URL with a typo
// (a leading space, "https:/host") is refused rather than sent as a path.
func isURL(s string) bool {
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return strings.Contains(s, ":")
}

// splitURL splits a full URL given to Chain into its base
// ("scheme://host/") and the rest, the path and query without the leading
// "/", which becomes the chain's template. The host is kept as written (an
// IPv6 zone stays %25-escaped); only the scheme is lower-cased.
func splitURL(raw string) (base, path string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold user info
		}
		return "", "", fmt.Errorf("not a URL (%v): %s", err, fullURLForm)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("scheme %q: %s", u.Scheme, fullURLForm)
	case !strings.HasPrefix(raw[len(u.Scheme)+1:], "//"):
		return "", "", fmt.Errorf("no \"//\" after %q: %s", raw[:len(u.Scheme)+1], fullURLForm)
	case u.User != nil:
		// It would be sent as Basic credentials, next to the signature.
		return "", "", fmt.Errorf("the URL has user info: %s", fullURLForm)
	case u.Hostname() == "":
		return "", "", fmt.Errorf("the URL has no host: %s", fullURLForm)
	case !strings.HasPrefix(u.Host, "[") && strings.Contains(u.Hostname(), ":"):
		// url.Parse takes it under the go 1.23 GODEBUG default.
		return "", "", fmt.Errorf("not a URL (the host %q has more than one \":\"; an IPv6 address goes in [ ]): %s", u.Host, fullURLForm)
	case strings.Contains(raw, "#"):
		return "", "", fmt.Errorf("the URL has a fragment (a \"#\" part is never sent): %s", fullURLForm)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("port %s is not one of 1 to 65535: %s", p, fullURLForm)
		}
	}
	rest := raw[len(u.Scheme)+len("://"):]
	end := strings.IndexAny(rest, "/?")
	if end < 0 || rest[end] == '?' || end+1 == len(rest) || rest[end+1] == '?' {
		return "", "", fmt.Errorf("the URL has no path after the host: %s", fullURLForm)
	}
	if rest[end+1] == '/' {
		// An empty first segment; Chain would drop it.
		return "", "", fmt.Errorf("the path starts with \"//\": %s", fullURLForm)
	}
	return u.Scheme + "://" + rest[:end] + "/", rest[end+1:], nil
}

// redactURL hides what a URL that Chain refuses may carry in secret: the
// user info (a password) and the query (a download_url's token), which must
// not reach an error or a log. A path template is returned as it is.
func redactURL(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 || !isURL(raw) {
		return raw
	}
	// The user info ends at the last "@" before the path: a password may
	// hold "#" or "?" (mistyped, unescaped), so they do not end it here.
	rest := raw[i+3:]
	authority := rest
	if end := strings.IndexByte(rest, '/'); end >= 0 {
		authority = rest[:end]
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		rest = "xxxxx" + rest[at:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q] + "?..."
	}
	return raw[:i+3] + rest
}
