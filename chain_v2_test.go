package wechatpay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/internal/memtest"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// lastV2 returns the newest request and checks that the server accepted
// its sign.
func lastV2(t *testing.T, srv *wechatpaytest.Server) wechatpaytest.Request {
	t.Helper()
	got := lastAccepted(t, srv)
	require.NoError(t, apiv2.Verify(got.Params, srv.Secret), "the request's sign")
	return got
}

func TestV2Micropay(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.HandleV2("/pay/micropay", func(p map[string]string) map[string]string {
		if p["auth_code"] == "134567890123456789" {
			return map[string]string{"result_code": "FAIL", "err_code": "USERPAYING", "err_code_des": "需要用户输入支付密码"}
		}
		return map[string]string{"transaction_id": "4200001", "out_trade_no": p["out_trade_no"], "total_fee": p["total_fee"]}
	})
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	params := map[string]string{"appid": "wx1", "mch_id": srv.MchID, "body": "Image<形象店>&QQ", "out_trade_no": "T1",
		"total_fee": "100", "spbill_create_ip": "127.0.0.1", "auth_code": "120061098828009406"}

	resp, err := b.V2().Pay().Micropay().Post(ctx, wechatpay.Options{XML: params})
	require.NoError(t, err)
	assert.Equal(t, "4200001", resp.Get("transaction_id").String())
	assert.Equal(t, "4200001", resp.XML()["transaction_id"])
	var out struct {
		TotalFee int `json:"total_fee,string"`
	}
	require.NoError(t, resp.Decode(&out))
	assert.Equal(t, 100, out.TotalFee)

	got := lastV2(t, srv)
	assert.Equal(t, underBase("/pay/micropay"), got.RequestURI, "v2/ is not part of the URL")
	assert.Equal(t, "Image<形象店>&QQ", got.Params["body"])
	assert.Regexp(t, `^[0-9A-Za-z]{32}$`, got.Params["nonce_str"])
	assert.Len(t, got.Params["sign"], 32, "MD5 by default")
	assert.Equal(t, "text/xml", got.Header.Get("Content-Type"))
	assert.Equal(t, "text/xml, text/plain, application/x-gzip", got.Header.Get("Accept"))
	assert.Empty(t, got.Header.Get("Authorization"), "APIv3 middleware does not run for APIv2")
	assert.Empty(t, got.Header.Get("Wechatpay-Serial"))

	params["auth_code"] = "134567890123456789"
	_, err = b.Chain("v2/pay/micropay").Post(ctx, wechatpay.Options{XML: params})
	var v2 *wechatpay.V2Error
	require.ErrorAs(t, err, &v2)
	assert.Equal(t, "USERPAYING", v2.ErrCode)
	assert.Equal(t, "SUCCESS", v2.ReturnCode)
	assert.Equal(t, "wechatpay: POST v2/pay/micropay: result_code FAIL: USERPAYING 需要用户输入支付密码", err.Error())
}

func TestV2SignTypesNonceAndGuard(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()

	t.Run("HMAC-SHA256 both ways", func(t *testing.T) {
		resp, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{
			"appid": "wx1", "mch_id": srv.MchID, "out_trade_no": "T1", "sign_type": "HMAC-SHA256"}})
		require.NoError(t, err)
		assert.Len(t, lastV2(t, srv).Params["sign"], 64)
		assert.Len(t, resp.XML()["sign"], 64, "the answer is signed the same way and verified")
	})
	t.Run("nonceless on request", func(t *testing.T) {
		_, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{Nonceless: true, XML: map[string]string{"mch_id": srv.MchID}})
		require.NoError(t, err)
		_, has := lastV2(t, srv).Params["nonce_str"]
		assert.False(t, has)
	})
	t.Run("nonceless from the catalog", func(t *testing.T) {
		_, err := b.V2().Pay().Queryexchagerate().Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID, "fee_type": "USD"}})
		require.NoError(t, err)
		_, has := lastV2(t, srv).Params["nonce_str"]
		assert.False(t, has)
	})
	t.Run("the caller's nonce is kept", func(t *testing.T) {
		_, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{"nonce_str": "mine"}})
		require.NoError(t, err)
		assert.Equal(t, "mine", lastV2(t, srv).Params["nonce_str"])
	})
	t.Run("GET puts the signed parameters in the query", func(t *testing.T) {
		resp, err := b.V2().Papay().H5entrustweb().Get(ctx, wechatpay.Options{XML: map[string]string{
			"appid": "wx1", "mch_id": srv.MchID, "plan_id": "12535", "contract_code": "C 1&2"}})
		require.NoError(t, err)
		got := lastV2(t, srv)
		assert.True(t, strings.HasPrefix(got.RequestURI, underBase("/papay/h5entrustweb?appid=wx1&contract_code=C+1%262&mch_id=1900000001&plan_id=12535&sign=")), got.RequestURI)
		assert.Empty(t, got.Body)
		assert.Empty(t, resp.XML()["sign"], "h5entrustweb answers unsigned")
	})
	for _, key := range []string{"mch_id", "mchid", "combine_mch_id"} {
		t.Run("another merchant's "+key+" is refused", func(t *testing.T) {
			before := len(srv.Requests())
			_, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{key: "1900000002"}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf(`Options.XML[%q] is "1900000002", but this Builder signs for merchant 1900000001: refused before sending`, key))
			assert.Len(t, srv.Requests(), before)
		})
	}
	t.Run("a bad parameter name", func(t *testing.T) {
		_, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{"a<b": "1"}})
		assert.ErrorContains(t, err, `Options.XML key "a<b" is not an APIv2 parameter name`)
	})
}

func TestV2Answers(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	order := wechatpay.Options{XML: map[string]string{"appid": "wx1", "mch_id": srv.MchID, "out_trade_no": "T1"}}

	tests := []struct {
		fault wechatpaytest.Fault
		check func(t *testing.T, err error)
	}{
		{wechatpaytest.TamperedBody, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, wechatpay.ErrVerification)
			assert.ErrorIs(t, err, wechatpay.ErrBadSignature)
			assert.ErrorContains(t, err, "wechatpay: POST v2/pay/orderquery: response verification failed: the APIv2 sign does not match the response")
		}},
		{wechatpaytest.MissingSignature, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, wechatpay.ErrMissingHeader)
			assert.ErrorContains(t, err, "the APIv2 response has no sign")
		}},
		{wechatpaytest.ReturnCodeFail, func(t *testing.T, err error) {
			var v2 *wechatpay.V2Error
			require.ErrorAs(t, err, &v2)
			assert.Equal(t, "FAIL", v2.ReturnCode)
			assert.EqualError(t, err, "wechatpay: POST v2/pay/orderquery: return_code FAIL: 系统繁忙,请稍后再试")
		}},
		{wechatpaytest.ResultCodeFail, func(t *testing.T, err error) {
			var v2 *wechatpay.V2Error
			require.ErrorAs(t, err, &v2)
			assert.Equal(t, "SYSTEMERROR", v2.ErrCode)
			assert.Equal(t, "FAIL", v2.Fields["result_code"])
		}},
		{wechatpaytest.BrokenXML, func(t *testing.T, err error) {
			var de *apiv2.DecodeError
			require.ErrorAs(t, err, &de)
			assert.ErrorContains(t, err, "not an APIv2 XML document")
		}},
		{wechatpaytest.HTMLPage, func(t *testing.T, err error) {
			assert.ErrorContains(t, err, `the body is an HTML page (title: "504 Gateway Time-out")`)
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.fault), func(t *testing.T) {
			srv.SetFault(tt.fault)
			defer srv.SetFault(wechatpaytest.NoFault)
			resp, err := b.V2().Pay().Orderquery().Post(ctx, order)
			assert.Nil(t, resp)
			require.Error(t, err)
			tt.check(t, err)
		})
	}

	t.Run("bill download as text", func(t *testing.T) {
		resp, err := b.Chain("v2/pay/downloadbill").Post(ctx, wechatpay.Options{XML: map[string]string{"bill_date": "20261127", "bill_type": "ALL"}})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(resp.String(), "交易时间,公众账号ID"))
		assert.Nil(t, resp.XML())
	})
	t.Run("bill download as gzip", func(t *testing.T) {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write([]byte("交易时间\n"))
		require.NoError(t, zw.Close())
		srv.Handle("POST /pay/downloadbill", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-gzip")
			_, _ = w.Write(gz.Bytes())
		})
		resp, err := b.Chain("v2/pay/downloadbill").Post(ctx, wechatpay.Options{XML: map[string]string{"tar_type": "GZIP"}})
		require.NoError(t, err)
		assert.Equal(t, gz.Bytes(), resp.Body(), "gzip bytes are returned as they came")
	})
	t.Run("bill download failure is XML", func(t *testing.T) {
		srv.Handle("POST /pay/downloadbill", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[No Bill Exist]]></return_msg></xml>"))
		})
		_, err := b.Chain("v2/pay/downloadbill").Post(ctx, wechatpay.Options{XML: map[string]string{"bill_date": "20261127"}})
		var v2 *wechatpay.V2Error
		require.ErrorAs(t, err, &v2)
		assert.Equal(t, "No Bill Exist", v2.ReturnMsg)
	})
	t.Run("a request with a bad sign is refused by the server", func(t *testing.T) {
		cfg := srv.Config()
		cfg.Secret = strings.Repeat("x", 32)
		wrong, err := wechatpay.NewBuilder(cfg)
		require.NoError(t, err)
		_, err = wrong.V2().Pay().Orderquery().Post(ctx, order)
		var v2 *wechatpay.V2Error
		require.ErrorAs(t, err, &v2)
		assert.Equal(t, "签名错误", v2.ReturnMsg)
		last, _ := srv.LastRequest()
		assert.Equal(t, "sign not match", last.Rejected)
	})
}

func TestV2MutualTLS(t *testing.T) {
	t.Parallel()
	srv := newServer(t, wechatpaytest.WithTLS())
	ctx := context.Background()
	refund := wechatpay.Options{XML: map[string]string{"appid": "wx1", "mch_id": srv.MchID, "out_trade_no": "T1",
		"out_refund_no": "R1", "total_fee": "100", "refund_fee": "100"}}
	b := newBuilder(t, srv, nil)

	t.Run("a catalog security endpoint uses the certificate", func(t *testing.T) {
		resp, err := b.V2().Secapi().Pay().Refundv2().Post(ctx, refund)
		require.NoError(t, err)
		assert.Equal(t, "/secapi/pay/refundv2", resp.Get("path").String())
		got := lastV2(t, srv)
		require.NotNil(t, got.ClientCertificate)
		assert.Equal(t, srv.MerchantSerial, wechatpay.CertificateSerial(got.ClientCertificate))
	})
	t.Run("other requests do not present it", func(t *testing.T) {
		_, err := b.V2().Pay().Orderquery().Post(ctx, refund)
		require.NoError(t, err)
		assert.Nil(t, lastV2(t, srv).ClientCertificate)
		_, err = b.V3().Pay().Transactions().OutTradeNo().Value("T1").Get(ctx, wechatpay.Options{Query: map[string][]string{"mchid": {srv.MchID}}})
		require.NoError(t, err)
		assert.Nil(t, lastAccepted(t, srv).ClientCertificate)
	})
	t.Run("Options.Security for a path the catalog does not know", func(t *testing.T) {
		o := refund
		o.Security = true
		_, err := b.Chain("v2/pay/somethingnew").Post(ctx, o)
		require.NoError(t, err)
		assert.NotNil(t, lastV2(t, srv).ClientCertificate)
	})
	t.Run("v2/secapi/pay/refund is catalogued with its certificate", func(t *testing.T) {
		for _, c := range []*wechatpay.Chain{b.Chain("v2/secapi/pay/refund"), b.V2().Secapi().Pay().Refund()} {
			resp, err := c.Post(ctx, refund)
			require.NoError(t, err)
			assert.Equal(t, "/secapi/pay/refund", resp.Get("path").String())
			got := lastV2(t, srv)
			require.NotNil(t, got.ClientCertificate)
			assert.Equal(t, srv.MerchantSerial, wechatpay.CertificateSerial(got.ClientCertificate))
		}
	})
	t.Run("no certificate configured: refused before sending", func(t *testing.T) {
		noCert := newBuilder(t, srv, func(c *wechatpay.Config) { c.TLSCertificate = nil })
		before := len(srv.Requests())
		_, err := noCert.V2().Secapi().Pay().Refundv2().Post(ctx, refund)
		assert.ErrorContains(t, err, "this endpoint needs mutual TLS with the merchant API certificate: set Config.TLSCertificate")
		assert.Len(t, srv.Requests(), before)
	})
	t.Run("a certificate the server does not trust", func(t *testing.T) {
		stranger := newBuilder(t, srv, func(c *wechatpay.Config) {
			c.TLSCertificate = &tls.Certificate{Certificate: [][]byte{srv.PlatformCert.Raw}, PrivateKey: srv.PlatformKey}
		})
		// The server asks for a certificate from its CA; Go's client then
		// sends none, and the server refuses the request as WeChat does.
		_, err := stranger.V2().Secapi().Pay().Refundv2().Post(ctx, refund)
		var v2 *wechatpay.V2Error
		require.ErrorAs(t, err, &v2)
		assert.Contains(t, v2.ReturnMsg, "证书错误")
	})
	t.Run("concurrent requests with and without the certificate", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				chain := b.V2().Pay().Orderquery()
				if i%2 == 0 {
					chain = b.V2().Secapi().Pay().Refundv2()
				}
				if _, err := chain.Post(ctx, refund); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for _, r := range srv.Requests() {
			if strings.HasPrefix(r.RequestURI, underBase("/secapi/")) && r.Rejected == "" {
				assert.NotNil(t, r.ClientCertificate, r.RequestURI)
			}
			if r.RequestURI == underBase("/pay/orderquery") {
				assert.Nil(t, r.ClientCertificate, "the certificate never leaks into the shared transport")
			}
		}
	})
}

func TestV2OnlyAndV3OnlyBuilders(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ctx := context.Background()

	v2only, err := wechatpay.NewBuilder(wechatpay.Config{MchID: srv.MchID, Secret: srv.Secret, BaseURL: srv.URL})
	require.NoError(t, err)
	_, err = v2only.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID}})
	require.NoError(t, err)
	_, err = v2only.V3().Pay().Transactions().Native().Post(ctx, wechatpay.Options{JSON: map[string]int{}})
	assert.ErrorContains(t, err, "this Builder has no APIv3 credentials: set Config.Serial, Config.PrivateKey and Config.Certs")

	v3only := newBuilder(t, srv, func(c *wechatpay.Config) { c.Secret = "" })
	_, err = v3only.V2().Pay().Orderquery().Post(ctx)
	assert.ErrorContains(t, err, "this Builder has no APIv2 key: set Config.Secret")

	for name, cfg := range map[string]wechatpay.Config{
		"no credentials":   {MchID: srv.MchID},
		"short secret":     {MchID: srv.MchID, Secret: "SHORT-SECRET-7f3a9c"}, // a sentinel, and shorter than 32
		"half of APIv3":    {MchID: srv.MchID, Secret: srv.Secret, Serial: srv.MerchantSerial},
		"empty TLS cert":   {MchID: srv.MchID, Secret: srv.Secret, TLSCertificate: &tls.Certificate{}},
		"custom transport": {MchID: srv.MchID, Secret: srv.Secret, HTTPClient: &http.Client{Transport: hostRecorder{}}, TLSCertificate: &tls.Certificate{Certificate: [][]byte{srv.MerchantCert.Raw}, PrivateKey: srv.MerchantKey}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := wechatpay.NewBuilder(cfg)
			require.Error(t, err)
			if cfg.Secret != "" {
				assert.NotContains(t, err.Error(), cfg.Secret, "the key given never appears in the error")
			}
		})
	}
}

func TestLoadPKCS12AndTLSCertificate(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	dir := t.TempDir()
	p12, err := pkcs12.LegacyRC2.WithRand(rand.Reader).Encode(srv.MerchantKey, srv.MerchantCert, nil, srv.MchID)
	require.NoError(t, err)
	p12Path := filepath.Join(dir, "apiclient_cert.p12")
	require.NoError(t, os.WriteFile(p12Path, p12, 0o600))

	cert, err := wechatpay.LoadPKCS12(p12Path, srv.MchID)
	require.NoError(t, err)
	assert.Equal(t, srv.MerchantSerial, wechatpay.CertificateSerial(cert.Leaf))

	_, err = wechatpay.LoadPKCS12("file://"+p12Path, "wrong-password-123")
	assert.EqualError(t, err, "wechatpay: ParsePKCS12: the password is wrong: the apiclient_cert.p12 password is the merchant id unless it was changed")
	_, err = wechatpay.LoadPKCS12(filepath.Join(dir, "missing.p12"), srv.MchID)
	assert.ErrorContains(t, err, "missing.p12")
	_, err = wechatpay.ParsePKCS12([]byte("not a bundle"), srv.MchID)
	assert.ErrorContains(t, err, "expected the apiclient_cert.p12 bundle (PKCS#12)")

	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.MerchantCert.Raw}))
	keyPEM := writeFile(t, "apiclient_key.pem", pemText("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(srv.MerchantKey)))
	tc, err := wechatpay.LoadTLSCertificate(certPEM, keyPEM)
	require.NoError(t, err)
	assert.Equal(t, srv.MerchantCert.Raw, tc.Certificate[0])

	_, err = wechatpay.LoadTLSCertificate(certPEM, pemText("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(srv.PlatformKey)))
	assert.ErrorContains(t, err, "the private key does not belong to the certificate "+srv.MerchantSerial)
}

// TestCatalogConformanceAPIv2 sends every APIv2 row of the catalog in the
// segment and string forms to a TLS fake server, which checks the sign and,
// where the endpoint needs it, the client certificate.
func TestCatalogConformanceAPIv2(t *testing.T) {
	t.Parallel()
	srv := newServer(t, wechatpaytest.WithTLS())
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	sent := 0
	for _, row := range conformanceRows {
		if !strings.HasPrefix(row.path, "v2/") {
			continue
		}
		path, values := filled(row.path)
		e := catalog.Get(row.path)[0]
		for name, chain := range map[string]*wechatpay.Chain{"segments": row.segments(b), "Chain(path)": b.Chain(row.path)} {
			o := wechatpay.Options{Path: values, XML: map[string]string{"appid": "wx1", "mch_id": srv.MchID, "out_trade_no": "T<&>1"}}
			if name == "segments" {
				o.Path = withEmpty(row.path, values)
			}
			resp, err := send(ctx, chain, row.method, o)
			if !assert.NoError(t, err, "%s form of %s %s", name, row.method, row.path) {
				continue
			}
			sent++
			got := lastV2(t, srv)
			wantPath := underBase(strings.TrimPrefix(path, "v2/"))
			assert.Equal(t, wantPath, strings.SplitN(got.RequestURI, "?", 2)[0], row.path)
			assert.Equal(t, row.method, got.Method)
			assert.Equal(t, e.Security() || strings.HasPrefix(row.path, "v2/secapi/"), got.ClientCertificate != nil,
				"%s: mutual TLS exactly on secapi paths and where the catalog says", row.path)
			if resp.XML() != nil {
				assert.Equal(t, "T<&>1", resp.Get("out_trade_no").String(), row.path)
			}
		}
	}
	assert.Equal(t, 2*113, sent)
}

// signedV2 returns fields with their sign, encoded.
func signedV2(t *testing.T, fields map[string]string, secret string) []byte {
	t.Helper()
	fields["sign"] = apiv2.Sign(fields, secret, apiv2.MD5)
	body, err := apiv2.Encode(fields)
	require.NoError(t, err)
	return body
}

// TestV2UnverifiedAnswersRefused: on an endpoint that answers signed XML,
// a 200 answer that is anything else is a verification failure, never
// data for the caller (a JSON body used to come back with err == nil).
func TestV2UnverifiedAnswersRefused(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	order := wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID, "out_trade_no": "T1"}}
	forged := "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><trade_state>FORGED-STATE-7f3a9c</trade_state></xml>"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(forged))
	require.NoError(t, zw.Close())
	fields := func() map[string]string {
		return map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "trade_state": "FORGED-STATE-7f3a9c"}
	}

	tests := []struct {
		name, contentType string
		body              []byte
		kind              error
	}{
		{"JSON", "application/json", []byte(`{"return_code":"SUCCESS","trade_state":"FORGED-STATE-7f3a9c"}`), wechatpay.ErrMissingHeader},
		{"plain text", "text/plain", []byte("trade_state=FORGED-STATE-7f3a9c"), wechatpay.ErrMissingHeader},
		{"empty", "text/xml", nil, wechatpay.ErrMissingHeader},
		{"gzip", "application/x-gzip", gz.Bytes(), wechatpay.ErrMissingHeader},
		{"XML behind a UTF-8 BOM", "text/xml", append([]byte("\ufeff"), forged...), wechatpay.ErrMissingHeader},
		{"signed XML behind a UTF-8 BOM", "text/xml", append([]byte("\ufeff"), signedV2(t, fields(), srv.Secret)...), wechatpay.ErrMissingHeader},
		{"XML without sign", "text/xml", []byte(forged), wechatpay.ErrMissingHeader},
		{"broken XML", "text/xml", []byte("<xml><trade_state>FORGED-STATE-7f3a9c</trade_state>"), wechatpay.ErrMissingHeader},
		{"HTML page", "text/html", []byte("<html><body>FORGED-STATE-7f3a9c</body></html>"), wechatpay.ErrMissingHeader},
		{"signed with another key", "text/xml", signedV2(t, fields(), strings.Repeat("k", 32)), wechatpay.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Handle("POST /pay/orderquery", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				_, _ = w.Write(tt.body)
			})
			resp, err := b.V2().Pay().Orderquery().Post(ctx, order)
			assert.Nil(t, resp)
			require.ErrorIs(t, err, wechatpay.ErrVerification)
			assert.ErrorIs(t, err, tt.kind)
			var ve *wechatpay.VerificationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, http.StatusOK, ve.StatusCode)
			assert.Equal(t, string(tt.body), string(ve.Body))
			assert.Contains(t, err.Error(), "wechatpay: POST v2/pay/orderquery: response verification failed: ")
		})
	}
	t.Run("a correctly signed answer passes", func(t *testing.T) {
		body := signedV2(t, fields(), srv.Secret)
		srv.Handle("POST /pay/orderquery", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
		resp, err := b.V2().Pay().Orderquery().Post(ctx, order)
		require.NoError(t, err)
		assert.Equal(t, "FORGED-STATE-7f3a9c", resp.Get("trade_state").String())
	})
	t.Run("an unsigned endpoint still answers text", func(t *testing.T) {
		resp, err := b.Chain("v2/pay/downloadbill").Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID}})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(resp.String(), "交易时间"))
	})
}

// TestV2GetSignsQuery: for an APIv2 GET the query parameters are the
// signed parameters (wechatpay-php 1.4.12): Options.Query and Options.XML
// together, guarded and signed, and the fake server checks the sign over
// all of them.
func TestV2GetSignsQuery(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()

	resp, err := b.Chain("v2/papay/entrustweb").Get(ctx, wechatpay.Options{
		Query: url.Values{"mch_id": {srv.MchID}, "plan_id": {"12535"}, "contract_code": {"C 1&2"}},
		XML:   map[string]string{"appid": "wx1", "plan_id": "12535"},
	})
	require.NoError(t, err, "the server checks the sign over every query parameter")
	assert.Empty(t, resp.XML()["sign"], "entrustweb answers unsigned")
	got := lastV2(t, srv)
	assert.Equal(t, map[string]string{"appid": "wx1", "mch_id": srv.MchID, "plan_id": "12535", "contract_code": "C 1&2",
		"nonce_str": got.Params["nonce_str"], "sign": got.Params["sign"]}, got.Params)
	assert.Regexp(t, `^[0-9A-Za-z]{32}$`, got.Params["nonce_str"])
	assert.Empty(t, got.Body)

	tests := []struct {
		name string
		o    wechatpay.Options
		err  string
	}{
		{"another merchant's mch_id in the query", wechatpay.Options{Query: url.Values{"mch_id": {"1900000002"}}},
			`Options.Query["mch_id"] is "1900000002", but this Builder signs for merchant 1900000001: refused before sending`},
		{"another merchant's mchid in the query", wechatpay.Options{Query: url.Values{"mchid": {"1900000002"}}},
			`Options.Query["mchid"] is "1900000002", but this Builder signs for merchant 1900000001: refused before sending`},
		{"a parameter twice", wechatpay.Options{Query: url.Values{"plan_id": {"1", "2"}}},
			`Options.Query["plan_id"] has 2 values: an APIv2 parameter has one`},
		{"query and XML disagree", wechatpay.Options{Query: url.Values{"plan_id": {"1"}}, XML: map[string]string{"plan_id": "2"}},
			`Options.Query["plan_id"] and Options.XML["plan_id"] differ: an APIv2 GET signs one value per parameter`},
		{"a bad name", wechatpay.Options{Query: url.Values{"a b": {"1"}}},
			`Options.Query key "a b" is not an APIv2 parameter name (letters, digits, underscores)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			_, err := b.Chain("v2/papay/entrustweb").Get(ctx, tt.o)
			assert.ErrorContains(t, err, tt.err)
			assert.Len(t, srv.Requests(), before, "nothing sent")
		})
	}
}

// TestV2CarriageReturn: a CR in a value reaches the server as a CR (it is
// written &#13;), so both sides compute the same sign; what XML cannot
// carry at all is refused before sending, naming the field.
func TestV2CarriageReturn(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()

	o := wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID, "out_trade_no": "T1",
		"attach": "line1\r\nline2\r", "detail": "a<b>\rc]]>"}}
	_, err := b.V2().Pay().Orderquery().Post(ctx, o)
	require.NoError(t, err)
	got := lastV2(t, srv)
	assert.Equal(t, "line1\r\nline2\r", got.Params["attach"])
	assert.Equal(t, "a<b>\rc]]>", got.Params["detail"])
	assert.Contains(t, string(got.Body), "<attach>line1&#13;\nline2&#13;</attach>")

	for name, v := range map[string]string{"NUL": "a\x00b", "escape": "\x1b[0m", "invalid UTF-8": "ok\xff", "U+FFFF": "\uffff"} {
		t.Run(name, func(t *testing.T) {
			before := len(srv.Requests())
			_, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID, "attach": v}})
			var fe *apiv2.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "attach", fe.Field)
			assert.ErrorContains(t, err, `wechatpay: POST v2/pay/orderquery: apiv2: field "attach" `)
			assert.Len(t, srv.Requests(), before, "nothing sent")
		})
	}
}

// TestV2MutualTLSBySecapiRule: every v2/secapi/ path goes with the merchant
// certificate, catalogued or not, however the chain was built; and only a
// catalog row matched template for template lends a path its options
// (an undocumented v2/secapi/mch/ path used to turn nonceless).
func TestV2MutualTLSBySecapiRule(t *testing.T) {
	t.Parallel()
	srv := newServer(t, wechatpaytest.WithTLS())
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	refund := map[string]string{"appid": "wx1", "mch_id": srv.MchID, "out_trade_no": "T1", "out_refund_no": "R1", "total_fee": "100", "refund_fee": "100"}

	for name, chain := range map[string]*wechatpay.Chain{
		"Chain(v2/secapi/pay/refund)":         b.Chain("v2/secapi/pay/refund"),
		"Seg(secapi).Seg(pay).Seg(refund)":    b.V2().Seg("secapi").Seg("pay").Seg("refund"),
		"Chain(v2/secapi/pay/facepayreverse)": b.Chain("v2/secapi/pay/facepayreverse"),
		"Chain(V2/secapi/pay/refund)":         b.Chain("V2/secapi/pay/refund"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := chain.Post(ctx, wechatpay.Options{XML: refund})
			require.NoError(t, err)
			got := lastV2(t, srv)
			require.NotNil(t, got.ClientCertificate, "sent without the merchant certificate")
			assert.Equal(t, srv.MerchantSerial, wechatpay.CertificateSerial(got.ClientCertificate))
		})
	}

	nonce := func(t *testing.T, chain *wechatpay.Chain, o wechatpay.Options) (string, bool) {
		t.Helper()
		o.XML = map[string]string{"mch_id": srv.MchID}
		_, err := chain.Post(ctx, o)
		require.NoError(t, err)
		got := lastV2(t, srv)
		assert.NotNil(t, got.ClientCertificate)
		v, ok := got.Params["nonce_str"]
		return v, ok
	}
	t.Run("an undocumented secapi/mch path keeps its nonce", func(t *testing.T) {
		v, ok := nonce(t, b.Chain("v2/secapi/mch/newthing"), wechatpay.Options{})
		assert.True(t, ok)
		assert.Len(t, v, 32)
		_, ok = nonce(t, b.Chain("v2/secapi/mch/addInstitutionsub"), wechatpay.Options{})
		assert.True(t, ok, "a literal segment does not match the {addinstitutionsub} row")
	})
	t.Run("the documented template is nonceless", func(t *testing.T) {
		_, ok := nonce(t, b.V2().Secapi().Mch().Seg("_addinstitutionsub_"), wechatpay.Options{Path: map[string]string{"addinstitutionsub": "addInstitutionsub"}})
		assert.False(t, ok)
		_, ok = nonce(t, b.Chain("v2/secapi/mch/{name}"), wechatpay.Options{Path: map[string]string{"name": "addInstitutionsub"}})
		assert.False(t, ok, "a placeholder matches a placeholder")
		_, ok = nonce(t, b.Chain("v2/secapi/mch/addInstitutionsub"), wechatpay.Options{Nonceless: true})
		assert.False(t, ok)
	})
	t.Run("other paths go without it", func(t *testing.T) {
		_, err := b.Chain("v2/pay/secapi").Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID}})
		require.NoError(t, err)
		assert.Nil(t, lastV2(t, srv).ClientCertificate)
	})
}

// TestV2UpperCasePrefix: "V2/" routes to APIv2 as wechatpay-php, which
// ignores the case, does.
func TestV2UpperCasePrefix(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	for _, chain := range []*wechatpay.Chain{b.Chain("V2/pay/orderquery"), b.Chain("/V2/pay/orderquery"), b.Chain("V2").Seg("pay").Seg("orderquery")} {
		assert.Equal(t, "v2/pay/orderquery", chain.Path())
		_, err := chain.Post(context.Background(), wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID}})
		require.NoError(t, err)
		got := lastV2(t, srv)
		assert.Equal(t, underBase("/pay/orderquery"), got.RequestURI)
		assert.Empty(t, got.Header.Get("Authorization"))
	}
}

// TestV2SignType: sign_type is MD5 or HMAC-SHA256; anything else is an
// error, not a silent MD5.
func TestV2SignType(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	for signType, length := range map[string]int{"MD5": 32, "HMAC-SHA256": 64} {
		_, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID, "sign_type": signType}})
		require.NoError(t, err)
		assert.Len(t, lastV2(t, srv).Params["sign"], length, signType)
	}
	for _, signType := range []string{"SHA256", "hmac-sha256", "RSA", "md5 "} {
		t.Run(signType, func(t *testing.T) {
			before := len(srv.Requests())
			_, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID, "sign_type": signType}})
			assert.ErrorContains(t, err, fmt.Sprintf(`Options.XML["sign_type"] is %q: expected MD5 or HMAC-SHA256`, signType))
			assert.Len(t, srv.Requests(), before, "nothing sent")
		})
	}
}

// TestV2BillToSink: APIv2 bill downloads stream into Options.Sink, plain
// or gzip, memory flat; an XML answer is WeChat's error, returned as a
// *V2Error with nothing written.
func TestV2BillToSink(t *testing.T) {
	// Not parallel: memtest counts what every goroutine allocates.
	srv := newServer(t, wechatpaytest.WithTLS())
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	bill := wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID, "bill_date": "20261127", "bill_type": "ALL"}}
	withSink := func(o wechatpay.Options, s *wechatpay.Sink) wechatpay.Options { o.Sink = s; return o }

	t.Run("text", func(t *testing.T) {
		var out bytes.Buffer
		resp, err := b.Chain("v2/pay/downloadbill").Post(ctx, withSink(bill, &wechatpay.Sink{Writer: &out}))
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode())
		assert.Nil(t, resp.Body())
		assert.True(t, strings.HasPrefix(out.String(), "交易时间,公众账号ID"), out.String())
		got := lastV2(t, srv)
		assert.Equal(t, underBase("/pay/downloadbill"), got.RequestURI)

		assert.Equal(t, "20261127", got.Params["bill_date"])
	})
	t.Run("fund flow, over mutual TLS", func(t *testing.T) {
		var out bytes.Buffer
		_, err := b.V2().Pay().Downloadfundflow().Post(ctx, withSink(bill, &wechatpay.Sink{Writer: &out}))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(out.String(), "记账时间"), out.String())
		assert.NotNil(t, lastV2(t, srv).ClientCertificate)
	})

	const text = "交易时间,公众账号ID\n`2026-11-27 10:00:00,`wx1\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(text))
	require.NoError(t, zw.Close())
	srv.Handle("POST /pay/downloadbill", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-gzip")
		_, _ = w.Write(gz.Bytes())
	})
	t.Run("gzip as it came", func(t *testing.T) {
		var out bytes.Buffer
		_, err := b.Chain("v2/pay/downloadbill").Post(ctx, withSink(bill, &wechatpay.Sink{Writer: &out}))
		require.NoError(t, err)
		assert.Equal(t, gz.Bytes(), out.Bytes())
	})
	t.Run("gzip undone", func(t *testing.T) {
		var out bytes.Buffer
		_, err := b.Chain("v2/pay/downloadbill").Post(ctx, withSink(bill, &wechatpay.Sink{Writer: &out, Gunzip: true}))
		require.NoError(t, err)
		assert.Equal(t, text, out.String())
	})
	t.Run("an XML answer is the error", func(t *testing.T) {
		srv.Handle("POST /pay/downloadbill", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[No Bill Exist]]></return_msg></xml>"))
		})
		var out bytes.Buffer
		resp, err := b.Chain("v2/pay/downloadbill").Post(ctx, withSink(bill, &wechatpay.Sink{Writer: &out}))
		assert.Nil(t, resp)
		var v2 *wechatpay.V2Error
		require.ErrorAs(t, err, &v2)
		assert.Equal(t, "No Bill Exist", v2.ReturnMsg)
		assert.Zero(t, out.Len(), "nothing written to the Sink")
	})
	t.Run("a large bill streams", func(t *testing.T) {
		large := bytes.Repeat([]byte("`2026-11-27 10:00:00,`wx1,`1900000001,`4200000001,`T1,`SUCCESS,`1.00\n"), (16<<20)/72)
		srv.Handle("POST /pay/downloadbill", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(large) })
		n := &countingSink{}
		var err error
		used := memtest.Allocated(func() {
			_, err = b.Chain("v2/pay/downloadbill").Post(ctx, withSink(bill, &wechatpay.Sink{Writer: n}))
		})
		require.NoError(t, err)
		assert.Equal(t, int64(len(large)), n.n)
		assert.Less(t, used, uint64(len(large)/4), "bytes allocated for a %d-byte bill", len(large))
	})
	t.Run("only file downloads take a Sink", func(t *testing.T) {
		before := len(srv.Requests())
		_, err := b.V2().Pay().Orderquery().Post(ctx, withSink(bill, &wechatpay.Sink{Writer: io.Discard}))
		assert.ErrorContains(t, err, "Options.Sink on an APIv2 path is for the file downloads (v2/pay/downloadbill, v2/pay/downloadfundflow, v2/billcommentsp/batchquerycomment); v2/pay/orderquery answers XML")
		assert.Len(t, srv.Requests(), before)
	})
}

type countingSink struct{ n int64 }

func (c *countingSink) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestV2AnswerSize: an APIv2 answer is read up to apiv2.MaxSize only, so a
// huge one costs a fixed amount however large it is (a 50 MB signed answer
// used to cost 542 MiB), and what the client builds from an accepted one
// stays a small multiple of its size (the read, the fields, their JSON
// view).
func TestV2AnswerSize(t *testing.T) {
	// Not parallel: memtest counts what every goroutine allocates.
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	order := wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID}}
	answer := func(size int) []byte {
		return signedV2(t, map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "a": strings.Repeat("x", size)}, srv.Secret)
	}

	huge := answer(50 << 20)
	srv.Handle("POST /pay/orderquery", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(huge) })
	var err error
	used := memtest.Allocated(func() { _, err = b.V2().Pay().Orderquery().Post(ctx, order) })
	assert.EqualError(t, err, "wechatpay: POST v2/pay/orderquery: the answer (status 200) is larger than 4194304 bytes, the limit apiv2.MaxSize sets: refused unread past the limit and unverified (APIv2 XML answers are a few KB)")
	assert.ErrorIs(t, err, wechatpay.ErrResponseTooLarge)
	t.Logf("a %d-byte answer refused: %d bytes allocated", len(huge), used)
	assert.Less(t, used, uint64(8*apiv2.MaxSize))

	large := answer(3 << 20)
	srv.Handle("POST /pay/orderquery", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(large) })
	var resp *wechatpay.Response
	used = memtest.Allocated(func() { resp, err = b.V2().Pay().Orderquery().Post(ctx, order) })
	require.NoError(t, err)
	assert.Len(t, resp.XML()["a"], 3<<20)
	t.Logf("a %d-byte answer accepted: %d bytes allocated (%.1f×)", len(large), used, float64(used)/float64(len(large)))
	assert.Less(t, used, uint64(12*len(large)))
}
