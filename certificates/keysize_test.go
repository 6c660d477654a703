package certificates_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/aesgcm"
	"github.com/wechatpay-chain/wechatpay/certificates"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// TestDownloadRefusesWeakCertificates: a platform certificate with a
// 1024-bit key is refused before anything is verified with it.
func TestDownloadRefusesWeakCertificates(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x5EA4), Subject: pkix.Name{CommonName: "weak platform"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ct, err := aesgcm.Encrypt(srv.APIv3Key, "0123456789ab", "certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	require.NoError(t, err)
	srv.Handle("GET /v3/certificates", func(w http.ResponseWriter, r *http.Request) {
		wechatpaytest.JSON(w, http.StatusOK, map[string]any{"data": []map[string]any{{
			"serial_no": "5EA4", "effective_time": tmpl.NotBefore.Format(time.RFC3339), "expire_time": tmpl.NotAfter.Format(time.RFC3339),
			"encrypt_certificate": map[string]string{"algorithm": aesgcm.Algorithm, "nonce": "0123456789ab", "associated_data": "certificate", "ciphertext": ct},
		}}})
	})
	b, err := wechatpay.NewBuilder(srv.Config())
	require.NoError(t, err)

	_, err = certificates.Download(context.Background(), b, srv.APIv3Key, "")
	require.Error(t, err)
	assert.ErrorIs(t, err, wechatpay.ErrWeakKey)
	assert.Contains(t, err.Error(), "certificates: certificate 5EA4: ")
	assert.Contains(t, err.Error(), "the key of certificate 5EA4 is a 1024-bit RSA key: 2048 bits or more are required")
}
