package wechatpaytest_test

import (
	"context"
	"fmt"
	"net/http"

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
