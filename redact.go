package wechatpay

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/wechatpay-chain/wechatpay/internal/redact"
)

// Config and Builder hold the APIv2 secret and the merchant private key:
// every way of printing them (fmt's verbs, slog, String) shows the
// settings and which secrets are set, never the secrets themselves.

// String lists the settings that are set, with "[redacted]" for the
// secrets (Secret, the private key, TLSCertificate).
func (cfg Config) String() string { return cfg.fields().String("wechatpay.Config") }

// GoString is String for %#v.
func (cfg Config) GoString() string { return cfg.fields().GoString("wechatpay.Config") }

// Format makes every fmt verb print String (GoString for %#v): no verb
// reaches the secret fields.
func (cfg Config) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, cfg.String(), cfg.GoString())
}

// MarshalJSON encodes the fields of String as a JSON object.
func (cfg Config) MarshalJSON() ([]byte, error) { return cfg.fields().JSON() }

// LogValue is what log/slog records: the fields of String, as a group.
func (cfg Config) LogValue() slog.Value { return cfg.fields().LogValue() }

func (cfg Config) fields() redact.Fields {
	f := redact.Fields{{Name: "MchID", Value: cfg.MchID}}
	f.Add("Serial", cfg.Serial)
	f.Add("PrivateKey", redact.PrivateKey(cfg.PrivateKey))
	f.Add("SigningKey", redact.Type(cfg.SigningKey))
	if len(cfg.Certs) > 0 {
		f.Add("Certs", "["+strings.Join(sortedKeys(cfg.Certs), " ")+"]")
	}
	f.Add("Keys", redact.Type(cfg.Keys))
	f.Add("WechatpaySerial", cfg.WechatpaySerial)
	f.Add("BaseURL", cfg.BaseURL)
	f.Add("HTTPClient", set(cfg.HTTPClient != nil))
	f.Add("Middleware", set(cfg.Middleware != nil))
	f.Secret("Secret", cfg.Secret != "")
	if cfg.Timeout != 0 {
		f.Add("Timeout", cfg.Timeout.String())
	}
	f.Add("Retry", set(cfg.Retry != nil))
	f.Add("Failover", set(cfg.Failover != nil))
	f.Add("Logger", set(cfg.Logger != nil))
	if cfg.MaxResponseBytes != 0 {
		f.Add("MaxResponseBytes", strconv.FormatInt(cfg.MaxResponseBytes, 10))
	}
	if cfg.MaxConnsPerHost != 0 {
		f.Add("MaxConnsPerHost", strconv.Itoa(cfg.MaxConnsPerHost))
	}
	f.Secret("TLSCertificate", cfg.TLSCertificate != nil)
	return f
}

// String lists the Builder's merchant, host and credentials, with
// "[redacted]" for the secrets.
func (b *Builder) String() string {
	if b == nil {
		return "<nil>"
	}
	return b.fields().String("wechatpay.Builder")
}

// GoString is String for %#v.
func (b *Builder) GoString() string {
	if b == nil {
		return "(*wechatpay.Builder)(nil)"
	}
	return b.fields().GoString("wechatpay.Builder")
}

// Format makes every fmt verb print String (GoString for %#v).
func (b *Builder) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, b.String(), b.GoString())
}

// MarshalJSON encodes the fields of String as a JSON object.
func (b *Builder) MarshalJSON() ([]byte, error) {
	if b == nil {
		return []byte("null"), nil
	}
	return b.fields().JSON()
}

// LogValue is what log/slog records: the fields of String, as a group.
func (b *Builder) LogValue() slog.Value { return b.fields().LogValue() }

func (b *Builder) fields() redact.Fields {
	if b == nil {
		return nil
	}
	f := redact.Fields{{Name: "MchID", Value: b.mchID}}
	f.Add("BaseURL", b.baseURL)
	f.Add("APIv3", strconv.FormatBool(b.v3))
	f.Add("PrivateKey", redact.PrivateKey(b.private))
	if b.private == nil {
		f.Add("SigningKey", redact.Type(b.signer))
	}
	if b.keys != nil {
		f.Add("Keys", "["+strings.Join(b.keys.Serials(), " ")+"]")
	}
	f.Secret("Secret", b.secret != "")
	f.Secret("TLSCertificate", b.tlsClient != nil)
	return f
}

func set(ok bool) string {
	if ok {
		return "set"
	}
	return ""
}
