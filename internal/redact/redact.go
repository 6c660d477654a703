// Package redact prints the types that hold secrets (the APIv2 secret, the
// APIv3 key, the merchant private key) without them: each such type lists
// its fields here and gets String, GoString, Format, MarshalJSON and slog's
// LogValue
// from the same list, so that no formatting path can show more than another.
package redact

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// Mark stands in for a secret that is set.
const Mark = "[redacted]"

// Field is one printed field: a name and a value that is safe to show.
type Field struct {
	Name, Value string // the field's name and its printable value ([redacted] for a secret)
}

// Fields collects the fields of one value; Add skips empty values, so the
// forms list what is set.
type Fields []Field

// Add appends name: value unless value is empty.
func (f *Fields) Add(name, value string) {
	if value != "" {
		*f = append(*f, Field{name, value})
	}
}

// Secret appends name: [redacted] when set is true.
func (f *Fields) Secret(name string, set bool) {
	if set {
		f.Add(name, Mark)
	}
}

// String is the %v form: typeName{Name:value Name:value}.
func (f Fields) String(typeName string) string {
	var b strings.Builder
	b.WriteString(typeName + "{")
	for i, field := range f {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(field.Name + ":" + field.Value)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is the %#v form, every value quoted.
func (f Fields) GoString(typeName string) string {
	var b strings.Builder
	b.WriteString(typeName + "{")
	for i, field := range f {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(field.Name + ":" + strconv.Quote(field.Value))
	}
	b.WriteString("}")
	return b.String()
}

// LogValue is the slog form: a group of the fields.
func (f Fields) LogValue() slog.Value {
	attrs := make([]slog.Attr, len(f))
	for i, field := range f {
		attrs[i] = slog.String(field.Name, field.Value)
	}
	return slog.GroupValue(attrs...)
}

// JSON is the encoding/json form: an object of the fields, in order.
func (f Fields) JSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, field := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(field.Name)
		value, _ := json.Marshal(field.Value)
		b.Write(name)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Format implements fmt.Formatter for a type whose forms are s and gos:
// every verb prints one of them, so that no verb (%d or %x included)
// reaches the fields themselves.
func Format(st fmt.State, verb rune, s, gos string) {
	switch {
	case verb == 'v' && st.Flag('#'):
		io.WriteString(st, gos)
	case strings.ContainsRune("vsqxX", verb):
		fmt.Fprintf(st, fmt.FormatString(st, verb), s)
	default:
		fmt.Fprintf(st, "%%!%c(%s)", verb, s)
	}
}

// PrivateKey describes a private key without its numbers: "[redacted RSA-2048]".
func PrivateKey(key *rsa.PrivateKey) string {
	switch {
	case key == nil:
		return ""
	case key.N == nil:
		return Mark
	}
	return fmt.Sprintf("[redacted RSA-%d]", key.N.BitLen())
}

// Type names the dynamic type of v, or "" for nil.
func Type(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%T", v)
}
