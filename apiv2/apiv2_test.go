package apiv2_test

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/internal/memtest"
)

// The official example of the APIv2 signing documentation.
var official = map[string]string{
	"appid": "wxd930ea5d5a258f4f", "body": "test", "device_info": "1000", "mch_id": "10000100",
	"nonce_str": "ibuaiVcKdpRxkhJA",
}

const officialKey = "192006250b4c09247ec02edce69f6a2d"

func TestSignOfficialVectors(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "9A0A8659F005D6984697E2CA0A9CF3B7", apiv2.Sign(official, officialKey, apiv2.MD5))
	assert.Equal(t, "9A0A8659F005D6984697E2CA0A9CF3B7", apiv2.Sign(official, officialKey, ""), "MD5 is the default")
	assert.Equal(t, "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6", apiv2.Sign(official, officialKey, apiv2.HMACSHA256))

	withNoise := map[string]string{"sign": "IGNORED", "empty": ""}
	for k, v := range official {
		withNoise[k] = v
	}
	assert.Equal(t, "9A0A8659F005D6984697E2CA0A9CF3B7", apiv2.Sign(withNoise, officialKey, apiv2.MD5), "sign and empty values are left out")
}

func TestVerify(t *testing.T) {
	t.Parallel()
	signed := func(sign string) map[string]string {
		m := map[string]string{"sign": sign}
		for k, v := range official {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		msg  map[string]string
		want error
	}{
		{"MD5", signed("9A0A8659F005D6984697E2CA0A9CF3B7"), nil},
		{"MD5 lower case", signed("9a0a8659f005d6984697e2ca0a9cf3b7"), nil},
		{"HMAC-SHA256 by length", signed("6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"), nil},
		{"wrong", signed("9A0A8659F005D6984697E2CA0A9CF3B8"), apiv2.ErrBadSign},
		{"truncated", signed("9A0A8659"), apiv2.ErrBadSign},
		{"missing", official, apiv2.ErrNoSign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, apiv2.Verify(tt.msg, officialKey))
		})
	}
	tampered := signed("9A0A8659F005D6984697E2CA0A9CF3B7")
	tampered["body"] = "test2"
	assert.ErrorIs(t, apiv2.Verify(tampered, officialKey), apiv2.ErrBadSign)
	assert.ErrorIs(t, apiv2.Verify(signed("9A0A8659F005D6984697E2CA0A9CF3B7"), "another key"), apiv2.ErrBadSign)
}

func TestEncodeDecode(t *testing.T) {
	t.Parallel()
	in := map[string]string{"b": "2", "a": "x<y & \"z\"", "c": "tricky ]]> end", "d": "中文", "e": "a\r\nb", "f": "<\r>"}
	body, err := apiv2.Encode(in)
	require.NoError(t, err)
	assert.Equal(t, `<xml><a><![CDATA[x<y & "z"]]></a><b>2</b><c><![CDATA[tricky ]]]]><![CDATA[> end]]></c><d>中文</d>`+
		"<e>a&#13;\nb</e><f><![CDATA[<]]>&#13;<![CDATA[>]]></f></xml>", string(body))
	out, err := apiv2.Decode(body)
	require.NoError(t, err)
	assert.Equal(t, in, out)
}

// TestEncodeRoundTrip: whatever a value holds that XML can carry comes back
// from Decode byte for byte, so the receiver computes the same sign. A raw
// CR would come back as LF (XML parsers normalise line ends, in CDATA too).
func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	values := []string{
		"a\rb", "a\r\nb", "\r", "\r\r\n\n", "line1\r\n<b>&amp;</b>\r\n", "]]>\r]]>", "]]]]><![CDATA[>",
		"\t tab \n lf ", "  spaces kept  ", "中文\u00a0\u2028\U0001F600", "&#13; written by hand", "&lt;&amp;",
		"'single' \"double\"", "", "\x7f\u0085\ufffd",
	}
	in := map[string]string{"nonce_str": "n"}
	for i, v := range values {
		in[fmt.Sprintf("v%02d", i)] = v
	}
	in["sign"] = apiv2.Sign(in, officialKey, apiv2.HMACSHA256)
	body, err := apiv2.Encode(in)
	require.NoError(t, err)
	out, err := apiv2.Decode(body)
	require.NoError(t, err)
	for k, v := range in {
		assert.Equal(t, v, out[k], "field %s", k)
	}
	assert.Len(t, out, len(in))
	assert.NoError(t, apiv2.Verify(out, officialKey), "the receiver computes the same sign")
	assert.NotContains(t, string(body), "\r", "no raw CR on the wire")
}

// TestEncodeRefusesWhatXMLCannotCarry: a value XML 1.0 cannot hold at all
// is an error naming the field, never a body the receiver reads otherwise.
func TestEncodeRefusesWhatXMLCannotCarry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, value, want string
	}{
		{"NUL", "body", "a\x00b", `apiv2: field "body" holds U+0000 at byte 1, which XML cannot carry`},
		{"control character", "attach", "x\x1by", `apiv2: field "attach" holds U+001B at byte 1, which XML cannot carry`},
		{"form feed", "detail", "\f", `apiv2: field "detail" holds U+000C at byte 0, which XML cannot carry`},
		{"invalid UTF-8", "body", "ok\xffno", `apiv2: field "body" is not valid UTF-8 (byte 2)`},
		{"U+FFFE", "body", "\ufffe", `apiv2: field "body" holds U+FFFE at byte 0, which XML cannot carry`},
		{"U+FFFF", "body", "ab\uffff", `apiv2: field "body" holds U+FFFF at byte 2, which XML cannot carry`},
		{"bad name", "a<b", "1", `apiv2: "a<b" is not an APIv2 field name (a letter or "_", then letters, digits and "_")`},
		{"name starting with a digit", "1a", "1", `apiv2: "1a" is not an APIv2 field name (a letter or "_", then letters, digits and "_")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, err := apiv2.Encode(map[string]string{"appid": "wx1", tt.key: tt.value})
			assert.Nil(t, body)
			assert.EqualError(t, err, tt.want)
			var fe *apiv2.FieldError
			assert.ErrorAs(t, err, &fe)
		})
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       map[string]string
		err        string
	}{
		{"CDATA and declaration", "<?xml version=\"1.0\"?>\n<xml>\n  <return_code><![CDATA[SUCCESS]]></return_code>\n  <total_fee>1</total_fee>\n</xml>\n",
			map[string]string{"return_code": "SUCCESS", "total_fee": "1"}, ""},
		{"root named root", "<root><out_refund_no>R1</out_refund_no></root>", map[string]string{"out_refund_no": "R1"}, ""},
		{"entities", "<xml><a>&lt;&amp;&gt;</a></xml>", map[string]string{"a": "<&>"}, ""},
		{"empty field", "<xml><a></a><b/></xml>", map[string]string{"a": "", "b": ""}, ""},
		{"nested field keeps its XML", "<xml><a><x>1</x><y>2</y></a><b>3</b></xml>", map[string]string{"a": "<x>1</x><y>2</y>", "b": "3"}, ""},
		{"XXE external entity", `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>`,
			nil, "DOCTYPE"},
		{"billion laughs", `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><xml><a>&lol2;</a></xml>`, nil, "DOCTYPE"},
		{"undeclared entity", `<xml><a>&xxe;</a></xml>`, nil, "invalid character entity &xxe;"},
		{"HTML error page", "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>", nil, `an HTML page (title: "502 Bad Gateway")`},
		{"plain text", "交易时间,公众账号ID", nil, "not \"<\""},
		{"empty", "  ", nil, "the body is empty"},
		{"unclosed", "<xml><a>1</a>", nil, "unexpected EOF"},
		{"mismatched", "<xml><a>1</b></xml>", nil, "element <a> closed by </b>"},
		{"two roots", "<xml></xml><xml></xml>", nil, "more than one root element"},
		{"stray text", "<xml>oops<a>1</a></xml>", nil, `text "oops" outside any field`},
		{"vertical tab outside a field", "<xml>\v<a>1</a></xml>", nil, `text "\v" outside any field`},
		{"a field twice", "<xml><a>1</a><a>2</a></xml>", nil, "the field <a> appears twice"},
		{"a non-ASCII name", "<xml><名>1</名></xml>", nil, "cannot start an element or attribute name"},
		{"a CR read as LF", "<xml><a>1\r\n2\r3<![CDATA[\r\n]]></a></xml>", map[string]string{"a": "1\n2\n3\n"}, ""},
		{"character references", "<xml><a>&#13;&#x1F600;&#20013;</a></xml>", map[string]string{"a": "\r😀中"}, ""},
		{"a reference to U+0000", "<xml><a>&#0;</a></xml>", nil, "invalid character entity &#0;"},
		{"a control character", "<xml><a>\x01</a></xml>", nil, "illegal character code U+0001"},
		{"invalid UTF-8", "<xml><a>\xff</a></xml>", nil, "invalid UTF-8"},
		{"another encoding", `<?xml version="1.0" encoding="GBK"?><xml/>`, nil, `the document is in "GBK"; APIv2 messages are UTF-8`},
		{"comments and declaration", "<?xml version=\"1.0\" encoding=\"utf-8\"?><!-- c --><xml><!-- d --><a>x<!-- e -->y</a></xml><!-- f -->",
			map[string]string{"a": "xy"}, ""},
		{"\"--\" in a comment", "<xml><!-- a -- b --></xml>", nil, `"--" inside a comment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := apiv2.Decode([]byte(tt.body))
			if tt.err != "" {
				var de *apiv2.DecodeError
				require.ErrorAs(t, err, &de)
				assert.Contains(t, err.Error(), tt.err)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

var apiv2Name = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// FuzzDecode: Decode never panics, and what it reads survives an
// Encode/Decode round trip.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"<xml><return_code><![CDATA[SUCCESS]]></return_code><a>1</a></xml>",
		"<root><a><b>1</b></a></root>",
		`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>`,
		"<html><title>x</title></html>",
		"<xml><a>]]&gt;</a></xml>",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fields, err := apiv2.Decode(body)
		if err != nil {
			return
		}
		for k := range fields {
			// Decode reads any XML name; Encode writes APIv2 names only.
			if !apiv2Name.MatchString(k) {
				return
			}
		}
		body, err = apiv2.Encode(fields)
		if err != nil {
			t.Fatalf("encoding %q: %v", fields, err)
		}
		again, err := apiv2.Decode(body)
		if err != nil {
			t.Fatalf("re-decoding %q: %v", body, err)
		}
		for k, v := range fields {
			if again[k] != v {
				t.Fatalf("field %q: %q became %q", k, v, again[k])
			}
		}
	})
}

// FuzzVerify: whatever the message and secret, a fresh sign verifies, and
// changing any value makes it fail.
func FuzzVerify(f *testing.F) {
	f.Add("appid", "wxd930ea5d5a258f4f", "body", "test", officialKey, true)
	f.Add("a", "", "b", "中文", "k", false)
	f.Add("a", "1", "b", "2", "", false) // the empty key verifies nothing
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, secret string, hmac bool) {
		if k1 == "sign" || k2 == "sign" || k1 == k2 || k1 == "" || k2 == "" {
			return
		}
		msg := map[string]string{k1: v1, k2: v2}
		signType := apiv2.MD5
		if hmac {
			signType = apiv2.HMACSHA256
		}
		msg["sign"] = apiv2.Sign(msg, secret, signType)
		if secret == "" {
			// Anyone can sign with the empty key: nothing verifies with it.
			if err := apiv2.Verify(msg, secret); !errors.Is(err, apiv2.ErrNoSecret) {
				t.Fatalf("Verify with the empty key = %v, want ErrNoSecret", err)
			}
			return
		}
		if err := apiv2.Verify(msg, secret); err != nil {
			t.Fatalf("a fresh sign does not verify: %v", err)
		}
		msg[k2] = v2 + "x"
		if apiv2.Verify(msg, secret) == nil {
			t.Fatal("a changed value still verifies")
		}
	})
}

// TestDecodeLimits: APIv2 messages are small and flat (a field holds text;
// only the red-packet query nests two levels inside one), so a body that is
// too large or nested too deep is refused before it costs anything.
func TestDecodeLimits(t *testing.T) {
	// Not parallel: memtest counts what every goroutine allocates.
	hbinfo := "<xml><return_code>SUCCESS</return_code><hblist><hbinfo><openid>o1</openid><amount>100</amount></hbinfo></hblist></xml>"
	fields, err := apiv2.Decode([]byte(hbinfo))
	require.NoError(t, err, "the red-packet query's answer nests hblist/hbinfo/openid")
	assert.Equal(t, "<hbinfo><openid>o1</openid><amount>100</amount></hbinfo>", fields["hblist"])

	tests := []struct {
		name string
		dec  apiv2.Decoder
		body string
		err  string
	}{
		{"five levels", apiv2.Decoder{}, "<xml><a><b><c><d>1</d></c></b></a></xml>",
			"<d> is nested 5 levels deep; APIv2 messages are at most 4"},
		{"flat only", apiv2.Decoder{MaxDepth: 2}, "<xml><a><b>1</b></a></xml>",
			"<b> is nested 3 levels deep; APIv2 messages are at most 2"},
		{"size", apiv2.Decoder{MaxSize: 40}, "<xml><a>" + strings.Repeat("x", 23) + "</a></xml>",
			"the body is 41 bytes, more than the 40 an APIv2 message may have"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.dec.Decode([]byte(tt.body))
			var de *apiv2.DecodeError
			require.ErrorAs(t, err, &de)
			assert.ErrorContains(t, err, tt.err)
			assert.Nil(t, got)
		})
	}

	// The attacks: refused before any work, whatever their size.
	deep := []byte("<xml>" + strings.Repeat("<a>", 500_000) + strings.Repeat("</a>", 500_000) + "</xml>")
	tooBig := []byte("<xml><a>" + strings.Repeat("x", apiv2.MaxSize) + "</a></xml>")
	for name, body := range map[string][]byte{"3.5 MB deeply nested": deep, "MaxSize+18 bytes": tooBig} {
		t.Run(name, func(t *testing.T) {
			var err error
			n := memtest.Allocated(func() { _, err = apiv2.Decode(body) })
			require.Error(t, err)
			assert.Less(t, n, uint64(64<<10), "bytes allocated refusing a %d-byte body", len(body))
		})
	}
}

// TestDecodeAllocationBound: what Decode allocates stays about the size of
// the body, whatever its shape, whether it accepts the body or refuses it
// (with encoding/xml, a 3.5 MB deeply nested body cost 270 MiB, a 50 MB
// field 4.5 times its size, small elements 15 to 34 times theirs).
func TestDecodeAllocationBound(t *testing.T) {
	// Not parallel: memtest counts what every goroutine allocates.
	const size = 3 << 20
	fields := func(n int, field func(i int) string) []byte {
		var b strings.Builder
		b.WriteString("<xml>")
		for i := range n {
			b.WriteString(field(i))
		}
		b.WriteString("</xml>")
		return []byte(b.String())
	}
	shapes := []struct {
		name string
		body []byte
		ok   bool
	}{
		{"one large field", []byte("<xml><a>" + strings.Repeat("x", size) + "</a></xml>"), true},
		{"one large field with a CR", []byte("<xml><a>" + strings.Repeat("x", size) + "&#13;</a></xml>"), true},
		{"CDATA pieces", []byte("<xml><a>" + strings.Repeat("<![CDATA[x]]>&#13;", size/18) + "</a></xml>"), true},
		{"entities", []byte("<xml><a>" + strings.Repeat("&amp;", size/5) + "</a></xml>"), true},
		{"nested", []byte("<xml><hblist>" + strings.Repeat("<hbinfo><openid>o1</openid><amount>100</amount></hbinfo>", size/56) + "</hblist></xml>"), true},
		{"MaxFields 1 KB fields", fields(apiv2.MaxFields, func(i int) string {
			return fmt.Sprintf("<f%d>%s</f%d>", i, strings.Repeat("v", 1000), i)
		}), true},
		{"MaxFields empty fields", fields(apiv2.MaxFields, func(i int) string { return fmt.Sprintf("<f%d/>", i) }), true},
		{"too many fields", fields(size/10, func(i int) string { return fmt.Sprintf("<f%d/>", i) }), false},
		{"one field repeated", fields(size/8, func(int) string { return "<a>1</a>" }), false},
		{"deeply nested", []byte("<xml>" + strings.Repeat("<a>", size/7) + strings.Repeat("</a>", size/7) + "</xml>"), false},
	}
	for _, tt := range shapes {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := memtest.Allocated(func() { _, err = apiv2.Decode(tt.body) })
			assert.Equal(t, tt.ok, err == nil, "%v", err)
			t.Logf("%d bytes allocated for a %d-byte body (%.2f×)", n, len(tt.body), float64(n)/float64(len(tt.body)))
			// Twice the body, plus the map of at most MaxFields fields.
			assert.LessOrEqual(t, n, uint64(2*len(tt.body)+1<<20))
		})
	}
}

// FuzzEncodeRoundTrip: Encode either refuses a value with a *FieldError or
// writes it so that Decode gives it back byte for byte.
func FuzzEncodeRoundTrip(f *testing.F) {
	f.Add("a\r\nb", "<\r>]]>")
	f.Add("\x00", "\xff")
	f.Add("中文\r", "&#13;")
	f.Fuzz(func(t *testing.T, v1, v2 string) {
		in := map[string]string{"a": v1, "b": v2}
		body, err := apiv2.Encode(in)
		if err != nil {
			var fe *apiv2.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("not a *FieldError: %v", err)
			}
			return
		}
		out, err := apiv2.Decode(body)
		if err != nil {
			t.Fatalf("decoding %q: %v", body, err)
		}
		if out["a"] != v1 || out["b"] != v2 || len(out) != 2 {
			t.Fatalf("%q came back as %q", in, out)
		}
	})
}

// TestUnsignedIsExact: a path is unsigned only when it is one of the list,
// relative to the base URL; one that merely ends like one (a value's
// decoded slashes, another prefix, a base path left on) is not.
func TestUnsignedIsExact(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"pay/downloadbill":                    true,
		"/pay/downloadbill":                   true,
		"secapi/mch/submchmanage":             true,
		"/secapi/mch/x/pay/downloadbill":      false,
		"secapi/mch/pay/downloadbill":         false,
		"/hk/pay/downloadbill":                false,
		"pay/downloadbill/":                   false,
		"pay/downloadbill2":                   false,
		"pay/orderquery":                      false,
		"v2/pay/downloadbill":                 false,
		"xdc/apiv2getsignkey/sign/getsignkey": true,
	} {
		assert.Equal(t, want, apiv2.Unsigned(path), path)
	}
}

// TestVerifyRefusesAnEmptySecret: a sign made with the empty key is what
// anyone can compute, so an empty secret (an unset variable) must never
// verify: it fails closed.
func TestVerifyRefusesAnEmptySecret(t *testing.T) {
	t.Parallel()
	fields := map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "out_trade_no": "FORGED-ORDER-7a1c3e"}
	for _, signType := range []string{apiv2.MD5, apiv2.HMACSHA256} {
		f := maps.Clone(fields)
		f["sign"] = apiv2.Sign(f, "", signType)
		err := apiv2.Verify(f, "")
		require.Error(t, err, signType)
		assert.ErrorIs(t, err, apiv2.ErrNoSecret)
	}
}
