package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// A notify_url handler: the Parser verifies and decrypts each notification
// before fn sees it; fn's nil answers WeChat Pay 204, an error makes it
// send the notification again.
func ExampleParser_Handler() {
	srv := wechatpaytest.NewServer() // plays WeChat Pay, which sends the notification
	defer srv.Close()
	b, _ := wechatpay.NewBuilder(srv.Config())
	parser, err := notify.NewParser(b.PublicKeys(), srv.APIv3Key)
	if err != nil {
		fmt.Println(err)
		return
	}
	handler := parser.Handler(func(_ context.Context, n *notify.Notification) error {
		var tx struct {
			OutTradeNo string `json:"out_trade_no"`
			TradeState string `json:"trade_state"`
		}
		if err := json.Unmarshal(n.Plaintext, &tx); err != nil {
			return err
		}
		fmt.Println(n.EventType, tx.OutTradeNo, tx.TradeState)
		return nil
	})
	merchant := httptest.NewServer(handler) // the merchant's notify_url
	defer merchant.Close()

	resp, err := srv.Notify(context.Background(), http.DefaultClient, merchant.URL, "TRANSACTION.SUCCESS",
		map[string]string{"out_trade_no": "1217752501201407033233368018", "trade_state": "SUCCESS"}, wechatpaytest.NoFault)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// TRANSACTION.SUCCESS 1217752501201407033233368018 SUCCESS
	// 204
}
