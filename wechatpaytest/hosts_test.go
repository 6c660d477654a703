package wechatpaytest_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// hostEcho answers the host and request target it was sent to.
func hostEcho(w http.ResponseWriter, r *http.Request) {
	wechatpaytest.JSON(w, http.StatusOK, map[string]string{"host": r.Host, "uri": r.RequestURI})
}

// TestConfigReachesTheServerForEveryHost: a Builder from Config sends each
// request to the host it picks (the catalog's, the default, an
// Options.BaseURL, a full-URL chain), and every one of them reaches the
// fake, over plain HTTP and over verified TLS alike, with its Host recorded.
// Hosts under .invalid and addresses of TEST-NET-3 cannot be reached from
// anywhere: reaching the fake through them proves that nothing was resolved
// or dialed but the fake.
func TestConfigReachesTheServerForEveryHost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	json := wechatpay.Options{JSON: map[string]string{"plan_id": "123"}}
	face := wechatpay.Options{XML: map[string]string{"mch_id": "1900000001", "store_id": "S1"}}
	tests := []struct {
		name      string
		tlsOnly   bool // mutual TLS, which only a TLS server checks
		send      func(b *wechatpay.Builder) (*wechatpay.Response, error)
		host, uri string
	}{
		{"catalog host: v3/global on apihk", false, func(b *wechatpay.Builder) (*wechatpay.Response, error) {
			return b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(ctx, json)
		}, "apihk.mch.weixin.qq.com", "/v3/global/papay/contracts/jsapi-pre-entrust-sign"},
		{"catalog host with a path: the HK wallet's /hk/", false, func(b *wechatpay.Builder) (*wechatpay.Response, error) {
			return b.V3().Transactions().ID().Value("4200000001").Get(ctx)
		}, "api.mch.weixin.qq.com", "/hk/v3/transactions/id/4200000001"},
		{"default host for an undocumented path", false, func(b *wechatpay.Builder) (*wechatpay.Response, error) {
			return b.Chain("v3/brand-new/endpoint").Get(ctx)
		}, "api.mch.weixin.qq.com", "/v3/brand-new/endpoint"},
		{"Options.BaseURL: the backup host", false, func(b *wechatpay.Builder) (*wechatpay.Response, error) {
			return b.Chain("v3/pay/transactions/native").Post(ctx, wechatpay.Options{JSON: map[string]int{}, BaseURL: "https://api2.mch.weixin.qq.com/"})
		}, "api2.mch.weixin.qq.com", "/v3/pay/transactions/native"},
		{"Options.BaseURL: a gateway that no resolver knows", false, func(b *wechatpay.Builder) (*wechatpay.Response, error) {
			return b.Chain("v3/certificates").Get(ctx, wechatpay.Options{BaseURL: "https://gateway.wechatpaytest.invalid/wxpay/"})
		}, "gateway.wechatpaytest.invalid", "/wxpay/v3/certificates"},
		{"Options.BaseURL: an address on no network", false, func(b *wechatpay.Builder) (*wechatpay.Response, error) {
			return b.Chain("v3/certificates").Get(ctx, wechatpay.Options{BaseURL: "https://203.0.113.9:8443/"})
		}, "203.0.113.9:8443", "/v3/certificates"},
		{"full-URL chain", false, func(b *wechatpay.Builder) (*wechatpay.Response, error) {
			return b.Chain("https://apius.mch.weixin.qq.com/v3/x?token=T1").Get(ctx)
		}, "apius.mch.weixin.qq.com", "/v3/x?token=T1"},
		{"APIv2 catalog host: face pay on payapp", false, func(b *wechatpay.Builder) (*wechatpay.Response, error) {
			return b.V2().Face().GetWxpayfaceAuthinfo().Post(ctx, face)
		}, "payapp.weixin.qq.com", "/face/get_wxpayface_authinfo"},
		{"APIv2 catalog host with mutual TLS: fraud", true, func(b *wechatpay.Builder) (*wechatpay.Response, error) {
			return b.V2().Risk().Getpublickey().Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": "1900000001"}})
		}, "fraud.mch.weixin.qq.com", "/risk/getpublickey"},
	}
	for _, mode := range []struct {
		name string
		opts []wechatpaytest.Option
	}{{"plain", nil}, {"TLS", []wechatpaytest.Option{wechatpaytest.WithTLS()}}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			srv := wechatpaytest.NewServer(mode.opts...)
			t.Cleanup(srv.Close)
			// APIv2 paths get the built-in signed XML answer.
			for _, prefix := range []string{"/v3/", "/hk/v3/", "/wxpay/v3/"} {
				srv.Handle(prefix, hostEcho)
			}
			cfg := srv.Config()
			assert.Empty(t, cfg.BaseURL, "at the root, the Builder picks the hosts")
			b, err := wechatpay.NewBuilder(cfg)
			require.NoError(t, err)
			for _, tt := range tests {
				if tt.tlsOnly && mode.name != "TLS" {
					continue
				}
				t.Run(tt.name, func(t *testing.T) {
					before := len(srv.Requests())
					_, err := tt.send(b)
					require.NoError(t, err)
					require.Len(t, srv.Requests(), before+1)
					last, _ := srv.LastRequest()
					assert.Empty(t, last.Rejected)
					assert.Equal(t, tt.host, last.Host)
					assert.Equal(t, tt.uri, last.RequestURI)
				})
			}
		})
	}
}

// TestConfigDialsOnlyTheServer: Config's transport is the Builder's default
// one made safe: no proxy, TLS verification on, and every dial to a host
// that is not a loopback address handed to the fake, names never resolved.
func TestConfigDialsOnlyTheServer(t *testing.T) {
	t.Parallel()
	other, err := net.Listen("tcp", "127.0.0.1:0") // a loopback address is dialed as given
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	for _, tls := range []bool{false, true} {
		var opts []wechatpaytest.Option
		if tls {
			opts = append(opts, wechatpaytest.WithTLS())
		}
		srv := wechatpaytest.NewServer(opts...)
		t.Cleanup(srv.Close)
		u, err := url.Parse(srv.URL)
		require.NoError(t, err)
		tr, ok := srv.Config().HTTPClient.Transport.(*http.Transport)
		require.True(t, ok, "an *http.Transport, which mutual TLS and Failover need")
		assert.Nil(t, tr.Proxy, "no proxy from the environment")
		assert.False(t, tr.TLSClientConfig.InsecureSkipVerify)
		assert.NotNil(t, tr.TLSClientConfig.RootCAs)
		assert.Equal(t, wechatpay.DefaultMaxConnsPerHost, tr.MaxConnsPerHost, "started from wechatpay.NewTransport")
		assert.Equal(t, wechatpay.IdleConnTimeout, tr.IdleConnTimeout, "started from wechatpay.NewTransport")
		for _, target := range []string{
			"api.mch.weixin.qq.com:443", "api2.mch.weixin.qq.com:443", "apihk.mch.weixin.qq.com:443",
			"gateway.wechatpaytest.invalid:443", "localhost:80", "203.0.113.9:443", "[2001:db8::1]:443", "no-port",
		} {
			conn, err := tr.DialContext(context.Background(), "tcp", target)
			require.NoError(t, err, target)
			assert.Equal(t, u.Host, conn.RemoteAddr().String(), "tls=%v: %s dials the fake", tls, target)
			conn.Close()
		}
		conn, err := tr.DialContext(context.Background(), "tcp", other.Addr().String())
		require.NoError(t, err)
		assert.Equal(t, other.Addr().String(), conn.RemoteAddr().String())
		conn.Close()
	}
}

// TestConfigVerifiesTLS: the fake's certificates are verified, host name
// included: a loopback server with a certificate from another CA is
// refused, from a TLS server's Config and from a plain one's alike.
func TestConfigVerifiesTLS(t *testing.T) {
	t.Parallel()
	stranger := httptest.NewUnstartedServer(http.HandlerFunc(hostEcho))
	stranger.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	stranger.StartTLS()
	t.Cleanup(stranger.Close)
	for _, opts := range [][]wechatpaytest.Option{nil, {wechatpaytest.WithTLS()}} {
		srv := wechatpaytest.NewServer(opts...)
		t.Cleanup(srv.Close)
		b, err := wechatpay.NewBuilder(srv.Config())
		require.NoError(t, err)
		_, err = b.Chain("v3/certificates").Get(context.Background(), wechatpay.Options{BaseURL: stranger.URL})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "certificate signed by unknown authority")
	}
}

// TestConfigUnderABasePath: under a base path Config keeps BaseURL, the
// only way every request is sent under it, and the transport still keeps
// every other host on the fake.
func TestConfigUnderABasePath(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Handle("/", hostEcho)
	cfg := srv.Config()
	assert.Equal(t, srv.URL, cfg.BaseURL)
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	_, err = b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(context.Background(), wechatpay.Options{JSON: map[string]int{}})
	require.NoError(t, err)
	last, _ := srv.LastRequest()
	assert.Equal(t, basePath+"v3/global/papay/contracts/jsapi-pre-entrust-sign", last.RequestURI)
	u, _ := url.Parse(srv.URL)
	assert.Equal(t, u.Host, last.Host)

	_, err = b.Chain("v3/certificates").Get(context.Background(), wechatpay.Options{BaseURL: "https://apihk.mch.weixin.qq.com" + basePath})
	require.NoError(t, err)
	last, _ = srv.LastRequest()
	assert.Equal(t, "apihk.mch.weixin.qq.com", last.Host)
}
