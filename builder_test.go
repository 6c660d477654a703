package wechatpay_test

import (
	"context"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/certificates"
)

func TestNewBuilderNamesTheWrongField(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name string
		edit func(*wechatpay.Config)
		want string
	}{
		{"no merchant id", func(c *wechatpay.Config) { c.MchID = "" }, `Config.MchID "" is not a merchant id: expected digits`},
		{"merchant id with letters", func(c *wechatpay.Config) { c.MchID = "mch1900" }, `Config.MchID "mch1900"`},
		{"no serial", func(c *wechatpay.Config) { c.Serial = "" }, "Config.Serial is empty: expected the serial number of the merchant API certificate"},
		{"public key id as serial", func(c *wechatpay.Config) { c.Serial = srv.PublicKeyID }, "a WeChat Pay public key id: that id belongs in Config.Certs"},
		{"serial not hex", func(c *wechatpay.Config) { c.Serial = "serial-1" }, `Config.Serial "serial-1" is not a certificate serial`},
		{"no key", func(c *wechatpay.Config) { c.PrivateKey = nil }, "Config.PrivateKey is nil: expected the merchant API private key apiclient_key.pem"},
		{"two keys", func(c *wechatpay.Config) { c.SigningKey = failingKey{} }, "Config.PrivateKey and Config.SigningKey are both set"},
		{"nil signing key in an interface", func(c *wechatpay.Config) { c.PrivateKey, c.SigningKey = nil, (*countingKey)(nil) },
			"Config.SigningKey is a nil *wechatpay_test.countingKey: expected a key that signs"},
		{"empty key", func(c *wechatpay.Config) { c.PrivateKey = &rsa.PrivateKey{} }, "Config.PrivateKey is an empty rsa.PrivateKey"},
		{"nil key source in an interface", func(c *wechatpay.Config) { c.Keys = (*certificates.Manager)(nil) },
			"Config.Keys is a nil *certificates.Manager: expected a source of verification keys"},
		{"no verification keys", func(c *wechatpay.Config) { c.Certs = nil }, "Config.Certs is empty and Config.Keys is nil, so no response could be verified: set Config.Certs to the WeChat Pay public key"},
		{"bad cert id", func(c *wechatpay.Config) { c.Certs["platform"] = &srv.PlatformKey.PublicKey },
			`Config.Certs key "platform" is neither a platform certificate serial (hex) nor a WeChat Pay public key id`},
		{"nil cert", func(c *wechatpay.Config) { c.Certs[srv.PlatformSerial] = nil }, `Config.Certs["` + srv.PlatformSerial + `"] is nil`},
		{"merchant certificate among Certs", func(c *wechatpay.Config) { c.Certs[srv.MerchantSerial] = &srv.PlatformKey.PublicKey },
			"is the merchant API certificate (Config.Serial)"},
		{"merchant key among Certs", func(c *wechatpay.Config) { c.Certs[srv.PlatformSerial] = &srv.MerchantKey.PublicKey },
			"is the merchant's own public key"},
		{"unknown WechatpaySerial", func(c *wechatpay.Config) { c.WechatpaySerial = "ABCDEF" },
			`Config.WechatpaySerial "ABCDEF" is not a key of Config.Certs`},
		{"relative base URL", func(c *wechatpay.Config) { c.BaseURL = "api.mch.weixin.qq.com" },
			`Config.BaseURL: "api.mch.weixin.qq.com" is not an absolute http(s) URL`},
		{"ftp base URL", func(c *wechatpay.Config) { c.BaseURL = "ftp://api.mch.weixin.qq.com/" }, "is not an absolute http(s) URL"},
		{"base URL with query", func(c *wechatpay.Config) { c.BaseURL = "https://api.mch.weixin.qq.com/?x=1" }, "has a query or fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := srv.Config()
			tt.edit(&cfg)
			b, err := wechatpay.NewBuilder(cfg)
			assert.Nil(t, b)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "wechatpay: "), err.Error())
		})
	}
}

func TestLowerCaseSerialsAreNormalised(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.Serial = strings.ToLower(c.Serial)
		c.Certs = map[string]*rsa.PublicKey{strings.ToLower(srv.PlatformSerial): &srv.PlatformKey.PublicKey}
	})
	resp, err := b.Chain("v3/pay/transactions/jsapi").Post(context.Background(), wechatpay.Options{JSON: map[string]any{
		"appid": "wx1", "mchid": srv.MchID, "description": "d", "out_trade_no": "1", "notify_url": "https://x/", "amount": map[string]int{"total": 1}}})
	require.NoError(t, err)
	assert.True(t, resp.Get("prepay_id").Exists())
	got := lastAccepted(t, srv)
	assert.Equal(t, srv.PlatformSerial, got.Header.Get("Wechatpay-Serial"), "the only platform certificate is the default Wechatpay-Serial")
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("GET /v3/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, underBase("/v3/elsewhere"), http.StatusFound)
	})
	own := &http.Client{}
	b := newBuilder(t, srv, func(c *wechatpay.Config) { c.HTTPClient = own })
	_, err := b.Chain("v3/moved").Get(context.Background())
	var apiErr *wechatpay.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusFound, apiErr.StatusCode)
	assert.Len(t, srv.Requests(), 1, "the redirect was not followed with a signature made for another path")
	assert.Nil(t, own.CheckRedirect, "the caller's client is not modified")
}

// TestBaseURLRefusesUserInfo: user info in a base URL would go out as Basic
// credentials next to the signature, as Chain refuses for a full URL; the
// error hides it.
func TestBaseURLRefusesUserInfo(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const password = "BASEURL-PASSWORD-5c2e9a"
	withUser := strings.Replace(srv.URL, "://", "://user:"+password+"@", 1)

	cfg := srv.Config()
	cfg.BaseURL = withUser
	_, err := wechatpay.NewBuilder(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.BaseURL")
	assert.Contains(t, err.Error(), "user info")
	assert.NotContains(t, err.Error(), password)

	b, err := wechatpay.NewBuilder(srv.Config())
	require.NoError(t, err)
	before := len(srv.Requests())
	_, err = b.Chain("v3/certificates").Get(context.Background(), wechatpay.Options{BaseURL: withUser})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Options.BaseURL")
	assert.Contains(t, err.Error(), "user info")
	assert.NotContains(t, err.Error(), password)
	assert.Len(t, srv.Requests(), before, "nothing was sent")
}

// TestConfigErrorsHideLongValues: a value that fails a Config check is
// quoted in the error only when it is too short to be a secret put in the
// wrong field (an APIv3 or APIv2 key has 32 characters).
func TestConfigErrorsHideLongValues(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const secret = "WRONG-FIELD-SECRET-0123456789abc"    // 32 characters, like an APIv3 key
	const hexSecret = "d7fbafc8e1a24c6b9f3e5a7d2c4b6e8f" // an APIv2 key made from a digest
	tests := []struct {
		name  string
		edit  func(*wechatpay.Config)
		field string
	}{
		{"MchID", func(c *wechatpay.Config) { c.MchID = secret }, "Config.MchID (32 characters, not shown"},
		{"Serial", func(c *wechatpay.Config) { c.Serial = secret }, "Config.Serial (32 characters, not shown"},
		{"WechatpaySerial", func(c *wechatpay.Config) { c.WechatpaySerial = secret }, "Config.WechatpaySerial (32 characters, not shown"},
		{"WechatpaySerial, a hex key", func(c *wechatpay.Config) { c.WechatpaySerial = hexSecret }, "Config.WechatpaySerial (32 characters, not shown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := srv.Config()
			tt.edit(&cfg)
			_, err := wechatpay.NewBuilder(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.field)
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), hexSecret)
		})
	}
}
