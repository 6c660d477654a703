// Command quickstart runs the library end to end against the fake WeChat Pay
// server that ships with it: no credentials, no network. It places a Native
// order and queries it in the three call styles (segment chain, string path,
// map-style lookup), runs requests async with futures, and shows what an API
// error and a tampered response look like.
//
//	go run ./_examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	fmt.Println("fake WeChat Pay listening at", srv.URL)

	// With real credentials this is wechatpay.Config{MchID, Serial,
	// PrivateKey: LoadPrivateKey("apiclient_key.pem"), Certs: ...}.
	b, err := wechatpay.NewBuilder(srv.Config())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	order := map[string]any{
		"appid":        "wxd678efh567hg6787",
		"mchid":        srv.MchID,
		"description":  "Image形象店-深圳腾大-QQ公仔",
		"out_trade_no": "1217752501201407033233368018",
		"notify_url":   "https://www.weixin.qq.com/wxpay/pay.php",
		"amount":       map[string]any{"total": 100, "currency": "CNY"},
	}

	// 1. Segment chain: one method per documented segment.
	resp, err := b.V3().Pay().Transactions().Native().Post(ctx, wechatpay.Options{JSON: order})
	if err != nil {
		return err
	}
	fmt.Printf("segment chain  POST v3/pay/transactions/native -> %d code_url=%s\n", resp.StatusCode(), resp.Get("code_url"))

	// 2. String path with a placeholder.
	resp, err = b.Chain("v3/pay/transactions/out-trade-no/{out_trade_no}").Get(ctx, wechatpay.Options{
		Path:  map[string]string{"out_trade_no": "1217752501201407033233368018"},
		Query: url.Values{"mchid": {srv.MchID}},
	})
	if err != nil {
		return err
	}
	last, _ := srv.LastRequest()
	fmt.Printf("string path    GET  %s -> %d trade_state=%s\n", last.RequestURI, resp.StatusCode(), resp.Get("trade_state"))

	// 3. Map-style lookup of a documented path, with its catalog entry.
	query, ok := b.Lookup("v3/pay/transactions/out-trade-no/{out_trade_no}")
	if !ok {
		return errors.New("the catalog does not document the order query")
	}
	resp, err = query.Get(ctx, wechatpay.Options{
		Path:  map[string]string{"out_trade_no": "1217752501201407033233368018"},
		Query: url.Values{"mchid": {srv.MchID}},
	})
	if err != nil {
		return err
	}
	fmt.Printf("lookup         %s (%s) -> %d amount.total=%d\n", query.Path(), query.Endpoints()[0].Title, resp.StatusCode(), resp.Get("amount.total").Int())

	// Async: two requests in flight at once, one continued with Then.
	native := b.Chain("v3/pay/transactions/native").PostAsync(ctx, wechatpay.Options{JSON: order})
	refund := b.Chain("v3/refund/domestic/refunds").PostAsync(ctx, wechatpay.Options{JSON: map[string]any{
		"out_trade_no": "1217752501201407033233368018", "out_refund_no": "R20261128001",
		"amount": map[string]any{"refund": 100, "total": 100, "currency": "CNY"},
	}}).Then(func(r *wechatpay.Response) (*wechatpay.Response, error) {
		fmt.Printf("async Then     refund %s is %s\n", r.Get("out_refund_no"), r.Get("status"))
		return r, nil
	})
	all, err := wechatpay.WaitAll(native, refund)
	if err != nil {
		return err
	}
	fmt.Printf("async WaitAll  %d responses, code_url=%s refund_id=%s\n", len(all), all[0].Get("code_url"), all[1].Get("refund_id"))

	// An incomplete order: WeChat answers 400 PARAM_ERROR, returned as *APIError.
	_, err = b.V3().Pay().Transactions().Jsapi().Post(ctx, wechatpay.Options{JSON: map[string]any{"mchid": srv.MchID}})
	var apiErr *wechatpay.APIError
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("expected an API error, got %v", err)
	}
	fmt.Printf("API error      %d %s: %s (Request-ID %s)\n", apiErr.StatusCode, apiErr.Code, apiErr.Message, apiErr.RequestID)

	// A tampered response fails verification and is never returned as data.
	srv.SetFault(wechatpaytest.TamperedBody)
	_, err = b.Chain("v3/pay/transactions/native").Post(ctx, wechatpay.Options{JSON: order})
	if !errors.Is(err, wechatpay.ErrVerification) {
		return fmt.Errorf("expected a verification error, got %v", err)
	}
	fmt.Println("tampered body ", err)

	fmt.Printf("the fake server checked %d request signatures; all requests accepted: %v\n", len(srv.Requests()), allAccepted(srv))
	return nil
}

func allAccepted(srv *wechatpaytest.Server) bool {
	for _, r := range srv.Requests() {
		if r.Rejected != "" {
			return false
		}
	}
	return true
}
