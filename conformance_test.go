package wechatpay_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// conformanceRow is one catalog row with its pure-chain forms; the table is
// generated (conformance_gen_test.go), so every generated method is used.
type conformanceRow struct {
	method, path string
	segments     func(b *wechatpay.Builder) *wechatpay.Chain // placeholders as Seg("_name_")
	values       func(b *wechatpay.Builder) *wechatpay.Chain // placeholders as Value(sample)
}

// sample is a placeholder value that needs escaping.
func sample(name string) string { return name + "/ü 1" }

// filled fills the placeholders of a catalog path the way the wire must
// show them: each value escaped as one segment.
func filled(path string) (string, map[string]string) {
	values := map[string]string{}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := seg[1 : len(seg)-1]
			values[name] = sample(name)
			segs[i] = url.PathEscape(sample(name))
		}
	}
	return strings.Join(segs, "/"), values
}

// hostRecorder sends every request to the fake server, whatever its host,
// and tells the server which host it was meant for.
type hostRecorder struct {
	server *url.URL
}

func (h hostRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("X-Intended-Host", req.URL.Scheme+"://"+req.URL.Host)
	r.URL.Scheme, r.URL.Host, r.Host = h.server.Scheme, h.server.Host, ""
	return http.DefaultTransport.RoundTrip(r)
}

func send(ctx context.Context, c *wechatpay.Chain, method string, o wechatpay.Options) (*wechatpay.Response, error) {
	switch method {
	case http.MethodGet:
		return c.Get(ctx, o)
	case http.MethodPost:
		return c.Post(ctx, o)
	case http.MethodPut:
		return c.Put(ctx, o)
	case http.MethodPatch:
		return c.Patch(ctx, o)
	default:
		return c.Delete(ctx, o)
	}
}

// TestCatalogConformance sends every APIv3 row of the catalog in four
// forms (segment methods with Seg placeholders, segment methods with Value,
// Chain(path), Lookup) with no base URL configured: each must reach the
// catalog's host with the documented method and the same request target,
// signed as the fake server checks. APIv2 rows must build the same URL.
func TestCatalogConformance(t *testing.T) {
	t.Parallel()
	require.Len(t, conformanceRows, len(catalog.All()), "conformance_gen_test.go is stale: run go generate")
	// At the root, not newServer's base path: the request targets are the
	// catalog hosts' own (some with a path, such as /hk/).
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	srv.Handle("/", func(w http.ResponseWriter, r *http.Request) {

		_, _ = io.Copy(io.Discard, r.Body)
		wechatpaytest.JSON(w, http.StatusOK, map[string]string{
			"method": r.Method, "uri": r.RequestURI, "host": r.Header.Get("X-Intended-Host")})
	})
	server, _ := url.Parse(srv.URL)
	b := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.BaseURL = ""
		c.HTTPClient = &http.Client{Transport: hostRecorder{server: server}}
	})
	ctx := context.Background()

	var mu sync.Mutex
	sent := 0
	work := make(chan conformanceRow)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for row := range work {
				n := checkRow(t, ctx, b, row)
				mu.Lock()
				sent += n
				mu.Unlock()
			}
		}()
	}
	for _, row := range conformanceRows {
		work <- row
	}
	close(work)
	wg.Wait()

	v3 := 0
	for _, e := range catalog.All() {
		if e.API == "v3" {
			v3++
		}
	}
	assert.Equal(t, 4*v3, sent, "every APIv3 row was sent in four forms")
	for _, r := range srv.Requests() {
		if r.Rejected != "" {
			t.Errorf("the server refused %s %s: %s", r.Method, r.RequestURI, r.Rejected)
		}
	}
}

// checkRow checks one row and returns how many requests it sent.
func checkRow(t *testing.T, ctx context.Context, b *wechatpay.Builder, row conformanceRow) int {
	e := catalog.Get(row.path)
	require.NotEmpty(t, e, row.path)
	path, values := filled(row.path)
	host := e[0].Host()
	looked, ok := b.Lookup(row.path)
	if !assert.True(t, ok, "Lookup(%q)", row.path) {
		return 0
	}
	forms := []struct {
		name  string
		chain *wechatpay.Chain
		path  map[string]string
	}{
		{"segments", row.segments(b), withEmpty(row.path, values)},
		{"values", row.values(b), withEmpty(row.path, nil)},
		{"Chain(path)", b.Chain(row.path), values},
		{"Lookup", looked, values},
	}
	for _, f := range forms {
		documented := false
		for _, ep := range f.chain.Endpoints() {
			documented = documented || ep.Method == row.method && ep.Path == row.path
		}
		assert.True(t, documented, "%s form of %s %s: Endpoints() does not list it", f.name, row.method, row.path)
	}
	if strings.HasPrefix(row.path, "v2/") {
		want := host + strings.TrimPrefix(path, "v2/")
		for _, f := range forms {
			got, err := f.chain.URL(wechatpay.Options{Path: f.path})
			if assert.NoError(t, err, "%s form of %s", f.name, row.path) {
				assert.Equal(t, want, got, "%s form of %s", f.name, row.path)
			}
		}
		return 0
	}
	u, err := url.Parse(host)
	require.NoError(t, err)
	wantHost := u.Scheme + "://" + u.Host
	wantURI := u.Path + path
	for _, f := range forms {
		var o wechatpay.Options
		o.Path = f.path
		if row.method != http.MethodGet && row.method != http.MethodDelete {
			o.JSON = map[string]int{"sample": 1}
		}
		resp, err := send(ctx, f.chain, row.method, o)
		if !assert.NoError(t, err, "%s form of %s %s", f.name, row.method, row.path) {
			continue
		}
		assert.Equal(t, row.method, resp.Get("method").String(), "%s form of %s", f.name, row.path)
		assert.Equal(t, wantURI, resp.Get("uri").String(), "%s form of %s %s", f.name, row.method, row.path)
		assert.Equal(t, wantHost, resp.Get("host").String(), "%s form of %s %s", f.name, row.method, row.path)
	}
	return len(forms)
}

// withEmpty adds the value of wechatpay-php's _empty_ placeholder, which
// the segment forms use for a path that ends in "/".
func withEmpty(path string, values map[string]string) map[string]string {
	if !strings.HasSuffix(path, "/") {
		return values
	}
	out := map[string]string{"empty": ""}
	for k, v := range values {
		out[k] = v
	}
	return out
}
