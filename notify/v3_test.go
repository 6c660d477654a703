package notify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/aesgcm"
	"github.com/wechatpay-chain/wechatpay/middleware"
	"github.com/wechatpay-chain/wechatpay/notify"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

var transaction = map[string]any{"out_trade_no": "T1", "transaction_id": "4200001", "trade_state": "SUCCESS",
	"amount": map[string]any{"total": 100, "currency": "CNY"}}

func parser(srv *wechatpaytest.Server) *notify.Parser {
	return &notify.Parser{APIv3Key: srv.APIv3Key, Keys: middleware.StaticKeys{
		srv.PublicKeyID: &srv.PublicKeyKey.PublicKey, srv.PlatformSerial: &srv.PlatformKey.PublicKey}}
}

func TestParse(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	p := parser(srv)
	ctx := context.Background()

	h, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
	require.NoError(t, err)
	n, err := p.Parse(ctx, h, body)
	require.NoError(t, err)
	assert.Regexp(t, `^EV-`, n.ID)
	assert.Equal(t, "TRANSACTION.SUCCESS", n.EventType)
	assert.Equal(t, "transaction", n.Resource.OriginalType)
	assert.Equal(t, srv.PublicKeyID, n.Serial)
	assert.Equal(t, int64(100), n.Get("amount.total").Int())
	var tx struct {
		OutTradeNo string `json:"out_trade_no"`
	}
	require.NoError(t, n.Decode(&tx))
	assert.Equal(t, "T1", tx.OutTradeNo)

	reencoded := func() []byte {
		var v map[string]any
		require.NoError(t, json.Unmarshal(body, &v))
		out, err := json.MarshalIndent(v, "", "  ") // what a framework might hand over
		require.NoError(t, err)
		return out
	}()
	wrongKey := parser(srv)
	wrongKey.Keys = middleware.StaticKeys{srv.PublicKeyID: &srv.PlatformKey.PublicKey}
	wrongAPIv3 := parser(srv)
	wrongAPIv3.APIv3Key = "0123456789abcdef0123456789abcdef"

	faulty := func(f wechatpaytest.Fault) (http.Header, []byte) {
		h, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, f)
		require.NoError(t, err)
		return h, body
	}
	tests := []struct {
		name   string
		parser *notify.Parser
		header http.Header
		body   []byte
		want   error
	}{
		{"tampered body", p, h, bytes.Replace(body, []byte(`"TRANSACTION.SUCCESS"`), []byte(`"REFUND.SUCCESS"`), 1), middleware.ErrBadSignature},
		{"re-encoded body", p, h, reencoded, middleware.ErrBadSignature},
		{"wrong key for the serial", wrongKey, h, body, middleware.ErrBadSignature},
		{"bad ciphertext (another APIv3 key)", wrongAPIv3, h, body, aesgcm.ErrDecrypt},
	}
	for _, f := range []struct {
		fault wechatpaytest.Fault
		want  error
	}{
		{wechatpaytest.StaleTimestamp, middleware.ErrClockSkew},
		{wechatpaytest.SignTest, middleware.ErrSignTest},
		{wechatpaytest.UnknownSerial, middleware.ErrUnknownSerial},
		{wechatpaytest.MissingSignature, middleware.ErrMissingHeader},
	} {
		fh, fb := faulty(f.fault)
		tests = append(tests, struct {
			name   string
			parser *notify.Parser
			header http.Header
			body   []byte
			want   error
		}{f.want.Error(), p, fh, fb, f.want})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := tt.parser.Parse(ctx, tt.header, tt.body)
			assert.Nil(t, n)
			assert.ErrorIs(t, err, tt.want)
			if tt.want != aesgcm.ErrDecrypt {
				assert.ErrorIs(t, err, middleware.ErrVerification)
				assert.ErrorContains(t, err, "notification verification failed")
			}
		})
	}

	t.Run("signed but not a notification", func(t *testing.T) {
		body := []byte(`{"hello":"world"}`)
		_, err := p.Parse(ctx, signByHand(t, srv.PublicKeyKey, srv.PublicKeyID, body), body)
		assert.ErrorIs(t, err, notify.ErrMalformed)
	})
	t.Run("stale by the parser's clock", func(t *testing.T) {
		late := parser(srv)
		late.Now = func() time.Time { return time.Now().Add(301 * time.Second) }
		_, err := late.Parse(ctx, h, body)
		assert.ErrorIs(t, err, middleware.ErrClockSkew)
	})
}

func TestHandler(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	seen := map[string]int{}
	var failNext bool
	h := parser(srv).Handler(func(ctx context.Context, n *notify.Notification) error {
		seen[n.ID]++
		if failNext {
			return errors.New("the database is down")
		}
		return nil
	})
	h.Logger = slog.New(slog.DiscardHandler)
	merchant := httptest.NewServer(h)
	defer merchant.Close()
	ctx := context.Background()

	resp, err := srv.Notify(ctx, nil, merchant.URL, "TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Len(t, seen, 1)

	for _, tt := range []struct {
		fault   wechatpaytest.Fault
		failFn  bool
		status  int
		message string
	}{
		{wechatpaytest.SignTest, false, http.StatusUnauthorized, "invalid notification"},
		{wechatpaytest.StaleTimestamp, false, http.StatusUnauthorized, "invalid notification"},
		{wechatpaytest.NoFault, true, http.StatusInternalServerError, "notification not processed"},
	} {
		failNext = tt.failFn
		resp, err := srv.Notify(ctx, nil, merchant.URL, "TRANSACTION.SUCCESS", transaction, tt.fault)
		require.NoError(t, err)
		var reply struct{ Code, Message string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&reply))
		resp.Body.Close()
		assert.Equal(t, tt.status, resp.StatusCode)
		assert.Equal(t, "FAIL", reply.Code)
		assert.Equal(t, tt.message, reply.Message)
	}

	resp, err = http.Post(merchant.URL, "application/json", bytes.NewReader([]byte("{}")))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "an unsigned POST")
}

// FuzzParse: no input panics, and nothing unsigned gets through.
func FuzzParse(f *testing.F) {
	srv := newServer(f)
	p := parser(srv)
	h, body, err := srv.Notification("TRANSACTION.SUCCESS", transaction, wechatpaytest.NoFault)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body, h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce"), h.Get("Wechatpay-Signature"), h.Get("Wechatpay-Serial"))
	f.Add([]byte("{}"), "1", "n", "WECHATPAY/SIGNTEST/x", srv.PublicKeyID)
	f.Fuzz(func(t *testing.T, body []byte, timestamp, nonce, signature, serial string) {
		h := http.Header{"Wechatpay-Timestamp": {timestamp}, "Wechatpay-Nonce": {nonce},
			"Wechatpay-Signature": {signature}, "Wechatpay-Serial": {serial}}
		n, err := p.Parse(context.Background(), h, body)
		if err == nil && n.ID == "" {
			t.Fatal("a notification without an id passed")
		}
	})
}

// signByHand signs a body the way WeChat Pay signs notifications.
func signByHand(t *testing.T, key *rsa.PrivateKey, serial string, body []byte) http.Header {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	digest := sha256.Sum256([]byte(ts + "\nNONCE\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	require.NoError(t, err)
	return http.Header{"Wechatpay-Timestamp": {ts}, "Wechatpay-Nonce": {"NONCE"},
		"Wechatpay-Signature": {base64.StdEncoding.EncodeToString(sig)}, "Wechatpay-Serial": {serial}}
}
