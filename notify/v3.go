package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tidwall/gjson"

	"github.com/wechatpay-chain/wechatpay/aesgcm"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// Notification is a verified, decrypted APIv3 notification. WeChat Pay
// retries for about a day and may deliver one event more than once: use ID
// to do each event's work once.
type Notification struct {
	ID           string   `json:"id"`          // the event id, the same on every delivery of the event
	CreateTime   string   `json:"create_time"` // RFC 3339
	EventType    string   `json:"event_type"`  // TRANSACTION.SUCCESS, REFUND.SUCCESS, ...
	ResourceType string   `json:"resource_type"`
	Summary      string   `json:"summary"`
	Resource     Resource `json:"resource"`
	// Plaintext is the decrypted resource, JSON (the transaction, the
	// refund, ...).
	Plaintext []byte `json:"-"`
	// Serial is the id of the WeChat Pay key that signed the notification.
	Serial string `json:"-"`
}

// Resource is the encrypted part of a notification.
type Resource struct {
	OriginalType   string `json:"original_type"`
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
}

// Decode unmarshals the decrypted resource into v.
func (n *Notification) Decode(v any) error {
	if err := json.Unmarshal(n.Plaintext, v); err != nil {
		return fmt.Errorf("notify: decoding the resource into %T: %w", v, err)
	}
	return nil
}

// Get returns a value of the decrypted resource at a gjson path, such as
// "out_trade_no" or "amount.total".
func (n *Notification) Get(path string) gjson.Result { return gjson.GetBytes(n.Plaintext, path) }

// Parser verifies and decrypts APIv3 notifications.
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

// ErrMalformed matches a notification that is not WeChat Pay's JSON.
var ErrMalformed = errors.New("notify: not a WeChat Pay notification")

// Parse verifies a notification from its headers and raw body (exactly the
// bytes received: a body re-encoded by a framework fails), then decrypts its
// resource. Verification failures are *middleware.VerificationError
// (errors.Is middleware.ErrVerification; WeChat's WECHATPAY/SIGNTEST/ probe
// is middleware.ErrSignTest); a resource that does not decrypt is
// aesgcm.ErrDecrypt.
func (p *Parser) Parse(ctx context.Context, header http.Header, body []byte) (*Notification, error) {
	if p.Keys == nil {
		return nil, errors.New("notify: Parser.Keys is nil: expected the WeChat Pay public key or platform certificates")
	}
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

// MaxBodySize bounds what Handler reads and what ParseV2 and ParseRefundV2
// accept: real notifications are a few KB, and anyone can send one. Read
// an APIv2 notification with http.MaxBytesReader(w, r.Body, MaxBodySize).
const MaxBodySize = 1 << 20

// Handler adapts fn to net/http. It reads the body once, parses it, and
// calls fn with the request's context. It answers 204 when fn returns nil;
// otherwise {"code":"FAIL","message":...} with 401 for a notification that
// fails verification, 400 for one that is malformed or does not decrypt,
// 413 for a body over MaxBodySize (read no further), and 500 when fn
// fails, so that WeChat Pay delivers it again later.
func (p *Parser) Handler(fn func(ctx context.Context, n *Notification) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than notify.MaxBodySize (%d bytes); WeChat Pay notifications are a few KB", MaxBodySize))
			return
		}
		if err != nil {
			fail(w, http.StatusBadRequest, "reading the body: "+err.Error())
			return
		}
		n, err := p.Parse(r.Context(), r.Header, body)
		switch {
		case errors.Is(err, middleware.ErrVerification):
			fail(w, http.StatusUnauthorized, err.Error())
		case err != nil:
			fail(w, http.StatusBadRequest, err.Error())
		default:
			if err := fn(r.Context(), n); err != nil {
				fail(w, http.StatusInternalServerError, err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

func fail(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": "FAIL", "message": message})
}
