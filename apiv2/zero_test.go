package apiv2_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/internal/zerotest"
)

// says checks that a call's only result is a string holding want.
func says(want string) zerotest.Expect {
	return zerotest.Expect{Check: func(out []reflect.Value) error {
		if s := out[0].String(); !strings.Contains(s, want) {
			return fmt.Errorf("%q does not say %q", s, want)
		}
		return nil
	}}
}

// zeroWalk walks every exported type of the package with methods. A
// Decoder{} has the default limits: it decodes, and refuses the walk's
// empty body.
var zeroWalk = zerotest.Walk{
	Values: []any{apiv2.Decoder{}, apiv2.DecodeError{}, apiv2.FieldError{}},
	Funcs: map[string]any{
		"Decode":   apiv2.Decode,
		"Encode":   apiv2.Encode,
		"Sign":     apiv2.Sign,
		"Unsigned": apiv2.Unsigned,
		"Verify":   apiv2.Verify,
	},
	Expect: map[string]zerotest.Expect{
		"Decoder.Decode/zero":   {Err: "apiv2: not an APIv2 XML document: the body is empty"},
		"DecodeError.Error/nil": says("nil *DecodeError"),
		"FieldError.Error/nil":  says("nil *FieldError"),
		"Decode":                {Err: "apiv2: not an APIv2 XML document: the body is empty"},
		"Verify":                {Err: "apiv2: no APIv2 key to verify with"},
	},
}

// TestZeroValues calls every exported method on the zero value and the nil
// pointer of every exported type, and every function with zero arguments:
// none panics or blocks, and each works or says what to use instead.
func TestZeroValues(t *testing.T) {
	t.Parallel()
	zeroWalk.Run(t)
}

// TestZeroValuesCovered fails when an exported type or function is added
// without its case in zeroWalk.
func TestZeroValuesCovered(t *testing.T) {
	t.Parallel()
	zerotest.Covered(t, ".", zeroWalk)
}

// TestZeroDecoderDecodes: a Decoder{} reads a message with the package's
// default limits.
func TestZeroDecoderDecodes(t *testing.T) {
	t.Parallel()
	var got map[string]string
	err := zerotest.Call(t, func() (err error) {
		got, err = apiv2.Decoder{}.Decode([]byte("<xml><return_code>SUCCESS</return_code></xml>"))
		return err
	})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"return_code": "SUCCESS"}) {
		t.Errorf("Decoder{}.Decode = %v, %v", got, err)
	}
}
