package catalog_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/internal/zerotest"
)

// zeroWalk walks every exported type of the package with methods (Params
// has none). An Endpoint{} is served from the default host and has no
// flag.
var zeroWalk = zerotest.Walk{
	Values: []any{catalog.Endpoint{}, catalog.NotDocumentedError{}},
	Funcs: map[string]any{
		"All":           catalog.All,
		"BaseURI":       catalog.BaseURI,
		"Get":           catalog.Get,
		"Match":         catalog.Match,
		"MatchTemplate": catalog.MatchTemplate,
		"Nearest":       catalog.Nearest,
		"Search":        catalog.Search,
	},
	Expect: map[string]zerotest.Expect{
		"Endpoint.Host/zero": {Check: func(out []reflect.Value) error {
			if h := out[0].String(); h != catalog.DefaultBaseURI {
				return fmt.Errorf("Endpoint{}.Host() = %q, want DefaultBaseURI", h)
			}
			return nil
		}},
		"NotDocumentedError.Error/nil": {Check: func(out []reflect.Value) error {
			if s := out[0].String(); !strings.Contains(s, "nil *NotDocumentedError") {
				return fmt.Errorf("%q does not say it is a nil *NotDocumentedError", s)
			}
			return nil
		}},
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
