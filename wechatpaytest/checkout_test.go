package wechatpaytest_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestCheckout is the README's "Testing your integration" test, word for
// word (TestREADMECheckoutIsThisTest checks): it must pass as users read it.
func TestCheckout(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 14, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	sim := wechatpaytest.NewSimulator(wechatpaytest.WithVirtualClock(start))
	defer sim.Close()
	b, err := wechatpay.NewBuilder(sim.Config())
	if err != nil {
		t.Fatal(err)
	}

	// Your notify_url handler, as in production: it verifies and decrypts.
	parser, err := notify.NewParser(b.PublicKeys(), sim.APIv3Key)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan *notify.Notification, 10)
	shop := httptest.NewServer(parser.Handler(func(_ context.Context, n *notify.Notification) error {
		events <- n
		return nil
	}))
	defer shop.Close()

	// 1. Place the order.
	_, err = b.V3().Pay().Transactions().Native().Post(ctx, wechatpay.Options{JSON: map[string]any{
		"appid": "wxd678efh567hg6787", "mchid": sim.MchID, "description": "Image形象店-深圳腾大-QQ公仔",
		"out_trade_no": "T20260314001", "notify_url": shop.URL + "/notify",
		"amount": map[string]any{"total": 1999, "currency": "CNY"},
	}})
	if err != nil {
		t.Fatal(err)
	}

	// 2. The payer pays; Pay returns once the notification was delivered.
	if err := sim.Pay("T20260314001"); err != nil {
		t.Fatal(err)
	}
	n := <-events
	if n.EventType != "TRANSACTION.SUCCESS" || n.Get("amount.total").Int() != 1999 {
		t.Fatalf("notification %s %s", n.EventType, n.Plaintext)
	}

	// 3. Query it, as a job that does not trust notifications alone does.
	order, err := b.Chain("v3/pay/transactions/out-trade-no/{out_trade_no}").Get(ctx, wechatpay.Options{
		Path:  map[string]string{"out_trade_no": "T20260314001"},
		Query: url.Values{"mchid": {sim.MchID}},
	})
	if err != nil || order.Get("trade_state").String() != "SUCCESS" {
		t.Fatal(order, err)
	}

	// 4. Refund part of it; the refund settles a few seconds later.
	_, err = b.V3().Refund().Domestic().Refunds().Post(ctx, wechatpay.Options{JSON: map[string]any{
		"out_trade_no": "T20260314001", "out_refund_no": "R20260314001", "notify_url": shop.URL + "/notify",
		"amount": map[string]any{"refund": 500, "total": 1999, "currency": "CNY"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sim.Advance(time.Minute)
	if n := <-events; n.EventType != "REFUND.SUCCESS" || n.Get("amount.refund").Int() != 500 {
		t.Fatalf("notification %s %s", n.EventType, n.Plaintext)
	}

	// 5. Reconcile: the next morning, download the day's trade bill.
	sim.Advance(24 * time.Hour)
	resp, err := b.V3().Bill().Tradebill().Get(ctx, wechatpay.Options{Query: url.Values{"bill_date": {"2026-03-14"}}})
	if err != nil {
		t.Fatal(err)
	}
	var bill wechatpay.Bill
	if err := resp.Decode(&bill); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tradebill.csv")
	if err := b.DownloadBill(ctx, bill, path); err != nil {
		t.Fatal(err)
	}
	csv, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"`T20260314001", "`R20260314001", "`19.99", "`5.00"} {
		if !bytes.Contains(csv, []byte(want)) {
			t.Errorf("the bill has no %s:\n%s", want, csv)
		}
	}
}
