// Package notify reads the notifications WeChat Pay sends to a merchant's
// notify_url and builds the replies it expects.
package notify

import (
	"crypto/aes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/wechatpay-chain/wechatpay/apiv2"
)

// v2Decoder reads APIv2 notifications, which anyone can send: at most
// MaxBodySize, and flat (fields hold text), so that a huge or deeply nested
// body is refused before it costs anything.
var v2Decoder = apiv2.Decoder{MaxSize: MaxBodySize, MaxDepth: 2}

// ParseV2 reads an APIv2 XML notification (a payment result, say) from its
// raw body and checks its sign with the APIv2 secret. A body over
// MaxBodySize, or whose fields hold elements, is refused before it is
// parsed. A return_code other than SUCCESS is returned as it came, with an
// error. A verified notification may still report a failed payment: check
// its result_code.
func ParseV2(body []byte, secret string) (map[string]string, error) {
	fields, err := v2Decoder.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	if rc := fields["return_code"]; rc != "" && rc != "SUCCESS" {
		return fields, fmt.Errorf("notify: the notification's return_code is %s: %s", rc, fields["return_msg"])
	}
	if err := apiv2.Verify(fields, secret); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return fields, nil
}

// ParseRefundV2 reads an APIv2 refund notification. It carries no sign:
// its req_info is encrypted with a key derived from the APIv2 secret, and
// decrypting it is what proves it came from WeChat Pay. The result holds
// the outer fields (appid, mch_id, ...) and the decrypted ones
// (out_refund_no, refund_status, ...); req_info itself is left out. The
// limits of ParseV2 apply, to the decrypted req_info too.
func ParseRefundV2(body []byte, secret string) (map[string]string, error) {
	fields, err := v2Decoder.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	if rc := fields["return_code"]; rc != "" && rc != "SUCCESS" {
		return fields, fmt.Errorf("notify: the notification's return_code is %s: %s", rc, fields["return_msg"])
	}
	if fields["req_info"] == "" {
		return nil, errors.New("notify: the refund notification has no req_info")
	}
	inner, err := DecryptReqInfo(fields["req_info"], secret)
	if err != nil {
		return nil, err
	}
	delete(fields, "req_info")
	for k, v := range inner {
		fields[k] = v
	}
	return fields, nil
}

// DecryptReqInfo decrypts a refund notification's req_info: base64,
// AES-256-ECB with PKCS#7 padding, key the lower-case hex MD5 of the APIv2
// secret; the plaintext is flat XML with root <root>.
func DecryptReqInfo(reqInfo, secret string) (map[string]string, error) {
	sum := md5.Sum([]byte(secret))
	plain, err := decryptECB(reqInfo, []byte(hex.EncodeToString(sum[:])))
	if err != nil {
		return nil, err
	}
	fields, err := v2Decoder.Decode(plain)
	if err != nil {
		return nil, fmt.Errorf("notify: the decrypted req_info: %w", err)
	}
	return fields, nil
}

// errDecrypt does not say which check failed: a padding oracle must learn
// nothing from the message.
var errDecrypt = errors.New("notify: req_info does not decrypt with this APIv2 secret: the notification is forged, corrupted, or Config.Secret is not the merchant's")

func decryptECB(b64 string, key []byte) ([]byte, error) {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("notify: req_info is not base64")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, errDecrypt
	}
	out := make([]byte, len(data))
	for i := 0; i < len(data); i += aes.BlockSize {
		block.Decrypt(out[i:i+aes.BlockSize], data[i:i+aes.BlockSize])
	}
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, errDecrypt
	}
	for _, b := range out[len(out)-pad:] {
		if int(b) != pad {
			return nil, errDecrypt
		}
	}
	return out[:len(out)-pad], nil
}

// ReplyV2 is the body to answer an APIv2 notification with: SUCCESS/OK
// when err is nil, else FAIL with err's message. Anyone can POST to a
// notify_url: log the details and pass a generic error, such as
// errors.New("notification not processed"), rather than a parse error or
// your own (WeChat Pay goes by return_code, not the message).
func ReplyV2(err error) []byte {
	code, msg := "SUCCESS", "OK"
	if err != nil {
		code, msg = "FAIL", err.Error()
	}
	return []byte("<xml><return_code><![CDATA[" + code + "]]></return_code><return_msg><![CDATA[" + cdata(msg) + "]]></return_msg></xml>")
}

// cdata keeps "]]>" from ending the section early.
func cdata(s string) string { return strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") }
