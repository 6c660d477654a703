package wechatpay_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestErrorCodeAndMessage: one errors.As with an ErrorCode/ErrorMessage
// interface handles the errors of both APIs, with the code a caller acts
// on and WeChat's explanation of it.
func TestErrorCodeAndMessage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("POST /v3/refund/domestic/refunds", func(w http.ResponseWriter, _ *http.Request) {
		wechatpaytest.Error(w, 403, "NOT_ENOUGH", "基本账户余额不足")
	})
	srv.HandleV2("/pay/micropay", func(map[string]string) map[string]string {
		return map[string]string{"result_code": "FAIL", "err_code": "USERPAYING", "err_code_des": "需要用户输入支付密码"}
	})
	srv.HandleV2("/pay/orderquery", func(map[string]string) map[string]string {
		return map[string]string{"return_code": "FAIL", "return_msg": "参数格式校验错误"}
	})
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	order := wechatpay.Options{XML: map[string]string{"out_trade_no": "T-ERROR-CODE-1"}}
	for _, tc := range []struct {
		name          string
		call          func() error
		code, message string
	}{
		{"APIv3 error JSON", func() error {
			_, err := b.V3().Refund().Domestic().Refunds().Post(ctx, wechatpay.Options{JSON: map[string]string{"out_refund_no": "R1"}})
			return err
		}, "NOT_ENOUGH", "基本账户余额不足"},
		{"APIv2 business failure", func() error {
			_, err := b.V2().Pay().Micropay().Post(ctx, order)
			return err
		}, "USERPAYING", "需要用户输入支付密码"},
		{"APIv2 request failure", func() error {
			_, err := b.V2().Pay().Orderquery().Post(ctx, order)
			return err
		}, "FAIL", "参数格式校验错误"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var coded interface {
				ErrorCode() string
				ErrorMessage() string
			}
			err := tc.call()
			require.True(t, errors.As(err, &coded), "%v", err)
			assert.Equal(t, tc.code, coded.ErrorCode())
			assert.Equal(t, tc.message, coded.ErrorMessage())
			assert.True(t, strings.Contains(err.Error(), tc.code), "the message names the code: %v", err)
		})
	}
	var nilAPI *wechatpay.APIError
	var nilV2 *wechatpay.V2Error
	assert.Empty(t, nilAPI.ErrorCode()+nilAPI.ErrorMessage()+nilV2.ErrorCode()+nilV2.ErrorMessage())
}
