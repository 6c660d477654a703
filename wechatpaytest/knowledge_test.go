package wechatpaytest

// These tests pin the fake server's own knowledge of WeChat Pay (APIv2
// signing and XML, the mutual-TLS table, the unsigned answers) against
// the official vectors and against the client's copies, so that the two
// are written apart yet cannot drift apart unnoticed.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// TestOwnCodeImportsNoClientProtocol: the server's code checks what it
// receives with its own code, never the client's packages that build and
// check the same bytes, so that a test against it proves the wire and not
// the client's agreement with itself. Its tests may use them.
func TestOwnCodeImportsNoClientProtocol(t *testing.T) {
	t.Parallel()
	forbidden := []string{
		"github.com/wechatpay-chain/wechatpay/apiv2",
		"github.com/wechatpay-chain/wechatpay/catalog",
		"github.com/wechatpay-chain/wechatpay/middleware",
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		require.NoError(t, err)
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			assert.NotContains(t, forbidden, path, "%s imports %s", name, path)
		}
	}
	assert.GreaterOrEqual(t, checked, 5, "the package's files were not found")
}

// TestSignV2OfficialVectors: the server's APIv2 sign gives the vectors of
// WeChat Pay's documentation, MD5 and HMAC-SHA256, and leaves out sign and
// empty values.
func TestSignV2OfficialVectors(t *testing.T) {
	t.Parallel()
	params := map[string]string{"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000",
		"body": "test", "nonce_str": "ibuaiVcKdpRxkhJA"}
	const key = "192006250b4c09247ec02edce69f6a2d"
	const md5Sign = "9A0A8659F005D6984697E2CA0A9CF3B7"
	const hmacSign = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
	withSignAndEmpty := map[string]string{"sign": "ANY-OLD-SIGN-3c9e1f07", "attach": ""}
	for k, v := range params {
		withSignAndEmpty[k] = v
	}
	tests := []struct {
		name     string
		params   map[string]string
		signType string
		want     string
	}{
		{"MD5 by default", params, "", md5Sign},
		{"MD5 named", params, "MD5", md5Sign},
		{"HMAC-SHA256", params, "HMAC-SHA256", hmacSign},
		{"sign and empty values left out", withSignAndEmpty, "", md5Sign},
		{"HMAC-SHA256, sign and empty values left out", withSignAndEmpty, "HMAC-SHA256", hmacSign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, signV2(tt.params, key, tt.signType))
		})
	}
	assert.NotEqual(t, md5Sign, signV2(params, key+"x", ""), "the key is part of the sign")
}

// TestReadXMLV2: the server's XML reader takes what WeChat Pay takes (any
// root name, CDATA, character references, CR LF read as LF) and refuses
// what it refuses (a DOCTYPE or entity, nesting, a field twice, a cut-off
// document), giving the same fields as the client's reader where both
// accept.
func TestReadXMLV2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		want   map[string]string
		reason string // part of the error; empty: accepted
	}{
		{"plain", "<xml><a>1</a><b>two</b></xml>", map[string]string{"a": "1", "b": "two"}, ""},
		{"root named root, declaration and spaces", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<root>\n <a>1</a>\n</root>\n", map[string]string{"a": "1"}, ""},
		{"CDATA with markup", "<xml><a><![CDATA[<b>&amp;]]></a></xml>", map[string]string{"a": "<b>&amp;"}, ""},
		{"CDATA split around ]]>", "<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a></xml>", map[string]string{"a": "x]]>y"}, ""},
		{"references", "<xml><a>&lt;&gt;&amp;&quot;&apos;&#20320;&#x597D;</a></xml>", map[string]string{"a": "<>&\"'你好"}, ""},
		{"CR kept as a reference, CR LF read as LF", "<xml><a>l1&#13;\r\nl2\rl3</a></xml>", map[string]string{"a": "l1\r\nl2\nl3"}, ""},
		{"empty and self-closed fields", "<xml><a></a><b/></xml>", map[string]string{"a": "", "b": ""}, ""},
		{"comment", "<xml><!-- c --><a>1<!-- d --></a></xml>", map[string]string{"a": "1"}, ""},
		{"UTF-8 text", "<xml><body>商品</body></xml>", map[string]string{"body": "商品"}, ""},

		{"empty body", "", nil, "EOF"},
		{"DOCTYPE with an external entity", `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>`, nil, "DOCTYPE"},
		{"unknown entity", "<xml><a>&e;</a></xml>", nil, "entity"},
		{"nested field", "<xml><a><b>1</b></a></xml>", nil, "<a> holds an element"},
		{"a field twice", "<xml><a>1</a><a>2</a></xml>", nil, "<a> appears twice"},
		{"cut off", "<xml><return_code><![CDATA[SUCCESS]]></return_code><result_", nil, "EOF"},
		{"text outside fields", "<xml>loose<a>1</a></xml>", nil, "text outside"},
		{"two roots", "<xml><a>1</a></xml><xml></xml>", nil, "more than one root"},
		{"another encoding", `<?xml version="1.0" encoding="GBK"?><xml><a>1</a></xml>`, nil, "GBK"},
		{"HTML page", "<!DOCTYPE html><html><body>502</body></html>", nil, "DOCTYPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readXMLV2([]byte(tt.body))
			if tt.reason != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			client, err := apiv2.Decode([]byte(tt.body))
			require.NoError(t, err)
			assert.Equal(t, client, got, "the client's reader reads the same fields")
		})
	}
}

// TestWriteXMLV2ReadByClient: what the server writes, the client reads
// back exactly, whatever the value holds; a field XML cannot carry is an
// error naming it.
func TestWriteXMLV2ReadByClient(t *testing.T) {
	t.Parallel()
	fields := map[string]string{
		"return_code": "SUCCESS", "empty": "", "markup": `<a href="x">&amp;</a>`, "cdata_end": "x]]>y]]>",
		"crlf": "l1\r\nl2\rl3\n", "cr_in_markup": "<\r>", "unicode": "商品 😀", "tab": "a\tb",
	}
	out, err := writeXMLV2(fields)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(out), "<xml><cdata_end>"), "headless, keys in byte order: %s", out)
	got, err := apiv2.Decode(out)
	require.NoError(t, err)
	assert.Equal(t, fields, got)
	own, err := readXMLV2(out)
	require.NoError(t, err)
	assert.Equal(t, fields, own)

	for _, tt := range []struct{ name, key, value, reason string }{
		{"a control character", "attach", "a\x01b", `field "attach"`},
		{"invalid UTF-8", "attach", "a\xffb", `field "attach"`},
		{"a name with a space", "out trade", "1", `"out trade"`},
		{"an empty name", "", "1", `""`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := writeXMLV2(map[string]string{tt.key: tt.value})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
}

// TestMutualTLSTableMatchesCatalog: the server's mutual-TLS table (every
// secapi path and its explicit list) is exactly the catalog's rows marked
// opts:security, "v2/" stripped; every other APIv2 row is served without
// the merchant certificate.
func TestMutualTLSTableMatchesCatalog(t *testing.T) {
	t.Parallel()
	var listed []string
	security := 0
	for _, e := range catalog.All() {
		if e.API != "v2" {
			assert.False(t, e.Security(), "%s: only APIv2 rows need mutual TLS", e.Path)
			continue
		}
		path := strings.TrimPrefix(e.Path, "v2/")
		if e.Security() {
			security++
		}
		if strings.HasPrefix(path, "secapi/") {
			assert.True(t, e.Security(), "%s: every secapi path needs the certificate, the catalog must mark it", e.Path)
		} else if e.Security() {
			listed = append(listed, path)
		}
		wire := "/" + fillPlaceholders(path, "x")
		assert.Equal(t, e.Security(), needsCertificate(wire), "%s (sent as %s)", e.Path, wire)
	}
	require.Greater(t, security, 40, "the catalog's security rows were not found")
	slices.Sort(listed)
	listed = slices.Compact(listed)
	table := slices.Clone(mutualTLS)
	slices.Sort(table)
	assert.Equal(t, listed, table, "mutualTLS must list exactly the catalog's non-secapi security paths")
	for _, p := range mutualTLS {
		assert.False(t, strings.HasPrefix(p, "/") || strings.HasPrefix(p, "v2/") || strings.HasPrefix(p, "secapi/"),
			"%q: mutualTLS paths are written without / or v2/, and secapi/ needs no entry", p)
	}
	for path, want := range map[string]bool{
		"/secapi/mch/addInstitutionsub": true, // a capital letter, as the real URL has
		"/secapi/anything":              true,
		"/pay/micropay":                 false,
		"/x/secapi/pay/refund":          false,
		"/deposit/consume/x":            false,
	} {
		assert.Equal(t, want, needsCertificate(path), path)
	}
}

// fillPlaceholders replaces each {name} segment of a catalog path with
// value.
func fillPlaceholders(path, value string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = value
		}
	}
	return strings.Join(segs, "/")
}

// clientLiterals returns the string literals of the declaration named
// name (a var or a func) in the non-test files of the client's package
// dir, so that the comparison below covers every path the client lists,
// even those the catalog lacks.
func clientLiterals(t *testing.T, dir, name string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var out []string
	found := false
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		f, err := parser.ParseFile(token.NewFileSet(), file, src, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			var node ast.Node
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == name {
					node = d
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if v, ok := s.(*ast.ValueSpec); ok && slices.ContainsFunc(v.Names, func(n *ast.Ident) bool { return n.Name == name }) {
						node = v
					}
				}
			}
			if node == nil {
				continue
			}
			found = true
			ast.Inspect(node, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					out = append(out, s)
				}
				return true
			})
		}
	}
	require.True(t, found, "%s: no declaration %s; the comparison below needs the client's list", dir, name)
	return out
}

// TestUnsignedMatchesClient: the server's one list of answers WeChat Pay
// does not sign agrees with the client's rules (middleware.Unsigned for
// APIv3, apiv2.Unsigned for APIv2) on every catalog path and every path
// either side lists, with and without a base path. APIv3 edge cases (an
// escaped "/", the image upload in another case, a path that merely ends
// like a download) are read differently on purpose: the server decides on
// the decoded path, generously, the client on the escaped one, strictly.
// There the client may refuse an answer the server left unsigned, but
// never skips the check of one the server signs.
func TestUnsignedMatchesClient(t *testing.T) {
	t.Parallel()
	const id = "ChsyMDAw%2BMTEw%3D%3D" // an escaped media id, one segment
	v3 := map[string]bool{}
	v2 := map[string]bool{}
	for _, e := range catalog.All() {
		if path, ok := strings.CutPrefix(e.Path, "v2/"); ok {
			v2["/"+fillPlaceholders(path, "x")] = true
			continue
		}
		v3["/"+fillPlaceholders(e.Path, id)] = true
	}
	own3, own2 := 0, 0
	for _, p := range unsignedPaths {
		if path, ok := strings.CutPrefix(p, "v2/"); ok {
			own2++
			assert.True(t, apiv2.Unsigned(path), "%s: the fake lists it, apiv2.Unsigned does not", p)
			v2["/"+path] = true
			continue
		}
		own3++
		assert.True(t, middleware.Unsigned("/"+fillPlaceholders(p, id)), "%s: the fake lists it, middleware.Unsigned does not", p)
		v3["/"+fillPlaceholders(p, id)] = true
	}
	require.Equal(t, 6, own3, "the fake lists the APIv3 downloads of protocol.md section 2")
	require.Equal(t, 25, own2, "the fake lists the APIv2 answers of protocol.md section 8 and the comment download")

	for _, lit := range clientLiterals(t, "../middleware", "Unsigned") {
		if strings.HasPrefix(lit, "/v3/") {
			v3[lit] = true
			v3[lit+"x"] = true
			v3[lit+id] = true
		}
	}
	for p := range v3 {
		v3["/hk"+p] = true
	}
	for _, lit := range clientLiterals(t, "../apiv2", "unsigned") {
		v2[lit] = true
	}
	for p := range v2 {
		v2[strings.TrimPrefix(p, "/")] = true
		v2["/x"+p] = true
		v2["/hk"+p] = true
	}

	// Each path as sent (escaped); the server reads it decoded.
	check := func(p string) (server, client bool) {
		dec, err := url.PathUnescape(p)
		require.NoError(t, err, p)
		server, client = unsignedV3(dec), middleware.Unsigned(p)
		assert.False(t, client && !server, "APIv3 %s: the client would skip the check of an answer the server signs", p)
		return server, client
	}
	for p := range v3 {
		server, client := check(p)
		assert.Equal(t, client, server, "APIv3 %s: the fake and middleware.Unsigned disagree", p)
	}
	for _, tt := range []struct {
		path           string
		server, client bool
	}{
		{"/hk/v3/billdownload/file", true, true},
		{"/x/v3/billdownload/file", true, true},
		{"/v3/billdownload/file/extra", false, false},
		{"/v3/billdownload", false, false},
		{"/v3/x/v3/billdownload/file", true, false},    // the server reads the end of the path
		{"/a%2Fv3/x/v3/billdownload/file", true, true}, // decoding moves the first /v3/
		{"/v3/merchant-service/images/upload", false, false},
		{"/v3/merchant-service/images/%75pload", false, false},
		{"/v3/merchant-service/images/UPLOAD", true, false}, // the client refuses the upload in any case
		{"/v3/global/merchant-service/images/Upload", true, false},
		{"/v3/merchant-service/images/", false, false},
		{"/v3/merchant-service/images/a%2Fb", true, true},  // a base64 id holding "/"
		{"/v3/merchant-service/images/a/b", true, false},   // the client takes one segment as sent
		{"/v3/merchant-service/images%2Fabc", true, false}, // a value's "/" never makes an image for the client
		{"/v3/merchant-service/" + id, false, false},
		{"/hk/v3/global/merchant-service/images/" + id, true, true},
	} {
		server, client := check(tt.path)
		assert.Equal(t, tt.server, server, "the fake on %s", tt.path)
		assert.Equal(t, tt.client, client, "middleware.Unsigned on %s", tt.path)
	}
	for p := range v2 {
		assert.Equal(t, apiv2.Unsigned(p), unsignedV2(p), "APIv2 %s: the fake and apiv2.Unsigned disagree", p)
	}
}

// TestUnsignedPathsCleaned: the list is written as the catalog writes
// paths, once each, so that the comparison above means what it says.
func TestUnsignedPathsCleaned(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, p := range unsignedPaths {
		assert.False(t, seen[p], "%s listed twice", p)
		seen[p] = true
		assert.True(t, strings.HasPrefix(p, "v2/") || strings.HasPrefix(p, "v3/"), "%s: start with v2/ or v3/", p)
		u, err := url.Parse(p)
		require.NoError(t, err)
		assert.Equal(t, p, u.Path, "%s: a path, without query or escapes", p)
	}
}

// TestDocumentedTableMatchesCatalog: the server's table of documented
// operations (endpoints_gen.go) is exactly the catalog's method and path
// rows, in the catalog's order.
func TestDocumentedTableMatchesCatalog(t *testing.T) {
	t.Parallel()
	var want []endpoint
	for _, e := range catalog.All() {
		want = append(want, endpoint{e.Method, e.Path})
	}
	require.Greater(t, len(want), 1000, "the catalog's rows were not found")
	assert.Equal(t, want, documented, "run go generate ./... (go run ./internal/endpointgen)")
}

// TestUndocumentedHint: what the 404 says before it suggests Handle, for a
// path relative to the base path as the server's router sees it; APIv2
// paths come without "v2/" and are named as the catalog names them.
func TestUndocumentedHint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ method, path, want string }{
		{"POST", "/v3/pay/transaction/native", "not a documented endpoint; did you mean POST v3/pay/transactions/native?"},
		{"GET", "/v3/pay/transactions/native", "v3/pay/transactions/native is documented as POST, not GET"},
		{"GET", "/v3/nowhere", "not a documented endpoint"},
		{"GET", "/v3/pay/transactions/id/4200000001", ""},
		{"PATCH", "/v3/pay/transactions/id/4200000001", "v3/pay/transactions/id/{transaction_id} is documented as GET, not PATCH"},
		{"POST", "/pay/micropy", "not a documented endpoint; did you mean POST v2/pay/micropay?"},
		{"POST", "/pay/orderquerry", "not a documented endpoint; did you mean POST v2/pay/orderquery?"},
		{"GET", "/pay/micropay", "v2/pay/micropay is documented as POST, not GET"},
		{"POST", "/pay/micropay", ""},
		{"POST", "/secapi/mch/addInstitutionsub", ""},
	} {
		assert.Equal(t, tt.want, undocumented(tt.method, tt.path), "%s %s", tt.method, tt.path)
	}
	// Every documented operation, with values for its placeholders, is
	// documented; with another method it names a path that matches it.
	for _, e := range catalog.All() {
		path := "/" + strings.TrimPrefix(fillPlaceholders(e.Path, "x1"), "v2/")
		assert.Empty(t, undocumented(e.Method, path), "%s %s", e.Method, e.Path)
		hint := undocumented("TRACE", path)
		if !assert.True(t, strings.HasSuffix(hint, ", not TRACE"), "%s: %s", e.Path, hint) {
			continue
		}
		named := strings.Fields(hint)[0]
		assert.True(t, slices.ContainsFunc(catalog.Match(fillPlaceholders(e.Path, "x1")), func(m catalog.Endpoint) bool { return m.Path == named }),
			"%s: the hint names %s, which does not match it", e.Path, named)
	}
}

// TestUndocumentedHintAgreesWithCatalog: on a typo of every documented
// path (a letter dropped; every 8th row, as each costs a pass over the
// catalog), the server names the path the catalog's Nearest names, with
// the methods its Get lists, as the client's hint does.
func TestUndocumentedHintAgreesWithCatalog(t *testing.T) {
	t.Parallel()
	checked := 0
	for i, e := range catalog.All() {
		if i%8 != 0 {
			continue
		}
		typo := e.Path[:len(e.Path)-2] + e.Path[len(e.Path)-1:]
		if len(catalog.Match(typo)) > 0 {
			continue
		}
		want := "not a documented endpoint"
		if near := catalog.Nearest(typo, 1); len(near) > 0 {
			var methods []string
			for _, g := range catalog.Get(near[0]) {
				methods = append(methods, g.Method)
			}
			want += "; did you mean " + strings.Join(methods, "/") + " " + near[0] + "?"
		}
		checked++
		assert.Equal(t, want, undocumented("POST", "/"+strings.TrimPrefix(typo, "v2/")), typo)
	}
	require.Greater(t, checked, 80, "typos of the catalog's paths were not checked")
}
