package middleware_test

import (
	"context"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/middleware"
)

// sourceKeys records whether each lookup came from a notification.
type sourceKeys struct {
	middleware.StaticKeys
	fromNotification []bool
}

func (k *sourceKeys) PublicKey(ctx context.Context, serial string) (*rsa.PublicKey, bool) {
	k.fromNotification = append(k.fromNotification, middleware.IsNotification(ctx))
	return k.StaticKeys.PublicKey(ctx, serial)
}

// TestLookupsKnowTheirSource: a key source can tell a notification's
// lookup (anyone can send one) from an answer's.
func TestLookupsKnowTheirSource(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	keys := &sourceKeys{StaticKeys: middleware.StaticKeys{srv.PublicKeyID: &srv.PublicKeyKey.PublicKey}}
	v := &middleware.Verifier{Keys: keys}
	resp := signedResponse(t, srv.PublicKeyKey, srv.PublicKeyID, "/v3/pay/transactions/native", time.Now(), "{}")

	require.NoError(t, v.Verify(resp, []byte("{}")))
	require.NoError(t, v.VerifyNotification(context.Background(), resp.Header, []byte("{}")))
	require.Nil(t, v.Check(context.Background(), resp.Header, []byte("{}")))
	assert.Equal(t, []bool{false, true, false}, keys.fromNotification, "answer, notification, plain check")
	assert.False(t, middleware.IsNotification(context.Background()))
	assert.True(t, middleware.IsNotification(middleware.WithNotification(context.Background())))
}
