// Package apiv2 encodes, signs and verifies WeChat Pay APIv2 messages: flat
// XML documents whose "sign" field is an MD5 or HMAC-SHA256 digest keyed
// with the merchant's APIv2 secret. The Builder uses it for v2/ chains;
// callbacks use it for XML notifications.
package apiv2

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strings"
)

// Sign types, the values of the sign_type parameter.
const (
	MD5        = "MD5"
	HMACSHA256 = "HMAC-SHA256"
)

// Errors of Verify.
var (
	ErrNoSign  = errors.New("apiv2: the message has no sign")
	ErrBadSign = errors.New("apiv2: the sign does not match the message")
)

// Sign returns the upper-case hex sign of params: every pair but "sign" and
// empty values, keys in byte order, joined "k=v&k=v", then "&key=" and the
// secret, digested with MD5, or HMAC-SHA256 keyed with the secret when
// signType is HMACSHA256.
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
	for _, k := range keys {
		io.WriteString(h, k)
		io.WriteString(h, "=")
		io.WriteString(h, params[k])
		io.WriteString(h, "&")
	}
	io.WriteString(h, "key=")
	io.WriteString(h, secret)
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// Verify checks params["sign"]. The algorithm follows from the sign's
// length (64 hex digits: HMAC-SHA256, else MD5); the comparison takes
// constant time.
func Verify(params map[string]string, secret string) error {
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
// without an XML declaration. Values holding markup characters go in CDATA.
func Encode(params map[string]string) []byte {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("<xml>")
	for _, k := range keys {
		v := params[k]
		b.WriteString("<" + k + ">")
		if strings.ContainsAny(v, "<>&\"'") {
			// "]]>" cannot stand inside CDATA: split it across two sections.
			b.WriteString("<![CDATA[" + strings.ReplaceAll(v, "]]>", "]]]]><![CDATA[>") + "]]>")
		} else {
			b.WriteString(v)
		}
		b.WriteString("</" + k + ">")
	}
	b.WriteString("</xml>")
	return b.Bytes()
}

// DecodeError explains why a body is not an APIv2 XML document.
type DecodeError struct {
	Reason string
}

// Error says why the body is not APIv2 XML.
func (e *DecodeError) Error() string { return "apiv2: not an APIv2 XML document: " + e.Reason }

// Decode reads a flat XML document with any root name (<xml>, <root>) into
// a map of its child elements' text. It never expands entities beyond the
// five XML ones, refuses a DOCTYPE, and reaches nothing outside body, so
// XXE payloads fail. A child that holds elements keeps its inner XML as text.
func Decode(body []byte) (map[string]string, error) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, &DecodeError{Reason: "the body is empty"}
	case trimmed[0] != '<':
		return nil, &DecodeError{Reason: fmt.Sprintf("the body starts with %q, not \"<\"", preview(trimmed))}
	case isHTML(trimmed):
		return nil, &DecodeError{Reason: "the body is an HTML page" + htmlTitle(trimmed)}
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	fields := map[string]string{}
	depth := 0
	var key string
	var text bytes.Buffer
	var inner *xml.Encoder
	rootSeen := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if depth != 0 || !rootSeen {
				return nil, &DecodeError{Reason: "the document ends before its root element closes"}
			}
			return fields, nil
		}
		if err != nil {
			return nil, &DecodeError{Reason: err.Error()}
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, &DecodeError{Reason: "the document has a DOCTYPE or other directive, which APIv2 messages never carry"}
		case xml.StartElement:
			switch depth {
			case 0:
				if rootSeen {
					return nil, &DecodeError{Reason: "the document has more than one root element"}
				}
				rootSeen = true
			case 1:
				key = t.Name.Local
				text.Reset()
				inner = nil
			default:
				if inner == nil {
					inner = xml.NewEncoder(&text)
				}
				if err := inner.EncodeToken(t); err != nil {
					return nil, &DecodeError{Reason: err.Error()}
				}
			}
			depth++
		case xml.EndElement:
			depth--
			switch {
			case depth == 1:
				if inner != nil {
					if err := inner.Flush(); err != nil {
						return nil, &DecodeError{Reason: err.Error()}
					}
				}
				fields[key] = text.String()
			case depth > 1:
				if err := inner.EncodeToken(t); err != nil {
					return nil, &DecodeError{Reason: err.Error()}
				}
			}
		case xml.CharData:
			switch {
			case depth == 2 && inner == nil:
				text.Write(t)
			case depth > 2 || depth == 2 && inner != nil:
				if err := inner.EncodeToken(t); err != nil {
					return nil, &DecodeError{Reason: err.Error()}
				}
			case len(bytes.TrimSpace(t)) > 0:
				return nil, &DecodeError{Reason: fmt.Sprintf("text %q outside any field", preview(bytes.TrimSpace(t)))}
			}
		}
	}
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
}

// Unsigned reports whether answers to the URL path (as sent, without
// "v2/") carry no sign: red packets, transfers, bill downloads and the
// others the official SDKs list.
func Unsigned(path string) bool {
	for _, p := range unsigned {
		if strings.HasSuffix(path, p) {
			return true
		}
	}
	return false
}
