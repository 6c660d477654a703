package certificates

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/wechatpay-chain/wechatpay/internal/redact"
)

// Config and Manager hold the APIv3 key: every way of printing them
// (fmt's verbs, slog, String) shows the settings and whether the key is
// set, never the key.

// String lists the settings that are set, with "[redacted]" for the APIv3 key.
func (c Config) String() string { return c.fields().String("certificates.Config") }

// GoString is String for %#v.
func (c Config) GoString() string { return c.fields().GoString("certificates.Config") }

// Format makes every fmt verb print String (GoString for %#v): no verb
// reaches the APIv3 key.
func (c Config) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String(), c.GoString()) }

// MarshalJSON encodes the fields of String as a JSON object.
func (c Config) MarshalJSON() ([]byte, error) { return c.fields().JSON() }

// LogValue is what log/slog records: the fields of String, as a group.
func (c Config) LogValue() slog.Value { return c.fields().LogValue() }

func (c Config) fields() redact.Fields {
	var f redact.Fields
	f.Secret("APIv3Key", c.APIv3Key != "")
	f.Add("Path", c.Path)
	if c.Interval != 0 {
		f.Add("Interval", c.Interval.String())
	}
	if c.MissInterval != 0 {
		f.Add("MissInterval", c.MissInterval.String())
	}
	if c.OnError != nil {
		f.Add("OnError", "set")
	}
	return f
}

// String shows the Manager's Config (the APIv3 key "[redacted]") and the
// serials it knows.
func (m *Manager) String() string {
	if m == nil {
		return "<nil>"
	}
	return m.fields().String("certificates.Manager")
}

// GoString is String for %#v.
func (m *Manager) GoString() string {
	if m == nil {
		return "(*certificates.Manager)(nil)"
	}
	return m.fields().GoString("certificates.Manager")
}

// Format makes every fmt verb print String (GoString for %#v).
func (m *Manager) Format(f fmt.State, verb rune) { redact.Format(f, verb, m.String(), m.GoString()) }

// MarshalJSON encodes the fields of String as a JSON object.
func (m *Manager) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	return m.fields().JSON()
}

// LogValue is what log/slog records: the fields of String, as a group.
func (m *Manager) LogValue() slog.Value {
	if m == nil {
		return slog.StringValue("<nil>")
	}
	return m.fields().LogValue()
}

func (m *Manager) fields() redact.Fields {
	f := m.cfg.fields()
	f = append(f, redact.Field{Name: "Serials", Value: "[" + strings.Join(m.Serials(), " ") + "]"})
	return f
}
