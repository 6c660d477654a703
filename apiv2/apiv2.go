package apiv2

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Sign types, the values of the sign_type parameter.
const (
	MD5        = "MD5"         // the default when sign_type is absent
	HMACSHA256 = "HMAC-SHA256" // keyed with the secret; Verify tells it by its 64 hex digits
)

// Errors of Verify.
var (
	// ErrNoSign: no "sign" field, or an empty one.
	ErrNoSign = errors.New("apiv2: the message has no sign")
	// ErrBadSign: altered, or signed with another secret.
	ErrBadSign = errors.New("apiv2: the sign does not match the message")
	// ErrNoSecret: Verify was given an empty APIv2 key. Anyone can compute
	// a sign with the empty key, so nothing verifies with it.
	ErrNoSecret = errors.New("apiv2: no APIv2 key to verify with (the secret is empty)")
)

// Sign returns the upper-case hex sign of params: every pair but "sign" and
// empty values, keys in byte order, joined "k=v&k=v", then "&key=" and the
// secret, digested with MD5, or HMAC-SHA256 keyed with the secret when
// signType is HMACSHA256. Any other signType means MD5: the Builder refuses
// a sign_type other than MD5 and HMAC-SHA256 before it signs.
func Sign(params map[string]string, secret, signType string) string {
	var h hash.Hash
	if signType == HMACSHA256 {
		h = hmac.New(sha256.New, []byte(secret))
	} else {
		h = md5.New()
	}
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var buf [512]byte
	for _, k := range keys {
		writeString(h, buf[:], k)
		writeString(h, buf[:], "=")
		writeString(h, buf[:], params[k])
		writeString(h, buf[:], "&")
	}
	writeString(h, buf[:], "key=")
	writeString(h, buf[:], secret)
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// writeString hashes s through buf, without the copy of s that
// io.WriteString makes for a hash: a large value costs no memory.
func writeString(h hash.Hash, buf []byte, s string) {
	for len(s) > 0 {
		n := copy(buf, s)
		h.Write(buf[:n])
		s = s[n:]
	}
}

// Verify checks params["sign"]. The algorithm follows from the sign's
// length (64 hex digits: HMAC-SHA256, else MD5); the comparison takes
// constant time. An empty secret verifies nothing (ErrNoSecret).
func Verify(params map[string]string, secret string) error {
	if secret == "" {
		return ErrNoSecret
	}
	sign := params["sign"]
	if sign == "" {
		return ErrNoSign
	}
	signType := MD5
	if len(sign) == 64 {
		signType = HMACSHA256
	}
	if subtle.ConstantTimeCompare([]byte(Sign(params, secret, signType)), []byte(strings.ToUpper(sign))) != 1 {
		return ErrBadSign
	}
	return nil
}

// Encode writes params as <xml><k>v</k>...</xml>, keys in byte order,
// without an XML declaration. Values holding markup characters go in CDATA;
// a CR is written as the character reference &#13; (inside CDATA too, by
// closing the section around it), because every XML parser reads a raw CR
// as LF and the receiver would compute another sign. Decode gives back
// exactly what Encode wrote. A name that is not an APIv2 field name, or a
// value XML cannot carry at all (control characters other than TAB, LF and
// CR, invalid UTF-8, U+FFFE, U+FFFF), is a *FieldError naming the field.
func Encode(params map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(params))
	size := len("<xml></xml>")
	for k, v := range params {
		if err := checkField(k, v); err != nil {
			return nil, err
		}
		keys = append(keys, k)
		size += 2*len(k) + len(v) + len("<></><![CDATA[]]>")
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString("<xml>")
	for _, k := range keys {
		b.WriteString("<" + k + ">")
		writeValue(&b, params[k])
		b.WriteString("</" + k + ">")
	}
	b.WriteString("</xml>")
	return b.Bytes(), nil
}

// writeValue writes v as element text that parses back to v exactly.
func writeValue(b *bytes.Buffer, v string) {
	if !strings.ContainsAny(v, "<>&\"'") {
		b.WriteString(strings.ReplaceAll(v, "\r", "&#13;"))
		return
	}
	b.WriteString("<![CDATA[")
	for i, part := range strings.Split(v, "\r") {
		if i > 0 {
			// A CR cannot stand inside CDATA either: close the section
			// for its character reference.
			b.WriteString("]]>&#13;<![CDATA[")
		}
		// "]]>" cannot stand inside CDATA: split it across two sections.
		b.WriteString(strings.ReplaceAll(part, "]]>", "]]]]><![CDATA[>"))
	}
	b.WriteString("]]>")
}

// FieldError is a parameter Encode cannot write: its name is not an APIv2
// field name, or its value holds what XML cannot carry.
type FieldError struct {
	Field  string // the parameter's name
	Reason string // what is wrong, naming the field
}

// Error says which field and what is wrong with it.
func (e *FieldError) Error() string {
	if e == nil {
		return "apiv2: a field is wrong (a nil *FieldError)"
	}
	return "apiv2: " + e.Reason
}

// checkField refuses a name that is not an APIv2 field name and a value
// XML 1.0 cannot carry.
func checkField(name, value string) error {
	if !isFieldName(name) {
		return &FieldError{Field: name, Reason: fmt.Sprintf("%q is not an APIv2 field name (a letter or \"_\", then letters, digits and \"_\")", name)}
	}
	for i, r := range value {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(value[i:]); size == 1 {
				return &FieldError{Field: name, Reason: fmt.Sprintf("field %q is not valid UTF-8 (byte %d)", name, i)}
			}
		}
		if !isXMLChar(r) {
			return &FieldError{Field: name, Reason: fmt.Sprintf("field %q holds U+%04X at byte %d, which XML cannot carry", name, r, i)}
		}
	}
	return nil
}

func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || ch == '_' || i > 0 && '0' <= ch && ch <= '9') {
			return false
		}
	}
	return true
}

// isXMLChar reports whether XML 1.0 text can hold r (its Char production).
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || 0x20 <= r && r <= 0xD7FF ||
		0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0x10FFFF
}

func isHTML(b []byte) bool {
	head := strings.ToLower(string(b[:min(len(b), 64)]))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// htmlTitle returns " (title: ...)" for an HTML page that has one.
func htmlTitle(b []byte) string {
	lower := bytes.ToLower(b)
	start := bytes.Index(lower, []byte("<title>"))
	end := bytes.Index(lower, []byte("</title>"))
	if start < 0 || end < start {
		return ""
	}
	return fmt.Sprintf(" (title: %q)", strings.TrimSpace(string(b[start+len("<title>"):end])))
}

// preview returns the start of b for error messages.
func preview(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// unsigned are the endpoints whose answers carry no sign, as the official
// SDKs list them.
var unsigned = []string{
	"/mchrisk/querymchrisk", "/mchrisk/setmchriskcallback", "/mchrisk/syncmchriskresult",
	"/mmpaymkttransfers/gethbinfo", "/mmpaymkttransfers/gettransferinfo", "/mmpaymkttransfers/pay_bank",
	"/mmpaymkttransfers/promotion/paywwsptrans2pocket", "/mmpaymkttransfers/promotion/querywwsptrans2pocket",
	"/mmpaymkttransfers/promotion/transfers", "/mmpaymkttransfers/query_bank", "/mmpaymkttransfers/sendgroupredpack",
	"/mmpaymkttransfers/sendminiprogramhb", "/mmpaymkttransfers/sendredpack", "/papay/entrustweb", "/papay/h5entrustweb",
	"/papay/partner/entrustweb", "/papay/partner/h5entrustweb", "/pay/downloadbill", "/pay/downloadfundflow",
	"/payitil/report", "/risk/getpublickey", "/risk/getviolation", "/secapi/mch/submchmanage",
	"/xdc/apiv2getsignkey/sign/getsignkey",
	// Not in the SDKs' lists, but documented to answer a text table, which
	// cannot carry a sign, on success (XML on failure).
	"/billcommentsp/batchquerycomment",
}

// Unsigned reports whether answers to path carry no sign: red packets,
// transfers, bill downloads and the others the official SDKs list, and the
// comment download. Every other APIv2 answer must be signed XML. path is
// the endpoint's path relative to the base URL, without "v2/"
// ("pay/downloadbill" or "/pay/downloadbill"), and it must be exactly one
// of the list: a path that merely ends like one ("x/pay/downloadbill",
// "hk/pay/downloadbill") is not unsigned, so strip a base path first. It
// decides whether an answer may skip the sign check: give it the path as
// the code wrote it, never one that a value filled in (the Builder
// decides from the chain's template, where a placeholder or Value segment
// never counts).
func Unsigned(path string) bool {
	return slices.Contains(unsigned, "/"+strings.TrimPrefix(path, "/"))
}
