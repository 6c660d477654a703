package main

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// merchantEnv is the environment of a merchant of srv that has only the
// APIv3 key to verify with: request downloads certificates first.
func merchantEnv(t *testing.T, srv *wechatpaytest.Server, baseURL string) map[string]string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(srv.MerchantKey)
	require.NoError(t, err)
	return map[string]string{
		"WECHATPAY_MCHID":       srv.MchID,
		"WECHATPAY_SERIAL":      srv.MerchantSerial,
		"WECHATPAY_PRIVATE_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"WECHATPAY_APIV3_KEY":   srv.APIv3Key,
		"WECHATPAY_BASE_URL":    baseURL,
	}
}

// closedURL is a loopback URL where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr + "/"
}

// TestFailureExitCodes: a failure of the operation is 1, a wrong command
// line or credential 2, and nothing is sent before the credentials are
// checked.
func TestFailureExitCodes(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath("/base/")) // WECHATPAY_BASE_URL with a path, as for /hk/
	t.Cleanup(srv.Close)
	unreachable := merchantEnv(t, srv, closedURL(t))
	badKey := merchantEnv(t, srv, srv.URL)
	badKey["WECHATPAY_APIV3_KEY"] = "0123456789abcdef0123456789abcde" // 31 characters
	// APIv2 needs the merchant id and the APIv2 key only.
	v2Only := map[string]string{"WECHATPAY_MCHID": srv.MchID, "WECHATPAY_SECRET": srv.Secret, "WECHATPAY_BASE_URL": closedURL(t)}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		msg  string
	}{
		{"request: the host is unreachable during the certificate download", unreachable,
			[]string{"request", "GET", "v3/pay/transactions/out-trade-no/T1?mchid=" + srv.MchID}, exitFailed, "connection refused"},
		{"certificates: the host is unreachable", unreachable, []string{"certificates", "-output", t.TempDir()}, exitFailed, "connection refused"},
		{"certificates: an APIv3 key of 31 characters", badKey, []string{"certificates", "-output", t.TempDir()}, exitUsage,
			"the APIv3 key has 31 characters: the APIv3 key set in the merchant platform has 32"},
		{"request: an APIv3 key of 31 characters", badKey, []string{"request", "GET", "v3/pay/transactions/out-trade-no/T1?mchid=" + srv.MchID}, exitUsage,
			"the APIv3 key has 31 characters: the APIv3 key set in the merchant platform has 32 (-apiv3-key or $WECHATPAY_APIV3_KEY)"},
		// Usage mistakes are found before the start-up certificate download:
		// with the host unreachable, a download first would exit 1.
		{"request: an unknown method", unreachable, []string{"request", "FETCH", "v3/certificates"}, exitUsage,
			`method "FETCH": expected GET, POST, PUT, PATCH or DELETE`},
		{"request: a path that climbs", unreachable, []string{"request", "GET", "v3/pay/transactions/../close"}, exitUsage, `".."`},
		{"request: a placeholder without -path", unreachable, []string{"request", "GET", "v3/pay/transactions/out-trade-no/{out_trade_no}"}, exitUsage,
			"out_trade_no"},
		{"request: V2/ is APIv2, as v2/ is", v2Only, []string{"request", "POST", "V2/pay/orderquery", "-xml", "mch_id=" + srv.MchID, "-xml", "out_trade_no=T1"}, exitFailed,
			"connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			code, _, errOut := call(t, tt.env, "", tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.msg)
			if key := tt.env["WECHATPAY_APIV3_KEY"]; key != "" {
				assert.NotContains(t, errOut, key)
			}
			if tt.code == exitUsage {
				assert.Equal(t, before, len(srv.Requests()), "nothing is sent before the credentials are checked")
			}
		})
	}
}

// TestBuiltBinaryExitCodes runs the exit codes through a built binary, as a
// script sees them.
func TestBuiltBinaryExitCodes(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath("/base/")) // WECHATPAY_BASE_URL with a path, as for /hk/
	t.Cleanup(srv.Close)
	badKey := merchantEnv(t, srv, srv.URL)
	badKey["WECHATPAY_APIV3_KEY"] = "0123456789abcdef0123456789abcde"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"unreachable host", merchantEnv(t, srv, closedURL(t)), []string{"request", "GET", "v3/pay/transactions/out-trade-no/T1?mchid=" + srv.MchID}, exitFailed},
		{"malformed APIv3 key", badKey, []string{"certificates", "-output", t.TempDir()}, exitUsage},
		{"done", merchantEnv(t, srv, srv.URL), []string{"certificates", "-output", t.TempDir()}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runBinary(t, tt.env, "", tt.args...)
			assert.Equal(t, tt.code, code, out+errOut)
		})
	}
}
