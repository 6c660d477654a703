// Package catalog is the list of documented WeChat Pay operations (method,
// path, host, parameters, title and documentation link), embedded from
// endpoints.tsv. The Builder takes hosts from it; people and tools use it
// to find an endpoint:
//
//	for _, e := range catalog.Search("refund query") {
//		fmt.Println(e) // GET v3/refund/domestic/refunds/{out_refund_no}  查询单笔退款（按商户退款单号）
//	}
package catalog
