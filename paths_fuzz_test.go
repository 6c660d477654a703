package wechatpay_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
)

// Run locally with, for instance:
//
//	go test -run '^$' -fuzz '^FuzzChainURL$' -fuzztime 30s ./
//	go test -run '^$' -fuzz '^FuzzTemplate$' -fuzztime 30s ./
//
// Without -fuzz, go test runs the seeds (and testdata/fuzz) as regression tests.

// fuzzBuilder returns a Builder whose base URL is srv's; nothing is sent.
func fuzzBuilder(f *testing.F) (*wechatpay.Builder, *url.URL) {
	srv := newServer(f)
	b, err := wechatpay.NewBuilder(srv.Config())
	require.NoError(f, err)
	base, err := url.Parse(srv.URL)
	require.NoError(f, err)
	return b, base
}

// firstSegmentHasColon is the README's rule for a full URL in Chain.
func firstSegmentHasColon(s string) bool {
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return strings.Contains(s, ":")
}

// requireNoDotSegment fails when a segment of the escaped path is, or
// holds between "/" or "\", "." or ".." once percent-decoded.
func requireNoDotSegment(t *testing.T, escapedPath, from string) {
	t.Helper()
	for _, seg := range strings.Split(escapedPath, "/") {
		dec, err := url.PathUnescape(seg)
		require.NoError(t, err, "segment %q of %q (from %q) is not well escaped", seg, escapedPath, from)
		for _, part := range strings.FieldsFunc(dec, func(r rune) bool { return r == '/' || r == '\\' }) {
			require.True(t, part != "." && part != "..", "segment %q of %q (from %q) climbs", seg, escapedPath, from)
		}
	}
}

// FuzzChainURL: Chain never panics on any string; what it accepts as a
// full URL goes to exactly the host, path and query given, without user
// info or fragment; anything else goes to the Builder's own host.
func FuzzChainURL(f *testing.F) {
	b, base := fuzzBuilder(f)
	for _, s := range []string{
		"https://api.mch.weixin.qq.com/v3/billdownload/file?token=abc",
		"https://api.mch.weixin.qq.com", "https://api.mch.weixin.qq.com/", "https://api.mch.weixin.qq.com?x=1",
		"https://user:pw@api.mch.weixin.qq.com/v3/x", "HTTPS://API.mch.weixin.qq.com/v3/x",
		"https://[::1]:8443/v3/x", "https://[fe80::1%25en0]:8443/v3/x", "http://[::1/v3/x",
		"https://h/v3/x#f", "https:///v3/x", "https://:443/v3/x", "https://h:99999/v3", "https://h:1:2/v3",
		"https:/h/v3", "https:h/v3", " https://h/v3", "ftp://h/v3", "https://h/v3/../x", "https://h/v3/%2e%2E/x",
		"https://h/v3/{a}?t={b}", "v3/pay/transactions/native", "/v3/x", "//evil.example/v3/x", "v3/x?a=1",
		"https://h/v3/x?", "https://h/%", "https://h/v3/a%2Fb",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := b.Chain(s)
		got, err := c.URL()
		if c.Err() != nil {
			require.Error(t, err)
			return
		}
		if err != nil {
			return // a {placeholder} without a value
		}
		u, err := url.Parse(got)
		require.NoError(t, err, "Chain(%q).URL() gave %q, which does not parse", s, got)
		require.Nil(t, u.User, "%q -> %q", s, got)
		require.Empty(t, u.Fragment, "%q -> %q", s, got)
		require.Contains(t, []string{"http", "https"}, u.Scheme, "%q -> %q", s, got)
		requireNoDotSegment(t, u.EscapedPath(), s)
		if !firstSegmentHasColon(s) {
			require.Equal(t, base.Host, u.Host, "the path %q reached another host: %q", s, got)
			return
		}
		want, err := url.Parse(s)
		require.NoError(t, err, "Chain took %q as a URL, but it does not parse", s)
		require.Equal(t, want.Host, u.Host, "%q -> %q", s, got)
		require.Equal(t, want.EscapedPath(), u.EscapedPath(), "%q -> %q", s, got)
		require.Equal(t, want.RawQuery, u.RawQuery, "%q -> %q", s, got)
		require.NotEqual(t, "/", u.Path, "%q -> %q: no path", s, got)
	})
}

// FuzzTemplate: no path template or placeholder value makes Chain or URL
// panic, and a value never adds a "/" to the path, a "." or ".." segment,
// or a "&", "=" or "#" to the query; nor does a Value segment.
func FuzzTemplate(f *testing.F) {
	b, base := fuzzBuilder(f)
	for _, s := range [][2]string{
		{"v3/pay/transactions/out-trade-no/{out_trade_no}/close", ".."},
		{"v3/x/{a}", "%2e%2e"}, {"v3/x/{a}", "%2E."}, {"v3/x/{a}", "a/../b"}, {"v3/x/{a}", "..%2F"},
		{"v3/x/%2{a}/y", "e."}, {"v3/x/.{a}", ""}, {"v3/x/{a}{b}", "."}, {"{a}", "a/b"},
		{"v3/x?t={a}", "a&b=c#d"}, {"v3/x?t={a}&u=1", ""}, {"v3/x/{a}?t={b}", "?"},
		{"v2/pay/{a}", "x"}, {"v3/merchant-service/images/{media_id}", "ChsyMDAwMDAy%2BMTEwMDIw%3D%3D"},
		{"v3/x/{a}/", "100%"}, {"v3/x/{a", "x"}, {"v3/x/{a-b}", "x"}, {"v3/../x", "x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, template, value string) {
		// A value alone, as one segment.
		if got, err := b.V3().Seg("x").Value(value).URL(); err == nil {
			seg, ok := strings.CutPrefix(got, base.String()+"v3/x/")
			require.True(t, ok, "Value(%q) -> %q", value, got)
			require.NotContains(t, seg, "/", "Value(%q) -> %q", value, got)
			require.NotContains(t, seg, "?", "Value(%q) -> %q", value, got)
			requireNoDotSegment(t, seg, value)
		}

		if firstSegmentHasColon(template) {
			return // FuzzChainURL's
		}
		c := b.Chain(template)
		if c.Err() != nil {
			return
		}
		values := map[string]string{}
		for rest := c.Path(); ; {
			open := strings.IndexByte(rest, '{')
			if open < 0 {
				break
			}
			end := open + strings.IndexByte(rest[open:], '}')
			values[rest[open+1:end]] = value
			rest = rest[end+1:]
		}
		got, err := c.URL(wechatpay.Options{Path: values})
		if err != nil {
			return
		}
		u, err := url.Parse(got)
		require.NoError(t, err, "%q with %q -> %q, which does not parse", template, value, got)
		require.Equal(t, base.Host, u.Host, "%q with %q -> %q", template, value, got)
		require.Empty(t, u.Fragment, "%q with %q -> %q", template, value, got)

		filled, ok := strings.CutPrefix(got, base.String())
		require.True(t, ok, "%q -> %q", template, got)
		tmpl := strings.TrimPrefix(c.Path(), "v2/") // APIv2 paths are served without it
		tmplPath, tmplQuery, _ := strings.Cut(tmpl, "?")
		path, query, _ := strings.Cut(filled, "?")
		require.Equal(t, strings.Count(tmplPath, "/"), strings.Count(path, "/"),
			"a value added a \"/\": %q with %q -> %q", template, value, got)
		requireNoDotSegment(t, path, template+" with "+value)
		for _, sep := range []string{"&", "=", "#", "?"} {
			require.Equal(t, strings.Count(tmplQuery, sep), strings.Count(query, sep),
				"a value added %q to the query: %q with %q -> %q", sep, template, value, got)
		}
	})
}
