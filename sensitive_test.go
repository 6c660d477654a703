package wechatpay_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

func TestEncryptMatchesWechatpaySerial(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, tt := range []struct {
		name   string
		serial string
		key    *rsa.PrivateKey
	}{
		{"public key by default", "", srv.PublicKeyKey},
		{"platform certificate when chosen", srv.PlatformSerial, srv.PlatformKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(t, srv, func(c *wechatpay.Config) { c.WechatpaySerial = tt.serial })
			ct, err := b.Encrypt("张三")
			require.NoError(t, err)
			raw, err := base64.StdEncoding.DecodeString(ct)
			require.NoError(t, err)
			plain, err := rsa.DecryptOAEP(sha1.New(), nil, tt.key, raw, nil)
			require.NoError(t, err, "RSA-OAEP with SHA-1 under the key WeChat holds")
			assert.Equal(t, "张三", string(plain))

			_, err = b.V3().Applyment4sub().Applyment().Seg("_empty_").Post(context.Background(), wechatpay.Options{
				Path: map[string]string{"empty": ""}, JSON: map[string]string{"id_card_name": ct}})
			require.Error(t, err) // the fake server has no handler; the header is what matters
			last, _ := srv.LastRequest()
			assert.Equal(t, b.WechatpaySerial(), last.Header.Get("Wechatpay-Serial"), "the request names the key the field was encrypted with")
		})
	}
	b := newBuilder(t, srv, nil)
	const sentinel = "CARD-SECRET-5e1d9b7a" // 20 bytes
	_, err := b.Encrypt(strings.Repeat(sentinel, 15))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "300 bytes do not fit one RSA-OAEP block")
	assert.NotContains(t, err.Error(), sentinel, "the plaintext never goes into an error")
}

func TestDecrypt(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	raw, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &srv.MerchantKey.PublicKey, []byte("6222021234567890"), nil)
	require.NoError(t, err)
	plain, err := b.Decrypt(base64.StdEncoding.EncodeToString(raw))
	require.NoError(t, err)
	assert.Equal(t, "6222021234567890", plain)

	other, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &srv.PlatformKey.PublicKey, []byte("x"), nil)
	require.NoError(t, err)
	_, err = b.Decrypt(base64.StdEncoding.EncodeToString(other))
	assert.ErrorContains(t, err, "does not decrypt with the merchant API private key")
	_, err = b.Decrypt("***")
	assert.ErrorContains(t, err, "not base64")

	kms := newBuilder(t, srv, func(c *wechatpay.Config) {
		c.PrivateKey, c.SigningKey = nil, middleware.FromCryptoSigner(srv.MerchantKey)
	})
	_, err = kms.Decrypt(base64.StdEncoding.EncodeToString(raw))
	assert.ErrorContains(t, err, "needs Config.PrivateKey")
}

// verifyPaySign checks a client payment signature over "line\n" lines.
func verifyPaySign(t *testing.T, pub *rsa.PublicKey, sign string, lines ...string) {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(sign)
	require.NoError(t, err)
	digest := sha256.Sum256([]byte(strings.Join(lines, "\n") + "\n"))
	assert.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig))
}

func TestClientPaymentParameters(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()

	js, err := b.JSAPIParams(ctx, "wx8888888888888888", "wx201410272009395522657a690389285100")
	require.NoError(t, err)
	out, err := json.Marshal(js)
	require.NoError(t, err)
	assert.Regexp(t, `^\{"appId":"wx8888888888888888","timeStamp":"\d{10}","nonceStr":"[0-9A-Za-z]{32}","package":"prepay_id=wx201410272009395522657a690389285100","signType":"RSA","paySign":"[A-Za-z0-9+/=]+"\}$`, string(out))
	ts, err := strconv.ParseInt(js.TimeStamp, 10, 64)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), time.Unix(ts, 0), time.Minute)
	verifyPaySign(t, &srv.MerchantKey.PublicKey, js.PaySign, js.AppID, js.TimeStamp, js.NonceStr, js.Package)

	app, err := b.APPParams(ctx, "wx8888888888888888", "WX1217752501201407033233368018")
	require.NoError(t, err)
	out, err = json.Marshal(app)
	require.NoError(t, err)
	assert.Regexp(t, `^\{"appid":"wx8888888888888888","partnerid":"1900000001","prepayid":"WX1217752501201407033233368018","package":"Sign=WXPay","noncestr":"[0-9A-Za-z]{32}","timestamp":"\d{10}","sign":"[A-Za-z0-9+/=]+"\}$`, string(out))
	verifyPaySign(t, &srv.MerchantKey.PublicKey, app.Sign, app.AppID, app.Timestamp, app.NonceStr, app.PrepayID)

	_, err = b.JSAPIParams(ctx, "", "wx1")
	assert.ErrorContains(t, err, "need the appid and the prepay_id")
	v2only, err := wechatpay.NewBuilder(wechatpay.Config{MchID: srv.MchID, Secret: srv.Secret})
	require.NoError(t, err)
	_, err = v2only.APPParams(ctx, "wx1", "p1")
	assert.ErrorContains(t, err, "need the merchant API private key")
}
