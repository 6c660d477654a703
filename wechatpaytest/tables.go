package wechatpaytest

import (
	"slices"
	"strings"

	"github.com/wechatpay-chain/wechatpay/internal/didyoumean"
)

//go:generate go run ../internal/endpointgen -o endpoints_gen.go

// The server's own tables of WeChat Pay's rules. They are written here
// rather than taken from the client's packages (catalog, apiv2,
// middleware), so that a test against the server proves what goes on the
// wire and not the client's agreement with itself; knowledge_test.go
// compares them with the client's copies, so that neither drifts
// unnoticed.

// mutualTLS lists the APIv2 paths outside secapi/ on which WeChat Pay asks
// for the merchant API certificate (mutual TLS); every secapi/ path asks
// for it too. Paths are relative to the base URL, without "/" or "v2/",
// as the catalog writes them after "v2/".
var mutualTLS = []string{
	"applyment/micro/getstate",
	"applyment/micro/getupgradestate",
	"applyment/micro/modifyarchives",
	"applyment/micro/modifycontactinfo",
	"applyment/micro/signcontract",
	"applyment/micro/submit",
	"applyment/micro/submitupgrade",
	"billcommentsp/batchquerycomment",
	"deposit/consume",
	"deposit/refund",
	"deposit/reverse",
	"fund/queryautowithdrawbydate",
	"fund/reautowithdrawbydate",
	"mchrisk/querymchrisk",
	"mchrisk/syncmchriskresult",
	"mmpaymkttransfers/gethbinfo",
	"mmpaymkttransfers/gettransferinfo",
	"mmpaymkttransfers/promotion/paywwsptrans2pocket",
	"mmpaymkttransfers/promotion/transfers",
	"mmpaymkttransfers/send_coupon",
	"mmpaymkttransfers/sendgroupredpack",
	"mmpaymkttransfers/sendminiprogramhb",
	"mmpaymkttransfers/sendredpack",
	"mmpaymkttransfers/sendworkwxredpack",
	"mmpaysptrans/pay_bank",
	"mmpaysptrans/query_bank",
	"pay/downloadfundflow",
	"risk/getpublickey",
	"risk/getviolation",
	"wxv/cancelbill",
	"wxv/changerentmoney",
	"wxv/createhotelbill",
	"wxv/createrentbill",
	"wxv/finishhotelbill",
	"wxv/finishrentbill",
	"wxv/queryhotelbill",
	"wxv/queryrentbill",
}

// needsCertificate reports whether WeChat Pay asks for the merchant
// certificate on the APIv2 path ("/secapi/pay/refund", relative to the
// base path): every path whose first segment is secapi, and mutualTLS.
func needsCertificate(path string) bool {
	p := strings.TrimPrefix(path, "/")
	return strings.HasPrefix(p, "secapi/") || slices.Contains(mutualTLS, p)
}

// unsignedPaths are the endpoints whose answers WeChat Pay does not sign,
// APIv3 and APIv2 alike, as its documentation and the official SDKs list
// them: the APIv3 downloads (bills, fapiao, transfer vouchers and sign
// files, complaint images) and the APIv2 red packets, transfers, bill
// downloads and the others, plus the comment download, documented to
// answer a text table. Paths are written as the catalog writes them:
// "v2/" marks an APIv2 path (not part of its URL); "{media_id}" is one
// path segment.
var unsignedPaths = []string{
	"v3/billdownload/file",
	"v3/new-tax-control-fapiao/download",
	"v3/transferdownload/elecvoucherfile",
	"v3/transferdownload/signfile",
	"v3/merchant-service/images/{media_id}",
	"v3/global/merchant-service/images/{media_id}",

	"v2/mchrisk/querymchrisk",
	"v2/mchrisk/setmchriskcallback",
	"v2/mchrisk/syncmchriskresult",
	"v2/mmpaymkttransfers/gethbinfo",
	"v2/mmpaymkttransfers/gettransferinfo",
	"v2/mmpaymkttransfers/pay_bank",
	"v2/mmpaymkttransfers/promotion/paywwsptrans2pocket",
	"v2/mmpaymkttransfers/promotion/querywwsptrans2pocket",
	"v2/mmpaymkttransfers/promotion/transfers",
	"v2/mmpaymkttransfers/query_bank",
	"v2/mmpaymkttransfers/sendgroupredpack",
	"v2/mmpaymkttransfers/sendminiprogramhb",
	"v2/mmpaymkttransfers/sendredpack",
	"v2/papay/entrustweb",
	"v2/papay/h5entrustweb",
	"v2/papay/partner/entrustweb",
	"v2/papay/partner/h5entrustweb",
	"v2/pay/downloadbill",
	"v2/pay/downloadfundflow",
	"v2/payitil/report",
	"v2/risk/getpublickey",
	"v2/risk/getviolation",
	"v2/secapi/mch/submchmanage",
	"v2/xdc/apiv2getsignkey/sign/getsignkey",
	"v2/billcommentsp/batchquerycomment",
}

// unsignedV3 reports whether WeChat Pay answers the APIv3 request path
// without a signature. path is the decoded path, as the server's router
// sees it (URL.Path), any base path such as /hk/ included. The reading is
// generous, as a router that decodes and matches the end of a path would
// be: a listed download at the end of the path, or a media id (any rest
// but "upload", which is the signed upload) after the images prefix, even
// where "/" came from a value's %2F. The client decides more strictly, on
// the escaped path; where the two differ the server leaves an answer
// unsigned that the client must then refuse, never the reverse.
func unsignedV3(path string) bool {
	for _, p := range unsignedPaths {
		if !strings.HasPrefix(p, "v3/") {
			continue
		}
		if i := strings.LastIndex(p, "/{"); i >= 0 && strings.HasSuffix(p, "}") {
			if _, id, ok := strings.Cut(path, "/"+p[:i+1]); ok && id != "" && id != "upload" {
				return true
			}
		} else if strings.HasSuffix(path, "/"+p) {
			return true
		}
	}
	return false
}

// unsignedV2 reports whether WeChat Pay answers the APIv2 path (relative to
// the base path, with or without its leading "/") without a sign. The path
// must be one of the list exactly.
func unsignedV2(path string) bool {
	path = strings.TrimPrefix(path, "/")
	for _, p := range unsignedPaths {
		if rest, ok := strings.CutPrefix(p, "v2/"); ok && rest == path {
			return true
		}
	}
	return false
}

// endpoint is one documented operation of the table documented
// (endpoints_gen.go, generated from the catalog).
type endpoint struct{ method, path string }

// undocumented says what WeChat Pay documents when method and path (the
// request's path relative to the base path, as the router sees it) are not
// one of its operations, in the client's words: the nearest documented
// path, or the methods the path is documented with; "" when documented.
// APIv2 paths come without "v2/" and are named as the catalog names them,
// with it. A segment {name} of a documented path matches any one segment;
// where several documented paths match, those with the most literal
// segments count, a path written exactly as documented first.
func undocumented(method, path string) string {
	key := strings.TrimPrefix(path, "/")
	if !strings.HasPrefix(key, "v3/") {
		key = "v2/" + key
	}
	var matched []endpoint
	best := -1
	exact := false
	for _, e := range documented {
		literals, ok := matchPath(e.path, key)
		switch {
		case !ok || exact && e.path != key:
		case e.path == key && !exact:
			exact, matched = true, []endpoint{e}
		case exact || literals == best:
			matched = append(matched, e)
		case literals > best:
			best, matched = literals, []endpoint{e}
		}
	}
	if len(matched) == 0 {
		near := nearestPath(key)
		var methods []string
		for _, e := range documented {
			if e.path == near && !slices.Contains(methods, e.method) {
				methods = append(methods, e.method)
			}
		}
		return didyoumean.NotDocumented(near, methods)
	}
	var methods []string
	for _, e := range matched {
		if e.method == method {
			return ""
		}
		if !slices.Contains(methods, e.method) {
			methods = append(methods, e.method)
		}
	}
	return didyoumean.WrongMethod(matched[0].path, methods, method)
}

// matchPath reports whether path matches the documented template, and how
// many of its segments are literal.
func matchPath(template, path string) (literals int, ok bool) {
	for {
		t, tRest, tMore := strings.Cut(template, "/")
		p, pRest, pMore := strings.Cut(path, "/")
		switch {
		case t == p:
			literals++
		case len(t) > 2 && t[0] == '{' && t[len(t)-1] == '}' && p != "":
		default:
			return 0, false
		}
		if !tMore || !pMore {
			return literals, tMore == pMore
		}
		template, path = tRest, pRest
	}
}

// nearestPath is the documented path nearest to path by edit distance,
// the first in byte order among equals, or "" when none is near enough to
// be a typo of it (the catalog's rule: at most a third of path's length,
// plus 2).
func nearestPath(path string) string {
	near, best := "", 0
	for _, e := range documented {
		if e.path == near {
			continue
		}
		d := didyoumean.Distance(path, e.path)
		if !didyoumean.Near(path, d) {
			continue
		}
		if near == "" || d < best || d == best && e.path < near {
			near, best = e.path, d
		}
	}
	return near
}
