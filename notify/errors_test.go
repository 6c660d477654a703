package notify_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/aesgcm"
	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestEveryParseFailureHasANotifyError: whatever goes wrong, the error
// matches exactly one of notify's four classes, so a handler can tell them
// apart without importing aesgcm or middleware.
func TestEveryParseFailureHasANotifyError(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p := parser(srv)
	ctx := context.Background()

	faulty := func(f wechatpaytest.Fault) (http.Header, []byte) {
		h, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, f)
		require.NoError(t, err)
		return h, body
	}
	// signed returns a body WeChat Pay signed: the notification with its
	// resource edited by edit.
	signed := func(edit func(resource map[string]any)) (http.Header, []byte) {
		_, body := faulty(wechatpaytest.NoFault)
		var n map[string]any
		require.NoError(t, json.Unmarshal(body, &n))
		edit(n["resource"].(map[string]any))
		out, err := json.Marshal(n)
		require.NoError(t, err)
		return signByHand(t, srv.PublicKeyKey, srv.PublicKeyID, out), out
	}
	raw := func(body string) (http.Header, []byte) {
		return signByHand(t, srv.PublicKeyKey, srv.PublicKeyID, []byte(body)), []byte(body)
	}
	good := func() (http.Header, []byte) { return faulty(wechatpaytest.NoFault) }

	noKeys := parser(srv)
	noKeys.Keys = nil
	shortKey := parser(srv)
	shortKey.APIv3Key = "0123456789abcdef0123456789abcde" // 31 characters
	otherKey := parser(srv)
	otherKey.APIv3Key = "0123456789abcdef0123456789abcdef"

	classes := []error{notify.ErrConfig, notify.ErrVerification, notify.ErrMalformed, notify.ErrDecrypt}
	tests := []struct {
		name   string
		parser *notify.Parser
		input  func() (http.Header, []byte)
		want   error // one of classes
		kind   error // the detail, where there is one
	}{
		{"no keys", noKeys, good, notify.ErrConfig, nil},
		{"an APIv3 key of 31 characters", shortKey, good, notify.ErrConfig, nil},
		{"missing signature", p, func() (http.Header, []byte) { return faulty(wechatpaytest.MissingSignature) }, notify.ErrVerification, notify.ErrMissingHeader},
		{"stale", p, func() (http.Header, []byte) { return faulty(wechatpaytest.StaleTimestamp) }, notify.ErrVerification, notify.ErrClockSkew},
		{"sign test probe", p, func() (http.Header, []byte) { return faulty(wechatpaytest.SignTest) }, notify.ErrVerification, notify.ErrSignTest},
		{"unknown serial", p, func() (http.Header, []byte) { return faulty(wechatpaytest.UnknownSerial) }, notify.ErrVerification, notify.ErrUnknownSerial},
		{"tampered body", p, func() (http.Header, []byte) { return faulty(wechatpaytest.TamperedBody) }, notify.ErrVerification, notify.ErrBadSignature},
		{"malformed timestamp", p, func() (http.Header, []byte) {
			h, body := good()
			h.Set("Wechatpay-Timestamp", "yesterday")
			return h, body
		}, notify.ErrVerification, notify.ErrMalformedHeader},
		{"signed, not JSON", p, func() (http.Header, []byte) { return raw("not json at all") }, notify.ErrMalformed, nil},
		{"signed, no id", p, func() (http.Header, []byte) { return raw(`{"hello":"world"}`) }, notify.ErrMalformed, nil},
		{"signed, no ciphertext", p, func() (http.Header, []byte) {
			return signed(func(r map[string]any) { r["ciphertext"] = "" })
		}, notify.ErrMalformed, nil},
		{"signed, another algorithm", p, func() (http.Header, []byte) {
			return signed(func(r map[string]any) { r["algorithm"] = "AEAD_SM4_GCM" })
		}, notify.ErrMalformed, nil},
		{"signed, ciphertext not base64", p, func() (http.Header, []byte) {
			return signed(func(r map[string]any) { r["ciphertext"] = "***not-base64***" })
		}, notify.ErrDecrypt, nil},
		{"signed, empty nonce", p, func() (http.Header, []byte) {
			return signed(func(r map[string]any) { r["nonce"] = "" })
		}, notify.ErrDecrypt, nil},
		{"signed, altered ciphertext", p, func() (http.Header, []byte) {
			return signed(func(r map[string]any) {
				ct := r["ciphertext"].(string)
				r["ciphertext"] = strings.Repeat("A", 4) + ct[4:]
			})
		}, notify.ErrDecrypt, nil},
		{"another APIv3 key", otherKey, good, notify.ErrDecrypt, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, body := tt.input()
			n, err := tt.parser.Parse(ctx, h, body)
			require.Error(t, err)
			assert.Nil(t, n)
			for _, class := range classes {
				assert.Equal(t, class == tt.want, errors.Is(err, class), "errors.Is(%v, %v)", err, class)
			}
			if tt.kind != nil {
				assert.ErrorIs(t, err, tt.kind)
			}
			if tt.want == notify.ErrDecrypt {
				assert.ErrorIs(t, err, aesgcm.ErrDecrypt, "Parse's promise")
			}
			if tt.want == notify.ErrVerification {
				assert.ErrorIs(t, err, middleware.ErrVerification)
			}
			assert.NotContains(t, err.Error(), srv.APIv3Key)
			assert.NotContains(t, err.Error(), otherKey.APIv3Key)
		})
	}
}

// TestNewParser: a wrong APIv3 key or no keys fail at start-up, not as a
// 400 on every notification.
func TestNewParser(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	keys := middleware.StaticKeys{srv.PublicKeyID: &srv.PublicKeyKey.PublicKey}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	tests := []struct {
		name     string
		keys     middleware.PublicKeys
		apiv3Key string
		want     string // "" accepted
	}{
		{"good", keys, srv.APIv3Key, ""},
		{"31 characters", keys, srv.APIv3Key[:31], "notify: the Parser is misconfigured: the APIv3 key has 31 characters: the APIv3 key set in the merchant platform has 32"},
		{"empty key", keys, "", "notify: the Parser is misconfigured: the APIv3 key has 0 characters: the APIv3 key set in the merchant platform has 32"},
		{"nil keys", nil, srv.APIv3Key, "notify: the Parser is misconfigured: no verification keys: expected the WeChat Pay public key or platform certificates"},
		{"empty keys", middleware.StaticKeys{}, srv.APIv3Key, "notify: the Parser is misconfigured: no verification keys: expected the WeChat Pay public key or platform certificates"},
		{"a nil key", middleware.StaticKeys{srv.PublicKeyID: nil}, srv.APIv3Key, `notify: the Parser is misconfigured: the key for "` + srv.PublicKeyID + `" is nil`},
		{"a 1024-bit key", middleware.StaticKeys{srv.PublicKeyID: &weak.PublicKey}, srv.APIv3Key,
			`notify: the Parser is misconfigured: the key for "` + srv.PublicKeyID + `" is a 1024-bit RSA key: 2048 bits or more are required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := notify.NewParser(tt.keys, tt.apiv3Key)
			if tt.want == "" {
				require.NoError(t, err)
				h, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
				require.NoError(t, err)
				n, err := p.Parse(context.Background(), h, body)
				require.NoError(t, err)
				assert.Equal(t, "T1", n.Get("out_trade_no").String())
				return
			}
			assert.Nil(t, p)
			assert.ErrorIs(t, err, notify.ErrConfig)
			assert.ErrorContains(t, err, tt.want)
			if tt.apiv3Key != "" {
				assert.NotContains(t, err.Error(), tt.apiv3Key)
			}
		})
	}
}

// TestParseCanonicalisesHeaders: a framework may hand over a header map with
// lower-case keys (HTTP/2, API gateways).
func TestParseCanonicalisesHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	h, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
	require.NoError(t, err)
	for name, lower := range map[string]func(string) string{
		"lower case": strings.ToLower,
		"upper case": strings.ToUpper,
	} {
		t.Run(name, func(t *testing.T) {
			odd := http.Header{}
			for k, v := range h {
				odd[lower(k)] = v
			}
			n, err := parser(srv).Parse(context.Background(), odd, body)
			require.NoError(t, err)
			assert.Equal(t, srv.PublicKeyID, n.Serial)
			assert.Equal(t, "T1", n.Get("out_trade_no").String())
		})
	}
}
