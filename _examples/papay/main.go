// Command papay is the WeChat Pay documentation's PHP page for JSAPI
// pre-entrust-sign (POST v3/global/papay/contracts/jsapi-pre-entrust-sign on
// https://apihk.mch.weixin.qq.com/) in Go: its six samples (segment chain,
// string path and $instance['...'] lookup, each sync and async with
// Then/Otherwise/Wait), then a failure that Otherwise handles, all against
// the fake WeChat Pay that ships with the library. No credentials, no
// network: the fake answers for every host, and each line says which host
// the request went to.
//
//	go run ./_examples/papay
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "papay:", err)
		os.Exit(1)
	}
}

const (
	path  = "v3/global/papay/contracts/jsapi-pre-entrust-sign"
	apihk = "apihk.mch.weixin.qq.com"
)

func run() error {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	// The fake's answer: the signing URL the user's WeChat opens.
	srv.Handle("POST /"+path, func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PlanID          int    `json:"plan_id"`
			OutContractCode string `json:"out_contract_code"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.PlanID == 0 || req.OutContractCode == "" {
			wechatpaytest.Error(w, http.StatusBadRequest, "PARAM_ERROR", "plan_id and out_contract_code are required")
			return
		}
		wechatpaytest.JSON(w, http.StatusOK, map[string]string{
			"redirect_url": "https://payapp.weixin.qq.com/papay/entrustweb?contract=" + req.OutContractCode,
		})
	})

	// With real credentials this is wechatpay.Config{MchID, Serial,
	// PrivateKey, Certs}. No BaseURL: the catalog sends v3/global/* to
	// apihk, as the PHP page's base_uri does.
	b, err := wechatpay.NewBuilder(srv.Config())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := b.Chain(path).URL()
	if err != nil {
		return err
	}
	fmt.Println("Chain.URL:", u)

	// PHP: ['json' => [...], 'base_uri' => 'https://apihk.mch.weixin.qq.com/']
	opts := func(contract string) wechatpay.Options {
		return wechatpay.Options{JSON: map[string]any{
			"appid":              "wxcbda96de0b165486",
			"plan_id":            123,
			"out_contract_code":  contract,
			"user_display_name":  "Zhang San",
			"success_notify_url": "https://merchant.example.com/papay/notify",
			"openid":             "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		}}
	}
	show := func(n int, style string, resp *wechatpay.Response, err error) error {
		if err != nil {
			return fmt.Errorf("%d %s: %w", n, style, err)
		}
		last, _ := srv.LastRequest()
		if last.Host != apihk {
			return fmt.Errorf("%d %s went to %s, not %s", n, style, last.Host, apihk)
		}
		fmt.Printf("%d %-13s POST %s -> %d redirect_url=%s (sent to %s)\n",
			n, style, last.RequestURI, resp.StatusCode(), resp.Get("redirect_url"), last.Host)
		return nil
	}
	// The PHP samples' ->then(...)->otherwise(...)->wait().
	then := func(r *wechatpay.Response) (*wechatpay.Response, error) { return r, nil }
	otherwise := func(err error) (*wechatpay.Response, error) {
		fmt.Println("  otherwise:", err)
		return nil, err
	}

	// 1. Segment chain, sync: $instance->v3->global->papay->contracts->jsapiPreEntrustSign->post([...])
	resp, err := b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(ctx, opts("C1"))
	if err := show(1, "chain", resp, err); err != nil {
		return err
	}
	// 2. Segment chain, async: ...->postAsync([...])->then(...)->otherwise(...)->wait()
	resp, err = b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().PostAsync(ctx, opts("C2")).
		Then(then).Otherwise(otherwise).Wait()
	if err := show(2, "chain async", resp, err); err != nil {
		return err
	}
	// 3. String path, sync: $instance->chain('v3/global/...')->post([...]). This
	// one passes BaseURL as the PHP page passes base_uri: the same host.
	withBase := opts("C3")
	withBase.BaseURL = "https://apihk.mch.weixin.qq.com/"
	resp, err = b.Chain(path).Post(ctx, withBase)
	if err := show(3, "string", resp, err); err != nil {
		return err
	}
	// 4. String path, async.
	resp, err = b.Chain(path).PostAsync(ctx, opts("C4")).Then(then).Otherwise(otherwise).Wait()
	if err := show(4, "string async", resp, err); err != nil {
		return err
	}
	// 5. Lookup, sync: $instance['v3/global/papay/contracts/jsapi-pre-entrust-sign']->post([...])
	c, ok := b.Lookup(path)
	if !ok {
		return errors.New("the catalog does not document " + path)
	}
	resp, err = c.Post(ctx, opts("C5"))
	if err := show(5, "lookup", resp, err); err != nil {
		return err
	}
	// 6. Lookup, async.
	resp, err = c.PostAsync(ctx, opts("C6")).Then(then).Otherwise(otherwise).Wait()
	if err := show(6, "lookup async", resp, err); err != nil {
		return err
	}

	// A failure: without out_contract_code the fake answers 400, as WeChat
	// Pay would. Otherwise gets it (PHP's RequestException), reads the
	// *APIError and handles it: Wait then returns no response, no error.
	resp, err = c.PostAsync(ctx, wechatpay.Options{JSON: map[string]any{"plan_id": 123}}).
		Then(func(r *wechatpay.Response) (*wechatpay.Response, error) {
			return nil, errors.New("then ran on a failure")
		}).
		Otherwise(func(err error) (*wechatpay.Response, error) {
			var apiErr *wechatpay.APIError
			if !errors.As(err, &apiErr) {
				return nil, err
			}
			last, _ := srv.LastRequest()
			fmt.Printf("7 otherwise     POST %s -> %d %s: %s (sent to %s), handled\n",
				last.RequestURI, apiErr.StatusCode, apiErr.Code, apiErr.Message, last.Host)
			return nil, nil
		}).Wait()
	if resp != nil || err != nil {
		return fmt.Errorf("7 otherwise: expected the failure handled, got %v, %v", resp, err)
	}

	for _, r := range srv.Requests() {
		if r.Rejected != "" {
			return fmt.Errorf("the fake refused %s %s: %s", r.Method, r.RequestURI, r.Rejected)
		}
	}
	fmt.Printf("the fake checked %d request signatures, all accepted\n", len(srv.Requests()))
	return nil
}
