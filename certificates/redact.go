package certificates

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/wechatpay-chain/wechatpay/internal/redact"
)

// Options and Manager hold the APIv3 key: every way of printing them
// (fmt's verbs, slog, String) shows the settings and whether the key is
// set, never the key.

// String lists the options that are set, with "[redacted]" for the APIv3 key.
func (o Options) String() string { return o.fields().String("certificates.Options") }

// GoString is String for %#v.
func (o Options) GoString() string { return o.fields().GoString("certificates.Options") }

// Format makes every fmt verb print String (GoString for %#v): no verb
// reaches the APIv3 key.
func (o Options) Format(f fmt.State, verb rune) { redact.Format(f, verb, o.String(), o.GoString()) }

// MarshalJSON encodes the fields of String as a JSON object.
func (o Options) MarshalJSON() ([]byte, error) { return o.fields().JSON() }

// LogValue is what log/slog records: the fields of String, as a group.
func (o Options) LogValue() slog.Value { return o.fields().LogValue() }

func (o Options) fields() redact.Fields {
	var f redact.Fields
	f.Secret("APIv3Key", o.APIv3Key != "")
	f.Add("Path", o.Path)
	if o.Interval != 0 {
		f.Add("Interval", o.Interval.String())
	}
	if o.MissInterval != 0 {
		f.Add("MissInterval", o.MissInterval.String())
	}
	if o.OnError != nil {
		f.Add("OnError", "set")
	}
	return f
}

// String shows the Manager's options (the APIv3 key "[redacted]") and the
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
	f := m.opts.fields()
	f = append(f, redact.Field{Name: "Serials", Value: "[" + strings.Join(m.Serials(), " ") + "]"})
	return f
}
