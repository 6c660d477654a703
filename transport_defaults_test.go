package wechatpay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestNewTransport: the default transport keeps enough idle connections
// for a busy service, drops them before WeChat Pay's servers do (8 s),
// speaks HTTP/2 when offered and resumes TLS sessions.
func TestNewTransport(t *testing.T) {
	t.Parallel()
	tr := wechatpay.NewTransport()
	assert.Equal(t, wechatpay.DefaultMaxConnsPerHost, tr.MaxIdleConnsPerHost)
	assert.Equal(t, wechatpay.DefaultMaxConnsPerHost, tr.MaxConnsPerHost, "a burst waits rather than opening connections it will not keep")
	assert.GreaterOrEqual(t, wechatpay.DefaultMaxConnsPerHost, 32)
	assert.GreaterOrEqual(t, tr.MaxIdleConns, tr.MaxIdleConnsPerHost)
	assert.Equal(t, wechatpay.IdleConnTimeout, tr.IdleConnTimeout)
	assert.Less(t, int64(tr.IdleConnTimeout), int64(8e9), "under the servers' 8 s")
	assert.Positive(t, int64(tr.IdleConnTimeout))
	assert.True(t, tr.ForceAttemptHTTP2)
	require.NotNil(t, tr.TLSClientConfig)
	assert.NotNil(t, tr.TLSClientConfig.ClientSessionCache)
	assert.GreaterOrEqual(t, tr.TLSClientConfig.MinVersion, uint16(tls.VersionTLS12))
	assert.NotNil(t, tr.DialContext)
	assert.Positive(t, int64(tr.ResponseHeaderTimeout))
	assert.NotSame(t, tr, wechatpay.NewTransport(), "a new one each call")
	assert.NotSame(t, tr.TLSClientConfig.ClientSessionCache, wechatpay.NewTransport().TLSClientConfig.ClientSessionCache)
}

// TestMaxConnsPerHost: the setting is for the default transport only.
func TestMaxConnsPerHost(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, tc := range []struct {
		name string
		edit func(*wechatpay.Config)
		want string
	}{
		{"negative", func(c *wechatpay.Config) { c.MaxConnsPerHost = -1 }, "Config.MaxConnsPerHost is -1: expected 0 (the default, 64) or more"},
		{"with HTTPClient", func(c *wechatpay.Config) {
			c.MaxConnsPerHost = 8
			c.HTTPClient = &http.Client{}
		}, "Config.HTTPClient replaces it"},
		{"set", func(c *wechatpay.Config) {
			// The default transport, which it sets, instead of the fake's
			// (newServer's base URL is loopback: nothing leaves the machine).
			c.MaxConnsPerHost, c.HTTPClient = 128, nil
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.Config()
			tc.edit(&cfg)
			b, err := wechatpay.NewBuilder(cfg)
			if tc.want == "" {
				require.NoError(t, err)
				b.CloseIdleConnections()
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestMutualTLSKeepsItsOwnSessions: with a transport that resumes TLS
// sessions (NewTransport), a session of the plain client must not be
// resumed by the mutual-TLS one: a resumed session carries the first
// handshake's client certificate, that is none.
func TestMutualTLSKeepsItsOwnSessions(t *testing.T) {
	t.Parallel()
	srv := newServer(t, wechatpaytest.WithTLS())
	tr := wechatpay.NewTransport()
	tr.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	b := newBuilder(t, srv, func(c *wechatpay.Config) { c.HTTPClient = &http.Client{Transport: tr} })
	ctx := context.Background()
	refund := wechatpay.Options{XML: map[string]string{"appid": "wx1", "mch_id": srv.MchID, "out_trade_no": "T1",
		"out_refund_no": "R1", "total_fee": "100", "refund_fee": "100"}}
	for i := 0; i < 3; i++ {
		// A new connection each time: the plain one first, whose session
		// is cached, then the mutual-TLS one.
		b.CloseIdleConnections()
		_, err := b.V2().Pay().Orderquery().Post(ctx, refund)
		require.NoError(t, err)
		b.CloseIdleConnections()
		_, err = b.V2().Secapi().Pay().Refundv2().Post(ctx, refund)
		require.NoError(t, err, "attempt %d", i)
		got := lastV2(t, srv)
		require.NotNil(t, got.ClientCertificate, "attempt %d", i)
		assert.Equal(t, srv.MerchantSerial, wechatpay.CertificateSerial(got.ClientCertificate))
	}
}

// bareKey returns key as it is built from its numbers (a key exported from
// a KMS, or read from JSON): without its precomputed values.
func bareKey(key *rsa.PrivateKey) *rsa.PrivateKey {
	return &rsa.PrivateKey{PublicKey: key.PublicKey, D: key.D, Primes: key.Primes}
}

// TestMerchantKeyPrecomputed: a merchant key given without its precomputed
// values is precomputed once in NewBuilder, on a copy, not on each
// signature; requests are signed with it as before.
func TestMerchantKeyPrecomputed(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	key := bareKey(srv.MerchantKey)
	b := newBuilder(t, srv, func(c *wechatpay.Config) { c.PrivateKey = key })
	got := wechatpay.MerchantKey(b)
	require.NotNil(t, got)
	assert.NotNil(t, got.Precomputed.Dp, "precomputed in NewBuilder")
	assert.Nil(t, key.Precomputed.Dp, "the caller's key is not changed")
	assert.True(t, got.Equal(srv.MerchantKey))
	_, err := b.V3().Pay().Transactions().Native().Post(context.Background(), wechatpay.Options{JSON: benchOrder})
	require.NoError(t, err, "the fake server accepts what the precomputed key signs")
}

// TestUnusableMerchantKeyRefused: a key whose numbers do not agree is
// refused by NewBuilder, naming the field, rather than failing every
// request.
func TestUnusableMerchantKeyRefused(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	for name, key := range map[string]*rsa.PrivateKey{
		"another key's private exponent": {PublicKey: srv.MerchantKey.PublicKey, D: other.D, Primes: srv.MerchantKey.Primes},
		"another key's primes":           {PublicKey: srv.MerchantKey.PublicKey, D: srv.MerchantKey.D, Primes: other.Primes},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := srv.Config()
			cfg.PrivateKey = key
			_, err := wechatpay.NewBuilder(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "wechatpay: Config.PrivateKey is not a usable RSA private key")
		})
	}
}
