package aesgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
)

// Algorithm is the "algorithm" value of encrypted resources.
const Algorithm = "AEAD_AES_256_GCM"

// ErrDecrypt hides why decryption failed: the tag check says nothing more
// than "not authentic", and neither does this. A ciphertext that is not
// base64 or comes with an empty nonce matches it too (errors.Is): it cannot
// be decrypted either. An APIv3 key of the wrong length does not: that is
// the caller's configuration.
var ErrDecrypt = errors.New("aesgcm: the ciphertext does not decrypt with this APIv3 key: it was altered, or the APIv3 key is not the merchant's")

// undecryptable is a ciphertext or nonce that cannot be decrypted at all;
// it matches ErrDecrypt.
type undecryptable string

func (e undecryptable) Error() string        { return "aesgcm: " + string(e) }
func (e undecryptable) Is(target error) bool { return target == ErrDecrypt }

// Decrypt opens a base64 ciphertext (the 16-byte tag last) with the 32-byte
// APIv3 key, the nonce string's bytes (of any length) and the associated
// data. Every failure but a wrong key length matches ErrDecrypt.
func Decrypt(apiv3Key, nonce, associatedData, ciphertext string) ([]byte, error) {
	if err := checkKey(apiv3Key); err != nil {
		return nil, err
	}
	if nonce == "" {
		return nil, undecryptable("the nonce is empty")
	}
	aead, err := newAEAD(apiv3Key, nonce)
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, undecryptable("the ciphertext is not base64")
	}
	plain, err := aead.Open(nil, []byte(nonce), data, []byte(associatedData))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// Encrypt is the inverse of Decrypt, as WeChat Pay does it; the fake server
// and tests use it.
func Encrypt(apiv3Key, nonce, associatedData string, plaintext []byte) (string, error) {
	aead, err := newAEAD(apiv3Key, nonce)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))), nil
}

func checkKey(apiv3Key string) error {
	if len(apiv3Key) != 32 {
		// The length only: the key itself never goes into an error.
		return fmt.Errorf("aesgcm: the APIv3 key has %d bytes; it has 32 (set in the merchant platform)", len(apiv3Key))
	}
	return nil
}

func newAEAD(apiv3Key, nonce string) (cipher.AEAD, error) {
	if err := checkKey(apiv3Key); err != nil {
		return nil, err
	}
	if nonce == "" {
		return nil, errors.New("aesgcm: the nonce is empty")
	}
	block, err := aes.NewCipher([]byte(apiv3Key))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithNonceSize(block, len(nonce))
}
