package wechatpay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// The seed call: a Native order, written as a segment chain, against the
// fake WeChat Pay. A real Builder takes the merchant's credentials instead
// of srv.Config().
func Example() {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	b, err := wechatpay.NewBuilder(srv.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := b.V3().Pay().Transactions().Native().Post(context.Background(), wechatpay.Options{JSON: map[string]any{
		"appid": "wxd678efh567hg6787", "mchid": srv.MchID, "description": "Image形象店-深圳腾大-QQ公仔",
		"out_trade_no": "1217752501201407033233368018", "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
		"amount": map[string]any{"total": 1, "currency": "CNY"},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	codeURL := resp.Get("code_url").String()
	fmt.Println(resp.StatusCode(), strings.HasPrefix(codeURL, "weixin://wxpay/bizpayurl?pr="))
	// Output: 200 true
}

// PostAsync returns at once; Then transforms the answer when it arrives
// and Wait blocks for it, as wechatpay-php's promises do.
func ExampleChain_PostAsync() {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	b, _ := wechatpay.NewBuilder(srv.Config())
	f := b.Chain("v3/pay/transactions/native").PostAsync(context.Background(), wechatpay.Options{JSON: map[string]any{
		"appid": "wxd678efh567hg6787", "mchid": srv.MchID, "description": "async", "out_trade_no": "ASYNC-1",
		"notify_url": "https://www.weixin.qq.com/wxpay/pay.php", "amount": map[string]any{"total": 1},
	}}).Then(func(r *wechatpay.Response) (*wechatpay.Response, error) {
		fmt.Println("answered", r.StatusCode())
		return r, nil
	})
	resp, err := f.Wait()
	fmt.Println(err == nil, resp.Get("code_url").Exists())
	// Output:
	// answered 200
	// true true
}

// Lookup is wechatpay-php's $instance['v3/...']: the chain for a
// documented path, and whether the catalog has it.
func ExampleBuilder_Lookup() {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	b, _ := wechatpay.NewBuilder(srv.Config())
	c, ok := b.Lookup("v3/refund/domestic/refunds/{out_refund_no}")
	fmt.Println(ok, c.Path())
	_, ok = b.Lookup("v3/refund/domestic/refundz")
	fmt.Println(ok)
	// Output:
	// true v3/refund/domestic/refunds/{out_refund_no}
	// false
}

// Value appends an order number as one escaped path segment, never
// renamed by the naming rules.
func ExampleChain_Value() {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	b, _ := wechatpay.NewBuilder(srv.Config())
	u, _ := b.V3().Pay().Transactions().OutTradeNo().Value("N123/45").URL(wechatpay.Options{Query: map[string][]string{"mchid": {srv.MchID}}})
	fmt.Println(u) // the fake's Config routes every WeChat Pay host to it
	// Output: https://api.mch.weixin.qq.com/v3/pay/transactions/out-trade-no/N123%2F45?mchid=1900000001
}

// An answer other than 2xx is an *APIError with WeChat Pay's code and
// message; a 2xx that fails verification matches ErrVerification and is
// never data.
func ExampleAPIError() {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	b, _ := wechatpay.NewBuilder(srv.Config())
	ctx := context.Background()

	// The fake answers as WeChat Pay does when the balance is short.
	srv.Handle("POST /v3/refund/domestic/refunds", func(w http.ResponseWriter, _ *http.Request) {
		wechatpaytest.Error(w, http.StatusForbidden, "NOT_ENOUGH", "基本账户余额不足")
	})
	_, err := b.V3().Refund().Domestic().Refunds().Post(ctx, wechatpay.Options{JSON: map[string]any{"out_refund_no": "R1"}})
	var apiErr *wechatpay.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Message)
	}

	srv.SetFault(wechatpaytest.TamperedBody) // the fake alters the answer after signing it
	_, err = b.Chain("v3/certificates").Get(ctx)
	fmt.Println(errors.Is(err, wechatpay.ErrVerification), errors.Is(err, wechatpay.ErrBadSignature))
	// Output:
	// 403 NOT_ENOUGH 基本账户余额不足
	// true true
}

// Otherwise is wechatpay-php's ->otherwise(): it runs only when the request
// failed, and what it returns is the result. Here a missing order is
// handled, and any other failure passed on.
func ExampleFuture_Otherwise() {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	srv.Handle("GET /v3/refund/domestic/refunds/{out_refund_no}", func(w http.ResponseWriter, _ *http.Request) {
		wechatpaytest.Error(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在")
	})
	b, _ := wechatpay.NewBuilder(srv.Config())
	resp, err := b.V3().Refund().Domestic().Refunds().Seg("_out_refund_no_").GetAsync(context.Background(),
		wechatpay.Options{Path: map[string]string{"out_refund_no": "R-NOT-YET"}}).
		Then(func(r *wechatpay.Response) (*wechatpay.Response, error) {
			fmt.Println("refund state:", r.Get("status").String())
			return r, nil
		}).
		Otherwise(func(err error) (*wechatpay.Response, error) {
			var apiErr *wechatpay.APIError
			if errors.As(err, &apiErr) && apiErr.Code == "RESOURCE_NOT_EXISTS" {
				fmt.Println("no such refund yet")
				return nil, nil // handled
			}
			return nil, err
		}).
		Wait()
	fmt.Println(resp == nil, err)
	// Output:
	// no such refund yet
	// true <nil>
}
