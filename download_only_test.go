package wechatpay_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// TestDownloadOnlyBuilder: a Builder with no verification key is refused
// with an error that says what to set, including for a Builder that only
// downloads platform certificates; doing what it says works.
func TestDownloadOnlyBuilder(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	cfg := srv.Config()
	cfg.Certs, cfg.Keys = nil, nil

	_, err := wechatpay.NewBuilder(cfg)
	require.Error(t, err)
	assert.EqualError(t, err, "wechatpay: Config.Certs is empty and Config.Keys is nil, so no response could be verified: "+
		"set Config.Certs to the WeChat Pay public key (PUB_KEY_ID_... -> pub_key.pem) and/or WeChat Pay platform certificates (serial -> key), "+
		"or Config.Keys to a certificates.Manager that downloads the platform certificates; "+
		"a Builder only for certificates.Download (which verifies the download with the certificates it holds) sets Config.Keys: middleware.StaticKeys{}")

	cfg.Keys = middleware.StaticKeys{} // what the error says: no key, on purpose
	b, err := wechatpay.NewBuilder(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	certs, err := certificates.Download(ctx, b, srv.APIv3Key, "")
	require.NoError(t, err)
	require.Len(t, certs, 1)
	assert.Equal(t, srv.PlatformSerial, certs[0].Serial)

	// Anything signed still fails, naming the serial it cannot verify.
	_, err = b.V3().Pay().Transactions().OutTradeNo().Value("T1").Get(ctx, wechatpay.Options{Query: map[string][]string{"mchid": {srv.MchID}}})
	assert.ErrorIs(t, err, wechatpay.ErrUnknownSerial)
	assert.ErrorContains(t, err, "which is not among the configured verification keys []")

	// An unsigned download goes through.
	srv.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("BILL-BYTES-5c1e0a")) })
	resp, err := b.Chain("v3/billdownload/file").Get(ctx, wechatpay.Options{Query: map[string][]string{"token": {"t"}}})
	require.NoError(t, err)
	assert.Equal(t, "BILL-BYTES-5c1e0a", string(resp.Body()))
}
