// Package aesgcm is WeChat Pay's AEAD_AES_256_GCM: how notification
// resources and downloaded platform certificates are encrypted with the
// merchant's APIv3 key.
package aesgcm
