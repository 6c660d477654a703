package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wechatpay-chain/wechatpay/aesgcm"
	"github.com/wechatpay-chain/wechatpay/internal/rsakey"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// Notification is a verified, decrypted APIv3 notification. WeChat Pay
// retries for about a day and may deliver one event more than once: ID
// tells a repeat (Handler does, with its Deduper).
type Notification struct {
	ID           string   `json:"id"`            // the event id, the same on every delivery of the event
	CreateTime   string   `json:"create_time"`   // RFC 3339
	EventType    string   `json:"event_type"`    // TRANSACTION.SUCCESS, REFUND.SUCCESS, ...
	ResourceType string   `json:"resource_type"` // "encrypt-resource"
	Summary      string   `json:"summary"`       // WeChat's short description of the event, e.g. 支付成功
	Resource     Resource `json:"resource"`      // the event's data, encrypted; Plaintext holds it decrypted
	// Plaintext is the decrypted resource, JSON (the transaction, the
	// refund, ...).
	Plaintext []byte `json:"-"`
	// Serial is the id of the WeChat Pay key that signed the notification.
	Serial string `json:"-"`
}

// Resource is the encrypted part of a notification.
type Resource struct {
	OriginalType   string `json:"original_type"`   // what the plaintext is: transaction, refund, ...
	Algorithm      string `json:"algorithm"`       // AEAD_AES_256_GCM, the only one this package decrypts
	Ciphertext     string `json:"ciphertext"`      // base64 of the encrypted JSON and its GCM tag
	AssociatedData string `json:"associated_data"` // authenticated with the ciphertext, not encrypted
	Nonce          string `json:"nonce"`           // the GCM nonce
}

// Decode unmarshals the decrypted resource into v.
func (n *Notification) Decode(v any) error {
	if n == nil {
		return fmt.Errorf("notify: decoding the resource into %T: the Notification is nil (Parse returned an error)", v)
	}
	if err := json.Unmarshal(n.Plaintext, v); err != nil {
		return fmt.Errorf("notify: decoding the resource into %T: %w", v, err)
	}
	return nil
}

// Get returns a value of the decrypted resource at a gjson path, such as
// "out_trade_no" or "amount.total"; a Result that does not exist for a
// nil Notification.
func (n *Notification) Get(path string) gjson.Result {
	if n == nil {
		return gjson.Result{}
	}
	return gjson.GetBytes(n.Plaintext, path)
}

// Parser verifies and decrypts APIv3 notifications. Build it with
// NewParser, which checks the keys and the APIv3 key at start-up; a Parser
// literal works too, but a wrong APIv3 key then shows only as every
// notification failing with ErrConfig.
type Parser struct {
	// Keys are the WeChat Pay keys notifications are signed with; a
	// Builder's PublicKeys, or a certificates.Manager.
	Keys middleware.PublicKeys
	// APIv3Key decrypts the resource (32 characters, set in the merchant
	// platform).
	APIv3Key string
	// Now gives the local time; nil means time.Now.
	Now func() time.Time
}

// NewParser returns a Parser after checking that keys can verify something
// (not nil, not an empty or nil-valued middleware.StaticKeys) and that
// apiv3Key has the 32 characters of an APIv3 key. Its errors match
// ErrConfig and never hold the key.
func NewParser(keys middleware.PublicKeys, apiv3Key string) (*Parser, error) {
	p := &Parser{Keys: keys, APIv3Key: apiv3Key}
	if err := p.check(); err != nil {
		return nil, err
	}
	if static, ok := keys.(middleware.StaticKeys); ok {
		if len(static) == 0 {
			return nil, fmt.Errorf("%w: no verification keys: expected the WeChat Pay public key or platform certificates", ErrConfig)
		}
		for _, serial := range static.Serials() {
			key := static[serial]
			if key == nil || key.N == nil {
				return nil, fmt.Errorf("%w: the key for %q is nil: expected the WeChat Pay public key or platform certificate with that id", ErrConfig, serial)
			}
			if err := rsakey.Check(fmt.Sprintf("the key for %q", serial), key); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrConfig, err)
			}
		}
	}
	return p, nil
}

// check finds what would fail every notification.
func (p *Parser) check() error {
	if p == nil {
		return fmt.Errorf("%w: the Parser is nil: create it with NewParser", ErrConfig)
	}
	if p.Keys == nil {
		return fmt.Errorf("%w: no verification keys: expected the WeChat Pay public key or platform certificates", ErrConfig)
	}
	if len(p.APIv3Key) != 32 {
		// The length only: the key itself never goes into an error.
		return fmt.Errorf("%w: the APIv3 key has %d characters: the APIv3 key set in the merchant platform has 32", ErrConfig, len(p.APIv3Key))
	}
	return nil
}

// The errors of Parse, ParseV2, ParseRefundV2 and DecryptReqInfo. Every
// failure matches exactly one of ErrConfig, ErrVerification, ErrMalformed
// and ErrDecrypt (errors.Is); a verification failure also matches one of
// the kinds below it.
var (
	// ErrConfig: the Parser itself is wrong (no keys, an APIv3 key that is
	// not 32 characters), or the APIv2 secret given to ParseV2,
	// ParseRefundV2 or DecryptReqInfo is not 32 characters, so every
	// notification would fail.
	ErrConfig = errors.New("notify: the Parser is misconfigured")
	// ErrVerification: the signature headers (APIv3) or the sign field
	// (APIv2) are missing or wrong; the error is a
	// *middleware.VerificationError. It is middleware.ErrVerification.
	ErrVerification = middleware.ErrVerification
	// ErrMalformed: correctly signed, but not a WeChat Pay notification
	// (not JSON, no id or ciphertext, another algorithm). For APIv2, whose
	// sign is inside the XML: not flat XML or over MaxBodySize (checked
	// before the sign), a return_code other than SUCCESS, a refund
	// notification without req_info.
	ErrMalformed = errors.New("notify: not a WeChat Pay notification")
	// ErrDecrypt: correctly signed, but the resource does not decrypt with
	// the APIv3 key (another merchant's key, an altered or non-base64
	// ciphertext, an empty nonce); for an APIv2 refund notification, its
	// req_info does not decrypt with the APIv2 secret to flat XML, or is
	// not base64. It is aesgcm.ErrDecrypt.
	ErrDecrypt = aesgcm.ErrDecrypt

	// ErrMissingHeader: a Wechatpay-* header (APIv3) or the sign field
	// (APIv2) is missing (ErrVerification).
	ErrMissingHeader = middleware.ErrMissingHeader
	// ErrMalformedHeader: a Wechatpay-* header is malformed (ErrVerification).
	ErrMalformedHeader = middleware.ErrMalformedHeader
	// ErrClockSkew: the timestamp is more than 300 s away (ErrVerification).
	ErrClockSkew = middleware.ErrClockSkew
	// ErrUnknownSerial: signed with a key Parser.Keys does not have
	// (ErrVerification).
	ErrUnknownSerial = middleware.ErrUnknownSerial
	// ErrBadSignature: the signature (APIv3) or the sign (APIv2) does not
	// match (ErrVerification).
	ErrBadSignature = middleware.ErrBadSignature
	// ErrSignTest: WeChat Pay's WECHATPAY/SIGNTEST/ probe, never valid
	// (ErrVerification).
	ErrSignTest = middleware.ErrSignTest
)

// Parse verifies a notification from its headers and raw body (exactly the
// bytes received: a body re-encoded by a framework fails), then decrypts its
// resource. Header names are matched in any case (lower-case maps from
// HTTP/2 or API gateways work). Every error matches one of ErrConfig,
// ErrVerification (then also its kind, such as ErrSignTest for WeChat
// Pay's probe), ErrMalformed and ErrDecrypt.
func (p *Parser) Parse(ctx context.Context, header http.Header, body []byte) (*Notification, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	header = canonical(header)
	v := middleware.Verifier{Keys: p.Keys, Now: p.Now}
	if err := v.VerifyNotification(ctx, header, body); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if n.ID == "" || n.Resource.Ciphertext == "" {
		return nil, fmt.Errorf("%w: no id or no resource.ciphertext", ErrMalformed)
	}
	if n.Resource.Algorithm != aesgcm.Algorithm {
		return nil, fmt.Errorf("%w: resource.algorithm is %q; this parser decrypts %s", ErrMalformed, n.Resource.Algorithm, aesgcm.Algorithm)
	}
	plain, err := aesgcm.Decrypt(p.APIv3Key, n.Resource.Nonce, n.Resource.AssociatedData, n.Resource.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("notify: notification %s: %w", n.ID, err)
	}
	n.Plaintext, n.Serial = plain, header.Get("Wechatpay-Serial")
	return &n, nil
}

// canonical returns h with its keys in canonical form, as http.Header.Get
// expects them; h itself is left alone.
func canonical(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], v...)
	}
	return out
}

// MaxBodySize bounds what Handler reads and what ParseV2 and ParseRefundV2
// accept: real notifications are a few KB, and anyone can send one. Read
// an APIv2 notification with http.MaxBytesReader(w, r.Body, MaxBodySize).
const MaxBodySize = 1 << 20
