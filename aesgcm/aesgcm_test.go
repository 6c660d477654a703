package aesgcm_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/aesgcm"
)

const key = "0123456789abcdef0123456789ABCDEF"

func TestRoundTripAnyNonceLength(t *testing.T) {
	t.Parallel()
	for _, nonce := range []string{"61f9c719728a", "fdasflkja484w", "n", strings.Repeat("x", 64)} {
		ct, err := aesgcm.Encrypt(key, nonce, "transaction", []byte(`{"out_trade_no":"T1"}`))
		require.NoError(t, err)
		plain, err := aesgcm.Decrypt(key, nonce, "transaction", ct)
		require.NoError(t, err, nonce)
		assert.Equal(t, `{"out_trade_no":"T1"}`, string(plain))
	}
}

func TestDecryptFailures(t *testing.T) {
	t.Parallel()
	ct, err := aesgcm.Encrypt(key, "61f9c719728a", "certificate", []byte("-----BEGIN CERTIFICATE-----"))
	require.NoError(t, err)
	// The keys are sentinels, so the check that no error shows its key
	// cannot pass or fail by chance.
	const otherKey, shortKey = "OTHERKEY-SECRET-3b8e5f01a2c4d6e8", "SHORT-KEY-SECRET-9d4"
	tests := []struct {
		name, key, nonce, aad, ct, want string
		decrypt                         bool // matches ErrDecrypt
	}{
		{"other key", otherKey, "61f9c719728a", "certificate", ct, "does not decrypt", true},
		{"other nonce", key, "61f9c719728b", "certificate", ct, "does not decrypt", true},
		{"other associated data", key, "61f9c719728a", "transaction", ct, "does not decrypt", true},
		{"altered", key, "61f9c719728a", "certificate", "A" + ct[1:], "does not decrypt", true},
		{"not base64", key, "61f9c719728a", "certificate", "***", "aesgcm: the ciphertext is not base64", true},
		{"short key", shortKey, "61f9c719728a", "certificate", ct, "the APIv3 key has 20 bytes; it has 32", false},
		{"short key, no nonce", shortKey, "", "certificate", ct, "the APIv3 key has 20 bytes; it has 32", false},
		{"no nonce", key, "", "certificate", ct, "aesgcm: the nonce is empty", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := aesgcm.Decrypt(tt.key, tt.nonce, tt.aad, tt.ct)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), tt.key)
			assert.Equal(t, tt.decrypt, errors.Is(err, aesgcm.ErrDecrypt), "errors.Is(%v, ErrDecrypt)", err)
		})
	}
}

// FuzzDecrypt: no input panics, and only the real ciphertext opens.
func FuzzDecrypt(f *testing.F) {
	ct, _ := aesgcm.Encrypt(key, "61f9c719728a", "transaction", []byte("{}"))
	f.Add("61f9c719728a", "transaction", ct)
	f.Add("", "", "")
	f.Add("n", "a", "AAAA")
	f.Fuzz(func(t *testing.T, nonce, aad, ciphertext string) {
		plain, err := aesgcm.Decrypt(key, nonce, aad, ciphertext)
		if err != nil {
			return
		}
		// base64 may spell the same bytes more than one way: compare bytes.
		got, _ := base64.StdEncoding.DecodeString(ciphertext)
		want, _ := base64.StdEncoding.DecodeString(ct)
		if !bytes.Equal(got, want) || nonce != "61f9c719728a" || aad != "transaction" || string(plain) != "{}" {
			t.Fatalf("an unexpected input decrypted: %q %q %q -> %q", nonce, aad, ciphertext, plain)
		}
	})
}
