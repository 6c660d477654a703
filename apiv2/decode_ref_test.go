package apiv2_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/wechatpay-chain/wechatpay/apiv2"
)

// referenceDecode is a flat-document reader on encoding/xml, the parser
// Decode replaced; FuzzDecodeAgainstEncodingXML holds Decode to it.
func referenceDecode(body []byte) (map[string]string, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	fields := map[string]string{}
	depth := 0
	var key string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if depth != 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return fields, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, io.ErrUnexpectedEOF
		case xml.StartElement:
			if depth == 1 {
				key = t.Name.Local
				text.Reset()
			}
			depth++
		case xml.EndElement:
			if depth--; depth == 1 {
				fields[key] = text.String()
			}
		case xml.CharData:
			if depth == 2 {
				text.Write(t)
			}
		}
	}
}

// FuzzDecodeAgainstEncodingXML: whatever Decode accepts, encoding/xml
// accepts too and reads the same text in every flat field.
func FuzzDecodeAgainstEncodingXML(f *testing.F) {
	for _, seed := range []string{
		"<xml><return_code><![CDATA[SUCCESS]]></return_code><a>1</a></xml>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\r\n<a>x&#13;\r\ny\rz</a><!-- c --><b a='1' c=\"&amp;\"/></xml>",
		"<root><a><b>1</b></a><c>&lt;&#x1F600;&quot;</c></root>",
		"<xml><a>1<![CDATA[]]]]><![CDATA[>\r]]>2<?pi x?>3</a></xml>",
		`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>`,
		"<xml><a>]]&gt;</a><b>\t\u00a0中</b></xml>",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := apiv2.Decode(body)
		if err != nil {
			return
		}
		want, refErr := referenceDecode(body)
		if refErr != nil {
			t.Fatalf("Decode accepts what encoding/xml refuses (%v): %q", refErr, body)
		}
		for k, v := range got {
			if strings.Contains(k, ":") || strings.Contains(v, "<") && bytes.Contains(body, []byte("<"+k+">"+v)) {
				continue // a prefixed name, or a nested field kept as XML
			}
			if want[k] != v {
				t.Fatalf("field %s: Decode %q, encoding/xml %q, body %q", k, v, want[k], body)
			}
		}
	})
}
