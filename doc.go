// Package wechatpay calls any WeChat Pay API in the chainable style of
// wechatpay-php: a Builder turns segment chains, string paths and map-style
// lookups into signed HTTP requests and verifies every response.
//
//	b, err := wechatpay.NewBuilder(wechatpay.Config{MchID: ..., Serial: ..., PrivateKey: ..., Certs: ...})
//	resp, err := b.V3().Pay().Transactions().Native().Post(ctx, wechatpay.Options{JSON: order})
//	resp, err := b.Chain("v3/pay/transactions/out-trade-no/{out_trade_no}").Get(ctx, wechatpay.Options{
//		Path:  map[string]string{"out_trade_no": no},
//		Query: url.Values{"mchid": {mchID}},
//	})
//	c, ok := b.Lookup("v3/refund/domestic/refunds")
//	f := c.PostAsync(ctx, wechatpay.Options{JSON: refund})
//
// Chains that start with v2/ speak APIv2 (XML) on the same Builder.
// Signing and verification are named middleware steps (package middleware)
// that can be replaced or removed per builder or per request; package
// wechatpaytest is a fake WeChat Pay for tests.
package wechatpay
