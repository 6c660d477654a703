package wechatpay_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// forgedV2 answers like an unsigned endpoint would: XML without a sign,
// whose trade_state a forger chose.
func forgedV2(w http.ResponseWriter, r *http.Request) {
	_, _ = w.Write([]byte("<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><trade_state>FORGED-STATE-9c41e2</trade_state></xml>"))
}

// TestV2UnsignedOnlyByTemplate: whether an APIv2 answer may come without a
// sign is decided by the chain's own path template, compared exactly with
// the unsigned list; a path value (a placeholder's or Value's) never makes
// an endpoint unsigned. A value "x/pay/downloadbill" used to be sent as
// x%2Fpay%2Fdownloadbill and, decoded, suffix-match /pay/downloadbill.
func TestV2UnsignedOnlyByTemplate(t *testing.T) {
	t.Parallel()
	srv := newServer(t, wechatpaytest.WithTLS())
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	srv.Handle("POST /secapi/mch/{rest...}", forgedV2)
	srv.Handle("POST /pay/{rest...}", forgedV2)
	srv.Handle("POST /x/pay/downloadbill", forgedV2)
	mch := map[string]string{"mch_id": srv.MchID}

	refused := []struct {
		name  string
		chain *wechatpay.Chain
		path  map[string]string
		uri   string
	}{
		{"a value with slashes", b.Chain("v2/secapi/mch/{name}"), map[string]string{"name": "x/pay/downloadbill"}, "/secapi/mch/x%2Fpay%2Fdownloadbill"},
		{"a value with escaped slashes", b.Chain("v2/secapi/mch/{name}"), map[string]string{"name": "x%2Fpay%2Fdownloadbill"}, "/secapi/mch/x%2Fpay%2Fdownloadbill"},
		{"a placeholder as the last segment", b.Chain("v2/secapi/mch/pay/{x}"), map[string]string{"x": "downloadbill"}, "/secapi/mch/pay/downloadbill"},
		{"a placeholder for a whole unsigned path", b.Chain("v2/pay/{x}"), map[string]string{"x": "downloadbill"}, "/pay/downloadbill"},
		{"Value segments", b.V2().Value("pay").Value("downloadbill"), nil, "/pay/downloadbill"},
		{"a literal path ending like an unsigned one", b.Chain("v2/x/pay/downloadbill"), nil, "/x/pay/downloadbill"},
		{"a Value for an unsigned secapi path", b.V2().Secapi().Mch().Value("submchmanage"), nil, "/secapi/mch/submchmanage"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.chain.Post(ctx, wechatpay.Options{Path: tt.path, XML: mch})
			last, ok := srv.LastRequest()
			require.True(t, ok)
			assert.Equal(t, underBase(tt.uri), last.RequestURI)
			assert.Nil(t, resp)
			require.ErrorIs(t, err, wechatpay.ErrVerification)
			assert.ErrorIs(t, err, wechatpay.ErrMissingHeader)
			assert.NotContains(t, err.Error(), "FORGED-STATE-9c41e2")
		})
	}

	t.Run("the documented unsigned paths still skip the sign", func(t *testing.T) {
		resp, err := b.Chain("v2/secapi/mch/submchmanage").Post(ctx, wechatpay.Options{XML: mch})
		require.NoError(t, err)
		assert.Equal(t, "FORGED-STATE-9c41e2", resp.Get("trade_state").String())
		resp, err = b.Chain("v2/pay/downloadbill").Post(ctx, wechatpay.Options{XML: mch})
		require.NoError(t, err)
		assert.Equal(t, "FORGED-STATE-9c41e2", resp.Get("trade_state").String())
	})

	t.Run("Options.Sink only for a literal download path", func(t *testing.T) {
		var sink strings.Builder
		before := len(srv.Requests())
		_, err := b.V2().Value("pay").Value("downloadbill").Post(ctx, wechatpay.Options{XML: mch, Sink: &wechatpay.Sink{Writer: &sink}})
		assert.ErrorContains(t, err, "Options.Sink on an APIv2 path is for the file downloads")
		assert.Len(t, srv.Requests(), before, "nothing sent")
	})
}

// TestV2UnsignedUnderABasePath: under a base path (Config.BaseURL
// https://host/hk/) the documented unsigned endpoints still answer
// unsigned, and only they: the base is stripped, not matched as a suffix.
func TestV2UnsignedUnderABasePath(t *testing.T) {
	t.Parallel()
	// Its own server: the test is about the /hk/ base path itself.
	srv := wechatpaytest.NewServer(wechatpaytest.WithBasePath("hk"))

	defer srv.Close()
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	mch := map[string]string{"mch_id": srv.MchID}

	resp, err := b.Chain("v2/pay/downloadbill").Post(ctx, wechatpay.Options{XML: mch})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(resp.String(), "交易时间"), resp.String())
	assert.Equal(t, "/hk/pay/downloadbill", lastV2(t, srv).RequestURI)

	srv.Handle("POST /hk/pay/downloadbill", forgedV2)
	_, err = b.Chain("v2/hk/pay/downloadbill").Post(ctx, wechatpay.Options{XML: mch})
	assert.ErrorIs(t, err, wechatpay.ErrVerification, "hk/pay/downloadbill is not pay/downloadbill")
}

// TestV3UnsignedByEscapedPath: an APIv3 answer is unsigned only when the
// path as sent (escaped) is an unsigned download: a value holding "/"
// (escaped %2F) does not make a signed endpoint look like the complaint
// images. Both the verifier step and Options.Sink go by it.
func TestV3UnsignedByEscapedPath(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	srv.Handle("GET /v3/merchant-service/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"state":"FORGED-STATE-9c41e2"}`))
	})
	chain := b.Chain("v3/merchant-service/{x}")
	path := map[string]string{"x": "images/abc"}

	_, err := chain.Get(ctx, wechatpay.Options{Path: path})
	require.ErrorIs(t, err, wechatpay.ErrVerification)
	assert.Equal(t, underBase("/v3/merchant-service/images%2Fabc"), lastAccepted(t, srv).RequestURI)

	var sink strings.Builder
	_, err = chain.Get(ctx, wechatpay.Options{Path: path, Sink: &wechatpay.Sink{Writer: &sink}})
	require.ErrorIs(t, err, wechatpay.ErrVerification)

	for p, want := range map[string]bool{
		"/v3/merchant-service/images/abc":       true,
		"/hk/v3/merchant-service/images/abc":    true,
		"/v3/merchant-service/images%2Fabc":     false,
		"/v3/merchant-service/images/a/b":       false,
		"/v3/merchant-service/images/%75pload":  false,
		"/v3/merchant-service/images/UPLOAD":    false,
		"/v3/merchant-service/images/%55PLOAD":  false,
		"/v3/merchant-service/images/ab%2Fc%2B": true,
		"/v3/global/merchant-service/images/ab": true,
	} {
		assert.Equal(t, want, middleware.Unsigned(p), p)
	}
}

// TestV2QueryOnlyOnGet: an APIv2 request's parameters are signed, so a
// query that would travel beside them (Options.Query on a POST, a "?" in
// a v2 template) is refused before sending: it would go unsigned and past
// the merchant-id guard.
func TestV2QueryOnlyOnGet(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	mch := map[string]string{"mch_id": srv.MchID}

	tests := []struct {
		name string
		send func() error
		err  string
	}{
		{"Options.Query on a POST", func() error {
			_, err := b.Chain("v2/pay/orderquery").Post(ctx, wechatpay.Options{XML: mch, Query: url.Values{"mch_id": {"999"}, "extra": {"1"}}})
			return err
		}, "wechatpay: POST v2/pay/orderquery: Options.Query is for APIv2 GET requests: the parameters of a POST go in Options.XML, where they are signed"},
		{"a query in a POST template", func() error {
			_, err := b.Chain("v2/pay/orderquery?x={v}").Post(ctx, wechatpay.Options{XML: mch, Path: map[string]string{"v": "1"}})
			return err
		}, `wechatpay: Chain("v2/pay/orderquery?x={v}"): an APIv2 path has no "?": its parameters are signed, so they go in Options.XML (or Options.Query for a GET)`},
		{"a query in a GET template", func() error {
			_, err := b.Chain("v2/papay/h5entrustweb?mch_id=999").Get(ctx, wechatpay.Options{Query: url.Values{"plan_id": {"1"}}})
			return err
		}, `wechatpay: Chain("v2/papay/h5entrustweb?mch_id=999"): an APIv2 path has no "?"`},
		{"a query in an upper-case V2 template", func() error {
			_, err := b.Chain("V2/pay/orderquery?a=b").Post(ctx, wechatpay.Options{XML: mch})
			return err
		}, `an APIv2 path has no "?"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			assert.ErrorContains(t, tt.send(), tt.err)
			assert.Len(t, srv.Requests(), before, "nothing sent")
		})
	}

	_, err := b.Chain("v2/papay/h5entrustweb").Get(ctx, wechatpay.Options{Query: url.Values{"mch_id": {srv.MchID}, "plan_id": {"1"}}})
	require.NoError(t, err, "a GET's query is still its signed parameters")
	assert.Equal(t, "1", lastV2(t, srv).Params["plan_id"])
}

// TestLookupUpperCaseV2: Lookup normalises "V2/" (and a leading "/") as
// Chain does, which routes both to APIv2.
func TestLookupUpperCaseV2(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	for _, p := range []string{"V2/secapi/pay/refund", "v2/secapi/pay/refund", "/v2/secapi/pay/refund", "/V2/secapi/pay/refund"} {
		c, ok := b.Lookup(p)
		assert.True(t, ok, p)
		assert.Equal(t, "v2/secapi/pay/refund", c.Path(), p)
		_, err := b.Endpoint(p)
		assert.NoError(t, err, p)
	}
	_, ok := b.Lookup("V2/secapi/pay/nosuchthing")
	assert.False(t, ok)
}

// TestEmptySegmentsRefused: an empty segment inside a template would send
// "//" (v2//secapi/pay/refund went out as //secapi/pay/refund, without the
// merchant certificate); only a documented trailing "/" is kept.
func TestEmptySegmentsRefused(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	for name, chain := range map[string]*wechatpay.Chain{
		"v2//secapi/pay/refund":                b.Chain("v2//secapi/pay/refund"),
		"//v2/pay/orderquery":                  b.Chain("//v2/pay/orderquery"),
		"v3/pay//transactions/native":          b.Chain("v3/pay//transactions/native"),
		"v3/applyment4sub/applyment//":         b.Chain("v3/applyment4sub/applyment//"),
		"v3/x//?a=b":                           b.Chain("v3/x//?a=b"),
		"Seg after a trailing slash":           b.Chain("v3/applyment4sub/applyment/").Seg("x"),
		"Value after a trailing slash":         b.Chain("v3/applyment4sub/applyment/").Value("x"),
		"generated segment after a trailing /": b.Chain("v2/").Secapi(),
	} {
		t.Run(name, func(t *testing.T) {
			before := len(srv.Requests())
			_, err := chain.Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID}})
			assert.ErrorContains(t, err, "an empty segment")
			assert.Len(t, srv.Requests(), before, "nothing sent")
		})
	}
	u, err := b.Chain("v3/applyment4sub/applyment/").URL()
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"v3/applyment4sub/applyment/", u, "a documented trailing slash")
	u, err = b.Chain("v3/ecommerce/applyments/{x}").URL(wechatpay.Options{Path: map[string]string{"x": ""}})
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"v3/ecommerce/applyments/", u, "an empty last value")
}

// TestV2MutualTLSByDecodedSecapi: the secapi rule applies to the first
// segment as the server reads it, percent-decoded and in any case.
func TestV2MutualTLSByDecodedSecapi(t *testing.T) {
	t.Parallel()
	srv := newServer(t, wechatpaytest.WithTLS())
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	refund := map[string]string{"appid": "wx1", "mch_id": srv.MchID, "out_trade_no": "T1", "out_refund_no": "R1", "total_fee": "100", "refund_fee": "100"}
	for _, chain := range []*wechatpay.Chain{
		b.Chain("v2/%73ecapi/pay/refund"),
		b.Chain("v2/%73%65%63%61%70%69/pay/refund"),
		b.Chain("v2/Secapi/pay/refund"),
		b.Chain("v2/SECAPI/pay/refund"),
		b.Chain("v2/{a}/pay/refund"),
		b.Chain("v2/{a}"),
	} {
		t.Run(chain.Path(), func(t *testing.T) {
			var o wechatpay.Options
			o.XML = refund
			if strings.Contains(chain.Path(), "{a}") {
				o.Path = map[string]string{"a": "secapi"}
				if chain.Path() == "v2/{a}" {
					o.Path["a"] = "secapi/pay/refund"
				}
			}
			_, _ = chain.Post(ctx, o)
			last, ok := srv.LastRequest()
			require.True(t, ok)
			assert.NotNil(t, last.ClientCertificate, "%s went without the merchant certificate", last.RequestURI)
		})
	}
}

// TestV2EmptySignType: by APIv2's rules an empty value is an absent one,
// so sign_type "" means MD5, and is not sent.
func TestV2EmptySignType(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBuilder(t, srv, nil)
	ctx := context.Background()
	_, err := b.V2().Pay().Orderquery().Post(ctx, wechatpay.Options{XML: map[string]string{"mch_id": srv.MchID, "sign_type": ""}})
	require.NoError(t, err)
	got := lastV2(t, srv)
	assert.Len(t, got.Params["sign"], 32, "MD5")
	_, sent := got.Params["sign_type"]
	assert.False(t, sent, "an empty sign_type is not sent")
	assert.NotContains(t, string(got.Body), "<sign_type>")

	_, err = b.Chain("v2/papay/entrustweb").Get(ctx, wechatpay.Options{Query: url.Values{"mch_id": {srv.MchID}, "sign_type": {""}}})
	require.NoError(t, err)
	got = lastV2(t, srv)
	assert.NotContains(t, got.RequestURI, "sign_type")
	assert.Len(t, got.Params["sign"], 32)
}
