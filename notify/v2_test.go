package notify

import (
	"crypto/aes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/apiv2"
)

const secret = "192006250b4c09247ec02edce69f6a2d"

// encryptECB is what WeChat Pay does to req_info.
func encryptECB(t *testing.T, plain, key []byte) string {
	t.Helper()
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	for range pad {
		plain = append(plain, byte(pad))
	}
	out := make([]byte, len(plain))
	for i := 0; i < len(plain); i += aes.BlockSize {
		block.Encrypt(out[i:], plain[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(out)
}

func encode(t *testing.T, fields map[string]string) []byte {
	t.Helper()
	body, err := apiv2.Encode(fields)
	require.NoError(t, err)
	return body
}

func TestDecryptOfficialVector(t *testing.T) {
	t.Parallel()
	plain, err := decryptECB("pZwJZBLuy3mDACEQT4YTBw==", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	assert.Equal(t, "hello", string(plain))
	assert.Equal(t, "pZwJZBLuy3mDACEQT4YTBw==", encryptECB(t, []byte("hello"), []byte("0123456789abcdef0123456789abcdef")))
}

func TestParseRefundV2(t *testing.T) {
	t.Parallel()
	sum := md5.Sum([]byte(secret))
	key := []byte(hex.EncodeToString(sum[:]))
	inner := "<root><out_refund_no><![CDATA[R1]]></out_refund_no><refund_status><![CDATA[SUCCESS]]></refund_status><refund_fee>100</refund_fee></root>"
	body := encode(t, map[string]string{"return_code": "SUCCESS", "appid": "wx1", "mch_id": "1900000001", "nonce_str": "n",
		"req_info": encryptECB(t, []byte(inner), key)})

	fields, err := ParseRefundV2(body, secret)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"return_code": "SUCCESS", "appid": "wx1", "mch_id": "1900000001", "nonce_str": "n",
		"out_refund_no": "R1", "refund_status": "SUCCESS", "refund_fee": "100"}, fields)

	_, err = ParseRefundV2(body, "another secret of thirty-two chs")
	assert.ErrorIs(t, err, errDecrypt, "a wrong secret fails like a forgery")
	for name, reqInfo := range map[string]string{
		"not base64":     "***",
		"not blocks":     base64.StdEncoding.EncodeToString([]byte("short")),
		"bad padding":    encryptECB(t, []byte("0123456789abcdef"), key)[:24] + "==",
		"empty":          "",
		"not XML inside": encryptECB(t, []byte("plain text"), key),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := encode(t, map[string]string{"return_code": "SUCCESS", "req_info": reqInfo})
			_, err := ParseRefundV2(body, secret)
			assert.Error(t, err)
		})
	}
}

func TestParseV2(t *testing.T) {
	t.Parallel()
	msg := map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "out_trade_no": "T1", "total_fee": "100"}
	msg["sign"] = apiv2.Sign(msg, secret, apiv2.MD5)
	fields, err := ParseV2(encode(t, msg), secret)
	require.NoError(t, err)
	assert.Equal(t, "T1", fields["out_trade_no"])

	msg["total_fee"] = "1"
	_, err = ParseV2(encode(t, msg), secret)
	assert.ErrorIs(t, err, apiv2.ErrBadSign)

	fields, err = ParseV2([]byte("<xml><return_code>FAIL</return_code><return_msg>签名失败</return_msg></xml>"), secret)
	assert.EqualError(t, err, "notify: the notification's return_code is FAIL: 签名失败")
	assert.Equal(t, "FAIL", fields["return_code"])

	_, err = ParseV2([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>`), secret)
	assert.ErrorContains(t, err, "DOCTYPE")
}

func TestReplyV2(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>", string(ReplyV2(nil)))
	assert.Equal(t, "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[bad ]]]]><![CDATA[> sign]]></return_msg></xml>",
		string(ReplyV2(errors.New("bad ]]> sign"))))
	fields, err := apiv2.Decode(ReplyV2(errors.New("bad ]]> sign")))
	require.NoError(t, err)
	assert.Equal(t, "bad ]]> sign", fields["return_msg"])
}
