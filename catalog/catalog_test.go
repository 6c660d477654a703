package catalog_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/catalog"
)

func TestParsedCatalog(t *testing.T) {
	t.Parallel()
	all := catalog.All()
	require.Len(t, all, 1031)
	methods := map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}
	seen := map[string]bool{}
	for _, e := range all {
		assert.True(t, methods[e.Method], "%s: method %q", e.Path, e.Method)
		assert.True(t, e.API == "v2" || e.API == "v3", "%s: api %q", e.Path, e.API)
		assert.True(t, strings.HasPrefix(e.Path, e.API+"/"), "%s starts with its API", e.Path)
		assert.NotEmpty(t, e.Title, e.Path)
		assert.True(t, e.DocURL == "" || strings.HasPrefix(e.DocURL, "https://"), "%s: doc %q", e.Path, e.DocURL)
		assert.True(t, e.BaseURI == "" || strings.HasPrefix(e.BaseURI, "https://") && strings.HasSuffix(e.BaseURI, "/"), e.BaseURI)
		key := e.Method + " " + e.Path
		assert.False(t, seen[key], "duplicate %s", key)
		seen[key] = true
	}

	native := catalog.Get("v3/pay/transactions/native")
	require.Len(t, native, 1)
	assert.Equal(t, "POST", native[0].Method)
	assert.Equal(t, "v3.pay.transactions.native", native[0].PHPChain)
	assert.Equal(t, catalog.DefaultBaseURI, native[0].Host())
	assert.Contains(t, native[0].Params.JSON, "out_trade_no")

	customs := catalog.Get("/v3/customs/orders")
	require.Len(t, customs, 3, "GET, PATCH and POST")
	assert.Equal(t, "https://apihk.mch.weixin.qq.com/global/", customs[0].BaseURI)
	assert.Equal(t, []string{"redesigned"}, customs[0].Flags)
	assert.True(t, customs[0].Has("redesigned"))
	assert.Contains(t, customs[0].String(), "GET v3/customs/orders  报关查询 [redesigned]")

	getstate := catalog.Get("v2/applyment/micro/getstate")
	require.Len(t, getstate, 1)
	assert.True(t, getstate[0].Security())
	assert.Contains(t, getstate[0].Params.XML, "applyment_id")
	assert.Nil(t, catalog.Get("v3/no/such/path"))
}

func TestMatchAndBaseURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, want, host string
	}{
		{"v3/pay/transactions/out-trade-no/N1", "v3/pay/transactions/out-trade-no/{out_trade_no}", ""},
		{"v3/pay/transactions/out-trade-no/{no}/close", "v3/pay/transactions/out-trade-no/{out_trade_no}/close", ""},
		{"v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=1", "v3/pay/transactions/out-trade-no/{out_trade_no}", ""},
		{"v2/secapi/mch/{queryinstitutionsub}", "v2/secapi/mch/{queryinstitutionsub}", ""},
		{"v3/transactions/id/4200000001", "v3/transactions/id/{transaction_id}", "https://api.mch.weixin.qq.com/hk/"},
		{"v3/global/transactions/native", "v3/global/transactions/native", "https://apihk.mch.weixin.qq.com/"},
		{"v2/risk/getpublickey", "v2/risk/getpublickey", "https://fraud.mch.weixin.qq.com/"},
		{"v3/applyment4sub/applyment/", "v3/applyment4sub/applyment/", ""},
		{"v3/applyment4sub/applyment/{empty}", "v3/applyment4sub/applyment/", ""},
		{"v3/ecommerce/applyments/{applyment_id}", "v3/ecommerce/applyments/{applyment_id}", ""},
		{"v3/pay/transactions/{x}", "", ""}, // a placeholder never matches a literal
		{"v3/not/documented", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			got := catalog.Match(tt.path)
			if tt.want == "" {
				assert.Empty(t, got)
			} else if assert.NotEmpty(t, got) {
				assert.Equal(t, tt.want, got[0].Path)
			}
			assert.Equal(t, tt.host, catalog.BaseURI(tt.path))
		})
	}
}

// TestMatchTemplate: the strict lookup that decides behaviour (mutual TLS,
// nonceless) matches a literal only with the same literal and a placeholder
// only with a placeholder, so an undocumented path never borrows the flags
// of a placeholder row.
func TestMatchTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, want string
	}{
		{"v2/secapi/mch/{addinstitutionsub}", "v2/secapi/mch/{addinstitutionsub}"},
		{"v2/secapi/mch/{any_name}", "v2/secapi/mch/{addinstitutionsub}"}, // a placeholder matches a placeholder
		{"v2/secapi/mch/channelsetting", "v2/secapi/mch/channelsetting"},
		{"v2/secapi/mch/newthing", ""},          // not a placeholder row's literal value
		{"v2/secapi/mch/addInstitutionsub", ""}, // written as a literal: no placeholder row
		{"v3/pay/transactions/out-trade-no/{no}/close", "v3/pay/transactions/out-trade-no/{out_trade_no}/close"},
		{"v3/pay/transactions/out-trade-no/N1", ""},
		{"v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=1", "v3/pay/transactions/out-trade-no/{out_trade_no}"},
		{"v3/applyment4sub/applyment/{empty}", "v3/applyment4sub/applyment/"},
		{"v3/not/documented", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			got := catalog.MatchTemplate(tt.path)
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			if assert.NotEmpty(t, got) {
				assert.Equal(t, tt.want, got[0].Path)
			}
		})
	}
	for _, e := range catalog.All() {
		got := catalog.MatchTemplate(e.Path)
		if assert.NotEmpty(t, got, e.Path) {
			assert.Equal(t, e.Path, got[0].Path)
		}
	}
}

// TestEveryPathMatchesItself: no path of the catalog is shadowed by another
// (which would send it to the wrong host).
func TestEveryPathMatchesItself(t *testing.T) {
	t.Parallel()
	for _, e := range catalog.All() {
		got := catalog.Match(e.Path)
		if assert.NotEmpty(t, got, e.Path) {
			assert.Equal(t, e.Path, got[0].Path)
		}
		assert.Equal(t, e.BaseURI, catalog.BaseURI(e.Path), e.Path)
		// The same path with concrete values finds the same host.
		concrete := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(e.Path, "X1")
		assert.Equal(t, e.BaseURI, catalog.BaseURI(concrete), concrete)
	}
}

func TestSearch(t *testing.T) {
	t.Parallel()
	got := catalog.Search("NATIVE 下单")
	require.NotEmpty(t, got)
	for _, e := range got {
		text := strings.ToLower(e.Path + e.Title + e.PHPChain)
		assert.True(t, strings.Contains(text, "native") && strings.Contains(text, "下单"), e.String())
	}
	paths := map[string]bool{}
	for _, e := range got {
		paths[e.Path] = true
	}
	assert.True(t, paths["v3/pay/transactions/native"])
	assert.Len(t, catalog.Search(""), len(catalog.All()))
	assert.Empty(t, catalog.Search("no-such-word-anywhere"))
}

func TestNearest(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "v3/pay/transactions/native", catalog.Nearest("v3/pay/transaction/native", 3)[0])
	assert.Empty(t, catalog.Nearest("completely/unrelated/thing/that/is/long", 3))
	err := &catalog.NotDocumentedError{Path: "v3/pay/transaction/native", Nearest: []string{"v3/pay/transactions/native"}}
	assert.Equal(t, "v3/pay/transaction/native is not a documented WeChat Pay path; did you mean v3/pay/transactions/native? (Builder.Chain sends to any path, documented or not)", err.Error())
}

// TestAllIsTheCallersOwn: editing what All returns does not change the
// catalog (a test that appended rows to it once broke others running in
// parallel).
func TestAllIsTheCallersOwn(t *testing.T) {
	t.Parallel()
	all := catalog.All()
	want := all[0].Path
	all[0].Path = "v3/edited-by-a-caller-7c1e"
	assert.Equal(t, want, catalog.All()[0].Path)
}
