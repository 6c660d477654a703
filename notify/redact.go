package notify

import (
	"fmt"
	"log/slog"

	"github.com/wechatpay-chain/wechatpay/internal/redact"
)

// A Parser holds the APIv3 key: every way of printing it (fmt's verbs,
// slog, String) shows its key source and whether the APIv3 key is set,
// never the key.

// String names the key source and shows "[redacted]" for the APIv3 key.
func (p Parser) String() string { return p.fields().String("notify.Parser") }

// GoString is String for %#v.
func (p Parser) GoString() string { return p.fields().GoString("notify.Parser") }

// Format makes every fmt verb print String (GoString for %#v): no verb
// reaches the APIv3 key.
func (p Parser) Format(f fmt.State, verb rune) { redact.Format(f, verb, p.String(), p.GoString()) }

// MarshalJSON encodes the fields of String as a JSON object.
func (p Parser) MarshalJSON() ([]byte, error) { return p.fields().JSON() }

// LogValue is what log/slog records: the fields of String, as a group.
func (p Parser) LogValue() slog.Value { return p.fields().LogValue() }

func (p Parser) fields() redact.Fields {
	keys := redact.Type(p.Keys)
	if keys == "" {
		keys = "<nil>"
	}
	f := redact.Fields{{Name: "Keys", Value: keys}}
	f.Secret("APIv3Key", p.APIv3Key != "")
	if p.Now != nil {
		f.Add("Now", "set")
	}
	return f
}
