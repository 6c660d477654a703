package apiv2_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/apiv2"
)

// The official example of the APIv2 signing documentation.
var official = map[string]string{
	"appid": "wxd930ea5d5a258f4f", "body": "test", "device_info": "1000", "mch_id": "10000100",
	"nonce_str": "ibuaiVcKdpRxkhJA",
}

const officialKey = "192006250b4c09247ec02edce69f6a2d"

func TestSignOfficialVectors(t *testing.T) {
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
			assert.Equal(t, tt.want, apiv2.Verify(tt.msg, officialKey))
		})
	}
	tampered := signed("9A0A8659F005D6984697E2CA0A9CF3B7")
	tampered["body"] = "test2"
	assert.ErrorIs(t, apiv2.Verify(tampered, officialKey), apiv2.ErrBadSign)
	assert.ErrorIs(t, apiv2.Verify(signed("9A0A8659F005D6984697E2CA0A9CF3B7"), "another key"), apiv2.ErrBadSign)
}

func TestEncodeDecode(t *testing.T) {
	in := map[string]string{"b": "2", "a": "x<y & \"z\"", "c": "tricky ]]> end", "d": "中文"}
	body := apiv2.Encode(in)
	assert.Equal(t, `<xml><a><![CDATA[x<y & "z"]]></a><b>2</b><c><![CDATA[tricky ]]]]><![CDATA[> end]]></c><d>中文</d></xml>`, string(body))
	out, err := apiv2.Decode(body)
	require.NoError(t, err)
	assert.Equal(t, in, out)
}

func TestDecode(t *testing.T) {
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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
		for k, v := range fields {
			// XML text cannot hold every string: control characters are not
			// allowed, and a parser turns "\r" into "\n".
			if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' }) {
				return
			}
			if strings.ContainsAny(k, "<>&\"' /=") {
				return
			}
		}
		again, err := apiv2.Decode(apiv2.Encode(fields))
		if err != nil {
			t.Fatalf("re-decoding %q: %v", apiv2.Encode(fields), err)
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
		if err := apiv2.Verify(msg, secret); err != nil {
			t.Fatalf("a fresh sign does not verify: %v", err)
		}
		msg[k2] = v2 + "x"
		if apiv2.Verify(msg, secret) == nil {
			t.Fatal("a changed value still verifies")
		}
	})
}
