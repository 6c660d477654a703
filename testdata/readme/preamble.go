// Package readme is the preamble of README.md's Go blocks: the variables
// and functions the README's text assumes without showing them. The test
// TestREADMECompiles (readme_test.go) copies this file into a temporary
// package next to one generated file per block and builds and vets them
// together, so a block that stops compiling fails the test.
//
// Only names a block uses and does not declare belong here. They have
// zero values: the blocks are compiled, not run. Package-level names are
// never "declared and not used", so an unused one here costs nothing.
package readme

import (
	"context"
	"crypto/rsa"
	"net/http"

	"github.com/wechatpay-chain/wechatpay"
)

var (
	ctx  = context.Background()
	b    *wechatpay.Builder  // the Builder made under "Configure"
	resp *wechatpay.Response // an answer from b
	cfg  wechatpay.Config    // a Config before NewBuilder ("Middleware")
	opts wechatpay.Options   // as in "Three ways to write a call"

	order  map[string]any // a request body: an order
	refund map[string]any // a request body: a refund
	tx     struct {       // a decoded transaction ("Responses")
		OutTradeNo string `json:"out_trade_no"`
	}

	mchID    = "1900000001"
	serial   = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
	key      *rsa.PrivateKey // the merchant API private key
	apiv2Key string          // the APIv2 key (Config.Secret)
	apiv3Key string          // the APIv3 key

	field    string // a sensitive field WeChat encrypted for the merchant
	appID    string // the app's or official account's appid
	prepayID string // from a JSAPI or APP order

	// c is a web framework's request context, such as gin's *gin.Context;
	// rawBody is the notification's body exactly as received.
	c       struct{ Request *http.Request }
	rawBody []byte
)

// The reader's own functions the README calls.

// fulfil ships an order once it is paid; it must be idempotent. The
// README passes what each kind of notification has (a context and the
// order number, or the order and transaction numbers): the signature is
// the reader's to choose.
func fulfil(args ...any) error { return nil }

// refunded records a refund's outcome; it must be idempotent.
func refunded(outRefundNo, status string) error { return nil }

// seen reports whether a notification event was handled already.
func seen(eventID string) bool { return false }

// placeOrder is the reader's code under test: it places a Native order
// with b and returns the code_url.
func placeOrder(b *wechatpay.Builder) (string, error) {
	resp, err := b.V3().Pay().Transactions().Native().Post(ctx, wechatpay.Options{JSON: order})
	if err != nil {
		return "", err
	}
	return resp.Get("code_url").String(), nil
}
