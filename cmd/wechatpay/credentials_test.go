package main

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// verifyingEnv is the environment of a merchant of srv that verifies with
// the WeChat Pay public key: request sends one request, no download.
func verifyingEnv(t *testing.T, srv *wechatpaytest.Server) map[string]string {
	t.Helper()
	env := merchantEnv(t, srv, srv.URL)
	der, err := x509.MarshalPKIXPublicKey(&srv.PublicKeyKey.PublicKey)
	require.NoError(t, err)
	env["WECHATPAY_PUBLIC_KEY"] = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	env["WECHATPAY_PUBLIC_KEY_ID"] = srv.PublicKeyID
	env["WECHATPAY_SECRET"] = srv.Secret
	return env
}

// with returns a copy of env with changes; an empty value removes the
// variable.
func with(env map[string]string, changes ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i < len(changes); i += 2 {
		if changes[i+1] == "" {
			delete(out, changes[i])
		} else {
			out[changes[i]] = changes[i+1]
		}
	}
	return out
}

// TestMissingCredentialsAllAtOnce: every credential the operation needs
// and lacks is listed in one run, by its flag and variable, and nothing
// is sent.
func TestMissingCredentialsAllAtOnce(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	full := verifyingEnv(t, srv)
	const (
		head       = "missing credentials, each a flag or an environment variable:\n"
		mchid      = "  -mchid / $WECHATPAY_MCHID: merchant id\n"
		privateKey = "  -private-key / $WECHATPAY_PRIVATE_KEY: merchant API private key apiclient_key.pem: path, file:// or PEM\n"
		serial     = "  -serial / $WECHATPAY_SERIAL or -cert / $WECHATPAY_CERT: merchant API certificate serial, or the certificate apiclient_cert.pem\n"
		verify     = "  -public-key / $WECHATPAY_PUBLIC_KEY with -public-key-id / $WECHATPAY_PUBLIC_KEY_ID, -platform-cert / $WECHATPAY_PLATFORM_CERT or -apiv3-key / $WECHATPAY_APIV3_KEY: what verifies WeChat Pay's answers (with the APIv3 key only, request downloads the platform certificates)\n"
		keyID      = "  -public-key-id / $WECHATPAY_PUBLIC_KEY_ID: WeChat Pay public key id, PUB_KEY_ID_...\n"
		apiv3Key   = "  -apiv3-key / $WECHATPAY_APIV3_KEY: APIv3 key\n"
		secret     = "  -secret / $WECHATPAY_SECRET: APIv2 key\n"
	)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"APIv3 request, nothing set", map[string]string{"WECHATPAY_BASE_URL": srv.URL}, []string{"request", "GET", "v3/certificates"},
			"wechatpay request: " + head + mchid + privateKey + serial + verify},
		{"APIv3 request, a public key without its id", with(full, "WECHATPAY_PUBLIC_KEY_ID", "", "WECHATPAY_MCHID", ""), []string{"request", "GET", "v3/certificates"},
			"wechatpay request: " + head + mchid + keyID},
		{"APIv3 request, -cert instead of -serial is enough", with(full, "WECHATPAY_SERIAL", "", "WECHATPAY_CERT", "/nonexistent-cert-5d1f.pem", "WECHATPAY_PRIVATE_KEY", ""), []string{"request", "GET", "v3/certificates"},
			"wechatpay request: " + head + privateKey},
		{"APIv2 request", map[string]string{"WECHATPAY_BASE_URL": srv.URL}, []string{"request", "POST", "v2/pay/orderquery", "-xml", "out_trade_no=T1"},
			"wechatpay request: " + head + mchid + secret},
		{"certificates", map[string]string{"WECHATPAY_BASE_URL": srv.URL}, []string{"certificates", "-output", t.TempDir()},
			"wechatpay certificates: " + head + mchid + privateKey + serial + apiv3Key},
		{"certificates, a public key does not stand for the APIv3 key", with(full, "WECHATPAY_APIV3_KEY", ""), []string{"certificates", "-output", t.TempDir()},
			"wechatpay certificates: " + head + apiv3Key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			code, out, errOut := runBinary(t, tt.env, "", tt.args...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assert.Equal(t, tt.want, errOut)
			assert.Equal(t, before, len(srv.Requests()), "nothing is sent")
		})
	}
}

// TestErrorsSpeakCLI: the library's errors name Options and Config fields;
// the command names its flags and variables instead.
func TestErrorsSpeakCLI(t *testing.T) {
	t.Parallel()
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	full := verifyingEnv(t, srv)
	closed := closedAddr(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string // the whole standard error, or with suffix its end
		// suffix: the error holds a Request-ID and a signed message, which
		// change with every run.
		suffix bool
	}{
		{"an unreachable base URL", with(full, "WECHATPAY_BASE_URL", "http://"+closed+"/"), []string{"request", "GET", "v3/certificates"}, exitFailed,
			": connect: connection refused (could not reach " + closed + ": check the network, DNS, any proxy, and the base URL (-base-url / $WECHATPAY_BASE_URL))\n", true},
		{"a placeholder without -path", full, []string{"request", "GET", "v3/pay/transactions/out-trade-no/{out_trade_no}"}, exitUsage,
			"wechatpay request: wechatpay: v3/pay/transactions/out-trade-no/{out_trade_no}: placeholder {out_trade_no} has no value: set -path out_trade_no=...\n", false},
		{"-path without a placeholder", full, []string{"request", "GET", "v3/pay/transactions/out-trade-no/T1", "-path", "out_trade_no=T1"}, exitUsage,
			"wechatpay request: wechatpay: v3/pay/transactions/out-trade-no/T1: -path has out_trade_no but the path has no {placeholder}\n", false},
		{"a merchant id that is not one", with(full, "WECHATPAY_MCHID", "abc"), []string{"request", "GET", "v3/certificates"}, exitUsage,
			"wechatpay request: wechatpay: -mchid / $WECHATPAY_MCHID \"abc\" is not a merchant id: expected digits such as \"1900000001\"\n", false},
		{"a serial that is not one", with(full, "WECHATPAY_SERIAL", "XYZ"), []string{"request", "GET", "v3/certificates"}, exitUsage,
			"wechatpay request: wechatpay: -serial / $WECHATPAY_SERIAL \"XYZ\" is not a certificate serial: expected the hex serial of the merchant API certificate apiclient_cert.pem, such as 5157F09EFDC096DE15EBE81A47057A7232F1B8E1\n", false},
		{"an APIv2 key of 31 characters", with(full, "WECHATPAY_SECRET", srv.Secret[1:]), []string{"request", "POST", "v2/pay/orderquery", "-xml", "out_trade_no=T1"}, exitUsage,
			"wechatpay request: wechatpay: -secret / $WECHATPAY_SECRET has 31 characters: the APIv2 key set in the merchant platform has 32\n", false},
		{"-query on an APIv2 POST", full, []string{"request", "POST", "v2/pay/orderquery", "-query", "out_trade_no=T1"}, exitFailed,
			"wechatpay request: wechatpay: POST v2/pay/orderquery: -query is for APIv2 GET requests: the parameters of a POST go in -xml, where they are signed\n", false},
		{"WeChat Pay's SIGN_ERROR hint", with(full, "WECHATPAY_SERIAL", "0123456789ABCDEF0123456789ABCDEF01234567"), []string{"request", "GET", "v3/certificates"}, exitFailed,
			". WeChat Pay rejected the request signature: check that -serial / $WECHATPAY_SERIAL is the serial of the merchant API certificate whose private key is -private-key / $WECHATPAY_PRIVATE_KEY, that -mchid / $WECHATPAY_MCHID is right, and that this machine's clock is right\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runBinary(t, tt.env, "", tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Empty(t, out)
			if tt.suffix {
				assert.True(t, strings.HasSuffix(errOut, tt.want), errOut)
				assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
			} else {
				assert.Equal(t, tt.want, errOut)
			}
		})
	}
}

// TestCredentialTable: the one table of flags and variables names real
// Config fields, and the rewrite uses it.
func TestCredentialTable(t *testing.T) {
	t.Parallel()
	var c credentials
	seen := map[*string]bool{}
	for _, cr := range credentialTable {
		p := cr.field(&c)
		assert.False(t, seen[p], "%s: two rows for one field", cr.flag)
		seen[p] = true
		assert.Equal(t, "WECHATPAY_"+strings.ToUpper(strings.ReplaceAll(cr.flag, "-", "_")), cr.env)
		if cr.config == "" {
			continue
		}
		_, inConfig := reflect.TypeOf(wechatpay.Config{}).FieldByName(cr.config)
		_, inCertificates := reflect.TypeOf(certificates.Config{}).FieldByName(cr.config)
		assert.True(t, inConfig || inCertificates, "%s: Config has no field %s", cr.flag, cr.config)
	}
	assert.Len(t, seen, reflect.TypeOf(c).NumField(), "every credential has a row")
	for in, want := range map[string]string{
		`set Options.Path["out_trade_no"] and Options.Query`:     `set -path out_trade_no=... and -query`,
		`Options.XML["sign_type"], Options.JSON or Options.Body`: `-xml sign_type=..., -data or -data`,
		`wechatpay: Config.Serial is empty`:                      `wechatpay: -serial / $WECHATPAY_SERIAL is empty`,
		`Config.Certs is empty`:                                  `-public-key / $WECHATPAY_PUBLIC_KEY or -platform-cert / $WECHATPAY_PLATFORM_CERT is empty`,
		`certificates: Config.APIv3Key has 31 characters`:        `certificates: -apiv3-key / $WECHATPAY_APIV3_KEY has 31 characters`,
		`Config.TLSCertificate and Options.Sink stay`:            `Config.TLSCertificate and Options.Sink stay`,
	} {
		assert.Equal(t, want, speakCLI(in), in)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
