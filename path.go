package wechatpay

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/wechatpay-chain/wechatpay/catalog"
)

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
	for seg := range strings.SplitSeq(path, "/") {
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

// url joins the base URL, the filled path and the query. The host is the
// request's Options.BaseURL, else the chain's own (a full URL), else a
// Config.BaseURL that is not WeChat Pay's (a gateway), else the catalog's
// host for the path, else Config.BaseURL, else DefaultBaseURL.
// globalBaseURL is the host of every v3/global/ endpoint.
const globalBaseURL = "https://apihk.mch.weixin.qq.com/"

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
	case !c.b.gatewayBase:
		if host := catalog.BaseURI(c.path); host != "" {
			base = host
		} else if strings.HasPrefix(c.path, "v3/global/") {
			// The global host serves every v3/global/ path, documented in
			// the catalog or not yet.
			base = globalBaseURL
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
