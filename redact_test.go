package wechatpay_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// Sentinels of 32 characters, the length both keys have: text that cannot
// occur in any output by chance.
const (
	sentinelV2 = "SentinelApiV2SecretQ7xZ3kLm9PwRt"
	sentinelV3 = "SentinelApiV3KeyJ4vN8cYh2XsDq6Fb"
)

// TestSecretsNeverPrint formats every type that holds a secret with every
// verb, through slog's text and JSON handlers and encoding/json: neither
// the APIv2 secret, the APIv3 key nor the private key's numbers show, and
// what is not secret does.
func TestSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	srv := newServer(t, wechatpaytest.WithTLS())
	cfg := srv.Config()
	cfg.Secret = sentinelV2
	require.NotNil(t, cfg.TLSCertificate)
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	mc := certificates.Config{APIv3Key: sentinelV3, Path: "v3/certificates"}
	mgr, err := certificates.NewManager(mc)
	require.NoError(t, err)
	defer mgr.Stop()
	parser := notify.Parser{Keys: mgr, APIv3Key: sentinelV3}

	// The private key's secret numbers, in the forms fmt and json print them.
	key := srv.MerchantKey
	secrets := []string{sentinelV2, sentinelV3, key.D.String()[:40], key.Primes[0].String()[:40],
		fmt.Sprintf("%x", key.D)[:40], fmt.Sprintf("%x", key.Primes[1])[:40]}

	values := []struct {
		name  string
		value any
		shows []string // what is not secret and should be seen
	}{
		{"Config", cfg, []string{srv.MchID, srv.MerchantSerial, srv.PublicKeyID, "[redacted]"}},
		{"*Config", &cfg, []string{srv.MchID, srv.MerchantSerial, "[redacted]"}},
		{"*Builder", b, []string{srv.MchID, "[redacted]"}},
		{"certificates.Config", mc, []string{"v3/certificates", "[redacted]"}},
		{"*certificates.Config", &mc, []string{"[redacted]"}},
		{"*certificates.Manager", mgr, []string{"v3/certificates", "[redacted]"}},
		{"notify.Parser", parser, []string{"[redacted]"}},
		{"*notify.Parser", &parser, []string{"[redacted]"}},
		{"a struct holding a Config", struct{ Cfg wechatpay.Config }{cfg}, []string{srv.MchID}},
		{"a map holding a Parser", map[string]notify.Parser{"p": parser}, []string{"[redacted]"}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%10.3v", "%-40s"}
	for _, v := range values {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			outputs := map[string]string{}
			for _, verb := range verbs {
				outputs[verb] = fmt.Sprintf(verb, v.value)
			}
			outputs["Sprint"] = fmt.Sprint(v.value)
			outputs["Sprintln"] = fmt.Sprintln(v.value)
			var text, js bytes.Buffer
			slog.New(slog.NewTextHandler(&text, nil)).Info("config", "value", v.value, slog.Any("any", v.value))
			slog.New(slog.NewJSONHandler(&js, nil)).Info("config", "value", v.value, slog.Any("any", v.value))
			outputs["slog text"], outputs["slog JSON"] = text.String(), js.String()
			if data, err := json.Marshal(v.value); err == nil {
				outputs["json"] = string(data)
			} else {
				outputs["json error"] = err.Error()
			}
			for how, out := range outputs {
				for _, s := range secrets {
					assert.NotContains(t, out, s, "%s shows a secret", how)
				}
			}
			for _, how := range []string{"%v", "%+v", "%#v", "%s", "slog text", "slog JSON", "json"} {
				for _, want := range v.shows {
					assert.Contains(t, outputs[how], want, how)
				}
			}
		})
	}
}

// TestRedactedFormsSayWhatIsSet pins the exact forms: the non-secret
// fields, and which secrets are set.
func TestRedactedFormsSayWhatIsSet(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	cfg := wechatpay.Config{MchID: "1900000001", Serial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", PrivateKey: srv.MerchantKey, Secret: sentinelV2,
		TLSCertificate: &tls.Certificate{}}
	assert.Equal(t, `wechatpay.Config{MchID:1900000001 Serial:5157F09EFDC096DE15EBE81A47057A7232F1B8E1 PrivateKey:[redacted RSA-2048] Secret:[redacted] TLSCertificate:[redacted]}`, cfg.String())
	assert.Equal(t, `wechatpay.Config{MchID:"1900000001", Serial:"5157F09EFDC096DE15EBE81A47057A7232F1B8E1", PrivateKey:"[redacted RSA-2048]", Secret:"[redacted]", TLSCertificate:"[redacted]"}`, cfg.GoString())
	assert.Equal(t, cfg.String(), fmt.Sprintf("%v", cfg))
	assert.Equal(t, cfg.GoString(), fmt.Sprintf("%#v", &cfg))
	assert.Equal(t, `wechatpay.Config{MchID:}`, wechatpay.Config{}.String())
	data, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.JSONEq(t, `{"MchID":"1900000001","Serial":"5157F09EFDC096DE15EBE81A47057A7232F1B8E1","PrivateKey":"[redacted RSA-2048]","Secret":"[redacted]","TLSCertificate":"[redacted]"}`, string(data))

	var nilBuilder *wechatpay.Builder
	assert.Equal(t, "<nil>", fmt.Sprint(nilBuilder))
	assert.Equal(t, "(*wechatpay.Builder)(nil)", fmt.Sprintf("%#v", nilBuilder))

	p := notify.Parser{APIv3Key: sentinelV3}
	assert.Equal(t, `notify.Parser{Keys:<nil> APIv3Key:[redacted]}`, p.String())
	assert.Equal(t, `notify.Parser{Keys:<nil>}`, notify.Parser{}.String())
	o := certificates.Config{APIv3Key: sentinelV3}
	assert.Equal(t, `certificates.Config{APIv3Key:[redacted]}`, o.String())
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})).Info("x", "cfg", cfg)
	assert.Equal(t, "level=INFO msg=x cfg.MchID=1900000001 cfg.Serial=5157F09EFDC096DE15EBE81A47057A7232F1B8E1 cfg.PrivateKey=\"[redacted RSA-2048]\" cfg.Secret=[redacted] cfg.TLSCertificate=[redacted]\n", buf.String())
	assert.False(t, strings.Contains(buf.String(), sentinelV2))
}

// TestLoaderErrorsNeverEchoTheInput gives every loader a secret by mistake
// (an APIv3 key where a key file or PEM text belongs, alone and dressed up
// as a path, a URI, a PEM label or body): the error says what was expected
// without repeating it.
func TestLoaderErrorsNeverEchoTheInput(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	s := sentinelV3
	pemOf := func(label, body string) string {
		return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n"
	}
	inputs := map[string]string{
		"the secret":                     s,
		"with spaces around":             "  " + s + "\n",
		"as a file:// URI":               "file://" + s,
		"with a slash":                   s[:10] + "/" + s[10:],
		"upper case":                     strings.ToUpper(s),
		"as a PEM label":                 pemOf(s, "AAAA"),
		"as an upper-case PEM label":     pemOf(strings.ToUpper(s), "AAAA"),
		"as a PRIVATE KEY body":          pemOf("PRIVATE KEY", s),
		"as a PUBLIC KEY body":           pemOf("PUBLIC KEY", s),
		"as a CERTIFICATE body":          pemOf("CERTIFICATE", s),
		"in an encrypted PEM header":     "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4," + s + "\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
		"after a base64 scheme":          "private.pkcs8://" + s,
		"after a public base64 scheme":   "public.spki://" + s,
		"after a file scheme, with .pem": "file://" + s + "\n.pem",
	}
	loaders := map[string]func(string) error{
		"LoadPrivateKey":  func(in string) error { _, err := wechatpay.LoadPrivateKey(in); return err },
		"LoadPublicKey":   func(in string) error { _, err := wechatpay.LoadPublicKey(in); return err },
		"LoadCertificate": func(in string) error { _, err := wechatpay.LoadCertificate(in); return err },
		"LoadTLSCertificate cert": func(in string) error {
			_, err := wechatpay.LoadTLSCertificate(in, "unused.pem")
			return err
		},
		"LoadTLSCertificate key": func(in string) error {
			_, err := wechatpay.LoadTLSCertificate(pemText("CERTIFICATE", srv.MerchantCert.Raw), in)
			return err
		},
		"LoadPKCS12 path":  func(in string) error { _, err := wechatpay.LoadPKCS12(in, srv.MchID); return err },
		"ParsePKCS12 data": func(in string) error { _, err := wechatpay.ParsePKCS12([]byte(in), srv.MchID); return err },
		"ParsePKCS12 password": func(in string) error {
			_, err := wechatpay.ParsePKCS12([]byte{0x30, 0x03, 0x02, 0x01, 0x03}, in)
			return err
		},
	}
	for lname, load := range loaders {
		for iname, in := range inputs {
			t.Run(lname+"/"+iname, func(t *testing.T) {
				t.Parallel()
				err := load(in)
				require.Error(t, err)
				assert.NotContains(t, err.Error(), s[4:20])
				assert.NotContains(t, err.Error(), strings.ToUpper(s[4:20]))
			})
		}
	}
}
