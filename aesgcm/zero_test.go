package aesgcm_test

import (
	"testing"

	"github.com/wechatpay-chain/wechatpay/aesgcm"
	"github.com/wechatpay-chain/wechatpay/internal/zerotest"
)

// zeroWalk: the package has functions only; an empty key is refused.
var zeroWalk = zerotest.Walk{
	Funcs: map[string]any{
		"Decrypt": aesgcm.Decrypt,
		"Encrypt": aesgcm.Encrypt,
	},
	Expect: map[string]zerotest.Expect{
		"Decrypt": {Err: "aesgcm: the APIv3 key has 0 bytes; it has 32"},
		"Encrypt": {Err: "aesgcm: the APIv3 key has 0 bytes; it has 32"},
	},
}

// TestZeroValues calls every function with zero arguments: none panics or
// blocks, and each says what was expected.
func TestZeroValues(t *testing.T) {
	t.Parallel()
	zeroWalk.Run(t)
}

// TestZeroValuesCovered fails when an exported function is added without
// its case in zeroWalk.
func TestZeroValuesCovered(t *testing.T) {
	t.Parallel()
	zerotest.Covered(t, ".", zeroWalk)
}
