// Command notify runs a merchant's notify_url handler and has the embedded
// fake WeChat Pay call it: a payment notification, the same event delivered
// again (answered without running the merchant's function twice), a GET
// (refused with 405) and a WECHATPAY/SIGNTEST/ probe that must be refused.
// Why a notification was refused goes to the log, not to the caller.
//
//	go run ./_examples/notify
package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "notify:", err)
		os.Exit(1)
	}
}

func run() error {
	wechat := wechatpaytest.NewServer()
	defer wechat.Close()
	b, err := wechatpay.NewBuilder(wechat.Config())
	if err != nil {
		return err
	}

	// The merchant's side: verify, decrypt, and do each event's work once.
	parser, err := notify.NewParser(b.PublicKeys(), wechat.APIv3Key)
	if err != nil {
		return err
	}
	var calls atomic.Int32
	handler := parser.Handler(func(ctx context.Context, n *notify.Notification) error {
		calls.Add(1)
		var tx struct {
			OutTradeNo string `json:"out_trade_no"`
			TradeState string `json:"trade_state"`
			Amount     struct {
				Total int `json:"total"`
			} `json:"amount"`
		}
		if err := n.Decode(&tx); err != nil {
			return err
		}
		fmt.Printf("merchant: %s %s: order %s is %s, %d fen\n", n.ID, n.EventType, tx.OutTradeNo, tx.TradeState, tx.Amount.Total)
		return nil
	})
	// The details the answers leave out (a key id, the clock offset, the
	// function's error) go here; a fleet would also set handler.Deduper to
	// a store its instances share.
	handler.Logger = slog.New(slog.NewTextHandler(os.Stdout, nil))
	merchant := httptest.NewServer(handler)
	defer merchant.Close()

	// WeChat Pay's side.
	ctx := context.Background()
	header, body, err := wechat.Notification("TRANSACTION.SUCCESS", map[string]any{
		"out_trade_no": "1217752501201407033233368018", "transaction_id": "4200000001", "trade_state": "SUCCESS",
		"amount": map[string]any{"total": 100, "currency": "CNY"},
	}, wechatpaytest.NoFault)
	if err != nil {
		return err
	}
	for i := range 2 { // WeChat may deliver the same event twice
		if err := deliver(ctx, merchant.URL, header, body, fmt.Sprintf("delivery %d", i+1)); err != nil {
			return err
		}
	}
	if n := calls.Load(); n != 1 {
		return fmt.Errorf("the merchant's function ran %d times for one event, expected once", n)
	}
	fmt.Println("merchant: the repeat was acknowledged without running the function again")

	get, err := http.Get(merchant.URL)
	if err != nil {
		return err
	}
	get.Body.Close()
	fmt.Printf("someone: GET -> %s (Allow: %s)\n", get.Status, get.Header.Get("Allow"))
	if get.StatusCode != http.StatusMethodNotAllowed {
		return fmt.Errorf("a GET was answered %s, expected 405", get.Status)
	}

	resp, err := wechat.Notify(ctx, nil, merchant.URL, "TRANSACTION.SUCCESS", map[string]string{"out_trade_no": "X"}, wechatpaytest.SignTest)
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Printf("wechat: SIGNTEST probe -> %s\n", resp.Status)
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("the probe was answered %s, expected 401", resp.Status)
	}
	return nil
}

// deliver posts a notification as WeChat Pay does and expects 204.
func deliver(ctx context.Context, url string, header http.Header, body []byte, what string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Printf("wechat: %s -> %s\n", what, resp.Status)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%s was answered %s", what, resp.Status)
	}
	return nil
}
