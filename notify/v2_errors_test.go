package notify

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// TestEveryParseV2FailureHasANotifyError: like Parse, ParseV2,
// ParseRefundV2 and DecryptReqInfo fail with an error that matches exactly
// one of notify's four classes (and, for a verification failure, its
// kind), so a handler tells them apart from notify alone. A bad sign used
// to match only apiv2.ErrBadSign, and a refund notification's req_info
// failures matched no error value at all.
func TestEveryParseV2FailureHasANotifyError(t *testing.T) {
	t.Parallel()
	sum := md5.Sum([]byte(secret))
	key := []byte(hex.EncodeToString(sum[:]))
	signed := func(fields map[string]string) []byte {
		fields["sign"] = apiv2.Sign(fields, secret, apiv2.MD5)
		return encode(t, fields)
	}
	good := signed(map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "out_trade_no": "T1"})
	tampered := strings.Replace(string(good), "T1", "T2", 1)
	refund := func(reqInfo string) []byte {
		return encode(t, map[string]string{"return_code": "SUCCESS", "mch_id": "1900000001", "req_info": reqInfo})
	}
	goodRefund := refund(encryptECB(t, []byte("<root><out_refund_no>R1</out_refund_no></root>"), key))
	otherSecret := "0123456789abcdef0123456789abcdef"
	notXML := []byte(`{"return_code":"SUCCESS"}`)
	failed := []byte("<xml><return_code>FAIL</return_code><return_msg>FAIL-MESSAGE-5be0c7</return_msg></xml>")

	parseV2 := func(body []byte, secret string) error { _, err := ParseV2(body, secret); return err }
	parseRefund := func(body []byte, secret string) error { _, err := ParseRefundV2(body, secret); return err }
	decrypt := func(body []byte, secret string) error { _, err := DecryptReqInfo(string(body), secret); return err }

	classes := []error{ErrConfig, ErrVerification, ErrMalformed, ErrDecrypt}
	tests := []struct {
		name   string
		parse  func([]byte, string) error
		body   []byte
		secret string
		want   error // one of classes
		kinds  []error
	}{
		{"ParseV2: a secret of 31 characters", parseV2, good, secret[:31], ErrConfig, nil},
		{"ParseV2: no secret", parseV2, good, "", ErrConfig, nil},
		{"ParseV2: not XML", parseV2, notXML, secret, ErrMalformed, nil},
		{"ParseV2: a DOCTYPE", parseV2, []byte(`<!DOCTYPE x [<!ENTITY e "x">]><xml><a>&e;</a></xml>`), secret, ErrMalformed, nil},
		{"ParseV2: nested", parseV2, []byte("<xml><a><b>1</b></a></xml>"), secret, ErrMalformed, nil},
		{"ParseV2: too large", parseV2, []byte("<xml><a>" + strings.Repeat("x", MaxBodySize) + "</a></xml>"), secret, ErrMalformed, nil},
		{"ParseV2: return_code FAIL", parseV2, failed, secret, ErrMalformed, nil},
		{"ParseV2: no sign", parseV2, encode(t, map[string]string{"return_code": "SUCCESS", "out_trade_no": "T1"}), secret,
			ErrVerification, []error{ErrMissingHeader, apiv2.ErrNoSign}},
		{"ParseV2: an altered field", parseV2, []byte(tampered), secret, ErrVerification, []error{ErrBadSignature, apiv2.ErrBadSign}},
		{"ParseV2: another secret", parseV2, good, otherSecret, ErrVerification, []error{ErrBadSignature, apiv2.ErrBadSign}},

		{"ParseRefundV2: a secret of 31 characters", parseRefund, goodRefund, secret[:31], ErrConfig, nil},
		{"ParseRefundV2: not XML", parseRefund, notXML, secret, ErrMalformed, nil},
		{"ParseRefundV2: return_code FAIL", parseRefund, failed, secret, ErrMalformed, nil},
		{"ParseRefundV2: no req_info", parseRefund, encode(t, map[string]string{"return_code": "SUCCESS"}), secret, ErrMalformed, nil},
		{"ParseRefundV2: req_info not base64", parseRefund, refund("***not-base64***"), secret, ErrDecrypt, nil},
		{"ParseRefundV2: req_info not whole blocks", parseRefund, refund(base64.StdEncoding.EncodeToString([]byte("short"))), secret, ErrDecrypt, nil},
		{"ParseRefundV2: bad padding", parseRefund, refund(encryptECB(t, []byte("0123456789abcdef"), key)[:24] + "=="), secret, ErrDecrypt, nil},
		{"ParseRefundV2: another secret", parseRefund, goodRefund, otherSecret, ErrDecrypt, nil},
		{"ParseRefundV2: not XML inside", parseRefund, refund(encryptECB(t, []byte("plain text"), key)), secret, ErrDecrypt, nil},
		{"ParseRefundV2: nested XML inside", parseRefund, refund(encryptECB(t, []byte("<root><a><b>1</b></a></root>"), key)), secret, ErrDecrypt, nil},

		{"DecryptReqInfo: a secret of 31 characters", decrypt, []byte("pZwJZBLuy3mDACEQT4YTBw=="), secret[:31], ErrConfig, nil},
		{"DecryptReqInfo: not base64", decrypt, []byte("***"), secret, ErrDecrypt, nil},
		{"DecryptReqInfo: empty", decrypt, nil, secret, ErrDecrypt, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.parse(tt.body, tt.secret)
			require.Error(t, err)
			for _, class := range classes {
				assert.Equal(t, class == tt.want, errors.Is(err, class), "errors.Is(%v, %v)", err, class)
			}
			for _, kind := range tt.kinds {
				assert.ErrorIs(t, err, kind)
			}
			if tt.want == ErrVerification {
				var ve *middleware.VerificationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, "notification", ve.Subject)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "notify: "), err.Error())
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), otherSecret)
			assert.NotContains(t, err.Error(), string(key))
		})
	}
}

// TestParseRefundV2DecryptedFieldsWin: a refund notification has no sign,
// so only req_info's decrypted fields are proven; of the outer XML only
// return_code, appid, mch_id and nonce_str are kept, and a decrypted field
// wins over an outer one of the same name. An outer refund_status used to
// reach the caller when req_info had none.
func TestParseRefundV2DecryptedFieldsWin(t *testing.T) {
	t.Parallel()
	sum := md5.Sum([]byte(secret))
	key := []byte(hex.EncodeToString(sum[:]))
	inner := "<root><out_refund_no>R1</out_refund_no><refund_fee>100</refund_fee><mch_id>1900000001</mch_id></root>"
	body := encode(t, map[string]string{
		"return_code": "SUCCESS", "return_msg": "OK", "appid": "wx1", "mch_id": "OUTER-MCHID-3d9a51", "nonce_str": "n",
		"out_refund_no": "OUTER-FORGED-R-3d9a51", "refund_status": "OUTER-FORGED-STATUS-3d9a51", "settlement_refund_fee": "999999",
		"req_info": encryptECB(t, []byte(inner), key),
	})
	fields, err := ParseRefundV2(body, secret)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"return_code": "SUCCESS", "appid": "wx1", "mch_id": "1900000001", "nonce_str": "n",
		"out_refund_no": "R1", "refund_fee": "100"}, fields)
}
