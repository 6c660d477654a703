package catalog_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/catalog"
)

// TestDocumentedOperationsAreCatalogued: operations the official
// documentation has, with their host, mutual-TLS flag and link.
func TestDocumentedOperationsAreCatalogued(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path, host string
		security           bool
		docURL             string
		params             []string // some documented parameters
	}{
		{"GET", "v3/pay/transactions/id/{transaction_id}", catalog.DefaultBaseURI, false,
			"https://pay.weixin.qq.com/doc/v3/merchant/4012791858", []string{"transaction_id", "mchid"}},
		{"POST", "v3/marketing/favor/media/image-upload", catalog.DefaultBaseURI, false,
			"https://pay.weixin.qq.com/doc/v3/merchant/4012557233", []string{"file", "meta"}},
		{"POST", "v2/pay/downloadbill", catalog.DefaultBaseURI, false,
			"https://pay.weixin.qq.com/wiki/doc/api/micropay.php?chapter=9_6", []string{"bill_date", "bill_type", "tar_type"}},
		{"POST", "v2/secapi/pay/refund", catalog.DefaultBaseURI, true,
			"https://pay.weixin.qq.com/doc/v2/merchant/4011937624", []string{"out_refund_no", "total_fee", "refund_fee"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			var found *catalog.Endpoint
			for _, e := range catalog.Get(tt.path) {
				if e.Method == tt.method {
					found = &e
				}
			}
			require.NotNil(t, found, "not in the catalog")
			assert.Equal(t, tt.path, found.Path)
			assert.Equal(t, tt.host, found.Host())
			assert.Equal(t, tt.security, found.Security())
			assert.Equal(t, tt.docURL, found.DocURL)
			p := found.Params
			all := strings.Join(append(append(append(append(p.Path, p.Query...), p.JSON...), p.XML...), p.Body...), ",")
			for _, param := range tt.params {
				assert.Contains(t, strings.Split(all, ","), param)
			}
			assert.NotEmpty(t, found.Title)
			assert.Equal(t, tt.path, catalog.Match(tt.path)[0].Path)
		})
	}
}

// noPage is why a row has no doc_url: the operation is documented by
// wechatpay-php (wechatpay.im, which links no official page for it), and no
// official page for it could be found on pay.weixin.qq.com or among the
// links of the public SDKs.
const noPage = "no official documentation page found"

// undocumented are the rows without a doc_url, and why. Every other row
// must link its official page.
var undocumented = map[string]string{
	"POST v3/global/merchant-service/complaints/{complaint_id}/complete":    noPage,
	"POST v3/global/merchant-service/complaints/{complaint_id}/response":    noPage,
	"POST v3/gov/subsidy/qualifications/passthrough/cancel":                 noPage,
	"POST v3/gov/subsidy/qualifications/passthrough/claim":                  noPage,
	"POST v3/gov/subsidy/qualifications/passthrough/query":                  noPage,
	"GET v3/lovefeast/users/{openid}/orders/brand-id/{brand_id}":            noPage + " (also in the official wechatpay-go, without a link)",
	"GET v3/lovefeast/users/{openid}/orders/out-trade-no/{out_trade_no}":    noPage + " (also in the official wechatpay-go, without a link)",
	"GET v3/marketing/favor/stocks/{stock_id}/refund-flow-by-day":           noPage + " (the row is flagged need-accessment)",
	"GET v3/parking/reminders/application/query":                            noPage + " (its sibling parking/reminders rows link theirs)",
	"POST v3/pay-devices/printers/{device_id}/print-orders":                 noPage,
	"GET v3/pay-devices/printers/{device_id}/print-orders/{print_order_no}": noPage,
	"POST v3/qrcode/transactions":                                           noPage + " (also in the official wechatpay-go, without a link)",
	"GET v3/qrcode/transactions/out-trade-no/{out_trade_no}":                noPage + " (also in the official wechatpay-go, without a link)",
	"GET v3/qrcode/user-services/contract-id/{contract_id}":                 noPage + " (also in the official wechatpay-go, without a link)",
}

// TestEveryRowLinksItsDocumentation: a row without doc_url is one of the
// listed exceptions, and every exception is still a row without one.
func TestEveryRowLinksItsDocumentation(t *testing.T) {
	t.Parallel()
	missing := map[string]bool{}
	for _, e := range catalog.All() {
		key := e.Method + " " + e.Path
		if e.DocURL == "" {
			missing[key] = true
			assert.Contains(t, undocumented, key, "%s has no doc_url and no reason", key)
		} else {
			assert.True(t, strings.HasPrefix(e.DocURL, "https://"), "%s: doc_url %q", key, e.DocURL)
		}
	}
	for key := range undocumented {
		assert.True(t, missing[key], "%s is listed as undocumented but is not a row without doc_url", key)
	}
}
