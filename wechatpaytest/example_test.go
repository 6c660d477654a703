package wechatpaytest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// A test of code that calls WeChat Pay: the fake checks every request's
// signature, signs its answers, answers what the test registers, and
// records what it received.
func ExampleNewServer() {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	srv.Handle("GET /v3/merchant-service/complaints-v2/{complaint_id}", func(w http.ResponseWriter, r *http.Request) {
		wechatpaytest.JSON(w, http.StatusOK, map[string]string{"complaint_id": r.PathValue("complaint_id"), "complaint_state": "PENDING"})
	})
	b, _ := wechatpay.NewBuilder(srv.Config()) // the code under test gets this Builder
	resp, err := b.Chain("v3/merchant-service/complaints-v2/{complaint_id}").Get(context.Background(),
		wechatpay.Options{Path: map[string]string{"complaint_id": "200201820200101080076610000"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Get("complaint_state").String())
	last, _ := srv.LastRequest()
	fmt.Println(last.Method, last.RequestURI, last.Rejected == "")
	// Output:
	// PENDING
	// GET /v3/merchant-service/complaints-v2/200201820200101080076610000 true
}

// The life of an order: placed through the API, paid by the simulated
// payer, notified to the merchant's notify_url (here a handler that
// answers 500 at first, so WeChat Pay's schedule retries it), queried.
func ExampleNewSimulator() {
	start := time.Date(2026, 3, 14, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	sim := wechatpaytest.NewSimulator(wechatpaytest.WithVirtualClock(start))
	defer sim.Close()
	var calls atomic.Int32
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer shop.Close()
	b, _ := wechatpay.NewBuilder(sim.Config())
	ctx := context.Background()
	_, err := b.V3().Pay().Transactions().Native().Post(ctx, wechatpay.Options{JSON: map[string]any{
		"appid": "wxd678efh567hg6787", "mchid": sim.MchID, "description": "QQ公仔",
		"out_trade_no": "T20260314001", "notify_url": shop.URL, "amount": map[string]any{"total": 1999},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = sim.Pay("T20260314001")
	sim.Advance(time.Minute) // the retry 15 s later is accepted
	for _, d := range sim.Notifications()[0].Deliveries {
		fmt.Println(d.Attempt, d.At.Format("15:04:05"), d.Status)
	}
	resp, _ := b.Chain("v3/pay/transactions/out-trade-no/{out_trade_no}").Get(ctx, wechatpay.Options{
		Path: map[string]string{"out_trade_no": "T20260314001"}, Query: url.Values{"mchid": {sim.MchID}}})
	fmt.Println(resp.Get("trade_state").String(), resp.Get("amount.total").Int())
	// Output:
	// 1 10:00:00 500
	// 2 10:00:15 204
	// SUCCESS 1999
}
