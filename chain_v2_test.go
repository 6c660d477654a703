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
	"net/http"
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
	srv := wechatpaytest.NewServer()
	defer srv.Close()
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
	assert.Equal(t, "/pay/micropay", got.RequestURI, "v2/ is not part of the URL")
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
	srv := wechatpaytest.NewServer()
	defer srv.Close()
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
		assert.True(t, strings.HasPrefix(got.RequestURI, "/papay/h5entrustweb?appid=wx1&contract_code=C+1%262&mch_id=1900000001&plan_id=12535&sign="), got.RequestURI)
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
	srv := wechatpaytest.NewServer()
	defer srv.Close()
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
	srv := wechatpaytest.NewServer(wechatpaytest.WithTLS())
	defer srv.Close()
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
		_, err := b.Chain("v2/secapi/pay/facepayreverse").Post(ctx, refund)
		var v2 *wechatpay.V2Error
		require.ErrorAs(t, err, &v2, "without Security the server refuses")
		assert.Contains(t, v2.ReturnMsg, "证书错误")

		o := refund
		o.Security = true
		_, err = b.Chain("v2/secapi/pay/facepayreverse").Post(ctx, o)
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
			if strings.HasPrefix(r.RequestURI, "/secapi/") && r.Rejected == "" {
				assert.NotNil(t, r.ClientCertificate, r.RequestURI)
			}
			if r.RequestURI == "/pay/orderquery" {
				assert.Nil(t, r.ClientCertificate, "the certificate never leaks into the shared transport")
			}
		}
	})
}

func TestV2OnlyAndV3OnlyBuilders(t *testing.T) {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
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
			_, err := wechatpay.NewBuilder(cfg)
			require.Error(t, err)
			if cfg.Secret != "" {
				assert.NotContains(t, err.Error(), cfg.Secret, "the key given never appears in the error")
			}
		})
	}
}

func TestLoadPKCS12AndTLSCertificate(t *testing.T) {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
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
	srv := wechatpaytest.NewServer(wechatpaytest.WithTLS())
	defer srv.Close()
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
			wantPath := "/" + strings.TrimPrefix(path, "v2/")
			assert.Equal(t, wantPath, strings.SplitN(got.RequestURI, "?", 2)[0], row.path)
			assert.Equal(t, row.method, got.Method)
			assert.Equal(t, e.Security(), got.ClientCertificate != nil, "%s: mutual TLS exactly where the catalog says", row.path)
			if resp.XML() != nil {
				assert.Equal(t, "T<&>1", resp.Get("out_trade_no").String(), row.path)
			}
		}
	}
	assert.Equal(t, 2*113, sent)
}
