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
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// v2Decoder reads APIv2 notifications, which anyone can send: at most
// MaxBodySize, and flat (fields hold text), so that a huge or deeply nested
// body is refused before it costs anything.
var v2Decoder = apiv2.Decoder{MaxSize: MaxBodySize, MaxDepth: 2}

// ParseV2 reads an APIv2 XML notification (a payment result, say) from its
// raw body and checks its sign with the APIv2 secret. A body over
// MaxBodySize, or whose fields hold elements, is refused before it is
// parsed. A return_code other than SUCCESS is returned as it came
// (unsigned: WeChat Pay signs only what carries a result), with an error.
// A verified notification may still report a failed payment: check its
// result_code.
//
// Every error matches one of ErrConfig (secret is not 32 characters),
// ErrMalformed (not flat XML, too large, return_code not SUCCESS) and
// ErrVerification, then also ErrMissingHeader (no sign, and
// apiv2.ErrNoSign) or ErrBadSignature (the sign does not match, and
// apiv2.ErrBadSign); the latter is a *middleware.VerificationError.
func ParseV2(body []byte, secret string) (map[string]string, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	fields, err := decodeV2(body)
	if err != nil {
		return nil, err
	}
	if err := returnCode(fields); err != nil {
		return fields, err
	}
	if err := apiv2.Verify(fields, secret); err != nil {
		kind, reason := ErrBadSignature, "the APIv2 sign does not match: the notification is forged or altered, or the secret is not the merchant's APIv2 key"
		if errors.Is(err, apiv2.ErrNoSign) {
			kind, reason = ErrMissingHeader, "the APIv2 notification has no sign"
		}
		ve := &middleware.VerificationError{Kind: kind, Subject: "notification", Reason: reason, Body: body}
		return nil, fmt.Errorf("notify: %w (%w)", ve, err)
	}
	return fields, nil
}

// refundOuter are the fields of a refund notification's outer XML that
// ParseRefundV2 keeps. Nothing authenticates them (no sign; only req_info
// is encrypted): they say whom the notification claims to be for, no more.
var refundOuter = []string{"return_code", "appid", "mch_id", "sub_appid", "sub_mch_id", "nonce_str"}

// ParseRefundV2 reads an APIv2 refund notification. It carries no sign:
// its req_info is encrypted with a key derived from the APIv2 secret, and
// decrypting it is what proves it came from WeChat Pay. The result holds
// the decrypted fields (out_refund_no, refund_status, refund_fee, ...)
// and, of the outer XML, only return_code, appid, mch_id, sub_appid,
// sub_mch_id and nonce_str, which nothing authenticates; a decrypted
// field wins over an outer one of the same name, and every other outer
// field is dropped. Act on the decrypted fields only. The limits of
// ParseV2 apply, to the decrypted req_info too.
//
// Every error matches one of ErrConfig (secret is not 32 characters),
// ErrMalformed (not flat XML, too large, return_code not SUCCESS, no
// req_info) and ErrDecrypt (req_info is not base64 or does not decrypt
// with secret to flat XML).
func ParseRefundV2(body []byte, secret string) (map[string]string, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	fields, err := decodeV2(body)
	if err != nil {
		return nil, err
	}
	if err := returnCode(fields); err != nil {
		return fields, err
	}
	if fields["req_info"] == "" {
		return nil, &v2Error{class: ErrMalformed, msg: "the refund notification has no req_info"}
	}
	inner, err := decryptReqInfo(fields["req_info"], secret)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(inner)+len(refundOuter))
	for _, k := range refundOuter {
		if v, ok := fields[k]; ok {
			out[k] = v
		}
	}
	for k, v := range inner {
		out[k] = v
	}
	return out, nil
}

// DecryptReqInfo decrypts a refund notification's req_info: base64,
// AES-256-ECB with PKCS#7 padding, key the lower-case hex MD5 of the APIv2
// secret; the plaintext is flat XML with root <root>. Its errors match
// ErrConfig (secret is not 32 characters) or ErrDecrypt.
func DecryptReqInfo(reqInfo, secret string) (map[string]string, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	return decryptReqInfo(reqInfo, secret)
}

func decryptReqInfo(reqInfo, secret string) (map[string]string, error) {
	sum := md5.Sum([]byte(secret))
	plain, err := decryptECB(reqInfo, []byte(hex.EncodeToString(sum[:])))
	if err != nil {
		return nil, err
	}
	fields, err := v2Decoder.Decode(plain)
	if err != nil {
		// A wrong key passes the padding check once in about 256 tries and
		// gives garbage: a failed decryption, most likely.
		return nil, &v2Error{class: ErrDecrypt, msg: "the decrypted req_info", err: err}
	}
	return fields, nil
}

// v2Error is a failure of the APIv2 functions that is not a verification
// one: it matches its class (ErrConfig, ErrMalformed, ErrDecrypt) and
// unwraps to its cause.
type v2Error struct {
	class error
	msg   string
	err   error
}

func (e *v2Error) Error() string {
	if e.err != nil {
		return "notify: " + e.msg + ": " + e.err.Error()
	}
	return "notify: " + e.msg
}

// Is matches the error's class.
func (e *v2Error) Is(target error) bool { return target == e.class }

// Unwrap returns the cause.
func (e *v2Error) Unwrap() error { return e.err }

// checkSecret refuses an APIv2 secret that cannot be the merchant's (it
// has 32 characters), which would fail every notification; the error
// holds its length only.
func checkSecret(secret string) error {
	if len(secret) != 32 {
		return &v2Error{class: ErrConfig, msg: fmt.Sprintf("the APIv2 secret has %d characters: the APIv2 key set in the merchant platform has 32", len(secret))}
	}
	return nil
}

// decodeV2 reads a notification's flat XML within v2Decoder's limits.
func decodeV2(body []byte) (map[string]string, error) {
	fields, err := v2Decoder.Decode(body)
	if err != nil {
		return nil, &v2Error{class: ErrMalformed, msg: "not an APIv2 notification", err: err}
	}
	return fields, nil
}

// returnCode reports a return_code other than SUCCESS: such a notification
// carries no result, and no sign.
func returnCode(fields map[string]string) error {
	if rc := fields["return_code"]; rc != "" && rc != "SUCCESS" {
		return &v2Error{class: ErrMalformed, msg: fmt.Sprintf("the notification's return_code is %s: %s", rc, fields["return_msg"])}
	}
	return nil
}

// errDecrypt does not say which check failed: a padding oracle must learn
// nothing from the message.
var errDecrypt = &v2Error{class: ErrDecrypt, msg: "req_info does not decrypt with this APIv2 secret: the notification is forged, corrupted, or the secret is not the merchant's APIv2 key"}

func decryptECB(b64 string, key []byte) ([]byte, error) {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, &v2Error{class: ErrDecrypt, msg: "req_info is not base64: the notification is forged or corrupted"}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, &v2Error{class: ErrDecrypt, msg: "the req_info key", err: err} // never: the key has 32 bytes
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
