package middleware_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wechatpay-chain/wechatpay/internal/zerotest"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// The errors of values no constructor made.
const (
	nilStack    = "middleware: the Stack is nil: create it with NewStack"
	nilSigner   = "middleware: the Signer is nil"
	noKey       = "middleware: Signer.Key is nil"
	nilHeaders  = "middleware: the Headers step is nil"
	nilVerifier = "the Verifier is nil, so no verification key is configured"
	noKeys      = "Verifier.Keys is nil, so no verification key is configured"
	nilSigning  = "middleware: the signing key is nil"
)

// zeroWalk walks every exported type of the package with methods. The
// walk's response is a 200 without signature headers: a Verifier without
// keys says so before anything else.
var zeroWalk = zerotest.Walk{
	Values: []any{
		middleware.Stack{}, middleware.Signer{}, middleware.Verifier{}, middleware.Headers{},
		middleware.StaticKeys(nil), middleware.MultiKeys(nil), middleware.VerificationError{}, middleware.StepError{},
	},
	Funcs: map[string]any{
		"FromCryptoSigner": middleware.FromCryptoSigner,
		"IsNotification":   middleware.IsNotification,
		"NewStack":         middleware.NewStack,
		"StackFrom":        middleware.StackFrom,
		"Nonce":            middleware.Nonce,
		"Unsigned":         middleware.Unsigned,
		"WithNotification": middleware.WithNotification,
		"WithSignedBody":   middleware.WithSignedBody,
		"WithStack":        middleware.WithStack,
		"Without":          middleware.Without,
	},
	Expect: map[string]zerotest.Expect{
		// A Stack{} is an empty stack: the walk's Step{} has no name, and
		// it holds no step named "".
		"Stack.Append/zero":       {Err: "middleware: a step needs a name"},
		"Stack.InsertAfter/zero":  {Err: `middleware: no step named ""`},
		"Stack.InsertBefore/zero": {Err: `middleware: no step named ""`},
		"Stack.Remove/zero":       {Err: `middleware: no step named ""`},
		"Stack.Replace/zero":      {Err: `middleware: no step named ""`},
		// A nil *Stack cannot hold a step nor run: it would send a request
		// unsigned, or take an answer unverified.
		"Stack/nil": {Err: nilStack},

		"Signer.Sign/zero":  {Err: noKey},
		"Signer.Sign/nil":   {Err: nilSigner},
		"Headers.Apply/nil": {Err: nilHeaders},

		"Verifier/zero": {Err: noKeys},
		"Verifier/nil":  {Err: nilVerifier},

		"VerificationError.Error/nil": {Check: func(out []reflect.Value) error {
			if s := out[0].String(); !strings.Contains(s, "nil *VerificationError") {
				return fmt.Errorf("%q does not say it is a nil *VerificationError", s)
			}
			return nil
		}},

		"FromCryptoSigner": {Check: func(out []reflect.Value) error {
			_, err := out[0].Interface().(middleware.SigningKey).Sign(context.Background(), []byte("m"))
			if err == nil || !strings.Contains(err.Error(), nilSigning) {
				return fmt.Errorf("FromCryptoSigner(nil).Sign gave %v, want an error saying %q", err, nilSigning)
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

// TestZeroValuesInUse goes past the checks the walk's unsigned response
// meets: a Verifier{} or nil *Verifier given a correctly signed answer or
// notification fails closed (ErrUnknownSerial) instead of crashing; steps
// of nil signers, verifiers and headers fail; typed-nil and empty keys,
// and nil sources in MultiKeys, do not crash.
func TestZeroValuesInUse(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const body = `{"zero":true}`
	signed := func() *http.Response {
		return signedResponse(t, srv.PublicKeyKey, srv.PublicKeyID, "/v3/zero", time.Now(), body)
	}
	ctx := context.Background()
	req := func() *http.Request { return httptest.NewRequest(http.MethodGet, "http://127.0.0.1/v3/zero", nil) }
	stream := func(v *middleware.Verifier) error {
		w, done, verr := v.VerifyStream(ctx, signed().Header)
		if verr != nil {
			return verr
		}
		_, _ = w.Write([]byte(body))
		if verr := done(); verr != nil {
			return verr
		}
		return nil
	}
	check := func(v *middleware.Verifier) error {
		if verr := v.Check(ctx, signed().Header, []byte(body)); verr != nil {
			return verr
		}
		return nil
	}
	var nilVerifierP *middleware.Verifier
	static := middleware.StaticKeys{srv.PublicKeyID: &srv.PublicKeyKey.PublicKey}

	for _, tc := range []struct {
		name string
		call func() error
		want string // "" means no error
	}{
		{"Verifier{} Verify", func() error { return (&middleware.Verifier{}).Verify(signed(), []byte(body)) }, noKeys},
		{"nil Verifier Verify", func() error { return nilVerifierP.Verify(signed(), []byte(body)) }, nilVerifier},
		{"Verifier{} VerifyNotification", func() error {
			return (&middleware.Verifier{}).VerifyNotification(ctx, signed().Header, []byte(body))
		}, noKeys},
		{"nil Verifier VerifyNotification", func() error {
			return nilVerifierP.VerifyNotification(ctx, signed().Header, []byte(body))
		}, nilVerifier},
		{"Verifier{} Check", func() error { return check(&middleware.Verifier{}) }, noKeys},
		{"nil Verifier Check", func() error { return check(nil) }, nilVerifier},
		{"Verifier{} VerifyStream", func() error { return stream(&middleware.Verifier{}) }, noKeys},
		{"nil Verifier VerifyStream", func() error { return stream(nil) }, nilVerifier},
		{"nil Verifier step", func() error { return nilVerifierP.Step().Response(signed(), []byte(body)) }, nilVerifier},
		{"nil Verifier step, streamed", func() error {
			_, _, err := nilVerifierP.Step().Stream(signed())
			return err
		}, nilVerifier},
		{"a Verifier with keys still verifies", func() error { return (&middleware.Verifier{Keys: static}).Verify(signed(), []byte(body)) }, ""},
		{"nil Signer step", func() error { return (*middleware.Signer)(nil).Step().Request(req()) }, nilSigner},
		{"nil Headers step", func() error { return (*middleware.Headers)(nil).Step().Request(req()) }, nilHeaders},
		{"Signer of FromCryptoSigner(nil)", func() error {
			return (&middleware.Signer{Key: middleware.FromCryptoSigner(nil)}).Sign(req())
		}, nilSigning},
		{"FromCryptoSigner of a nil *rsa.PrivateKey", func() error {
			_, err := middleware.FromCryptoSigner((*rsa.PrivateKey)(nil)).Sign(ctx, []byte("m"))
			return err
		}, nilSigning},
		{"FromCryptoSigner of an rsa.PrivateKey{}", func() error {
			_, err := middleware.FromCryptoSigner(&rsa.PrivateKey{}).Sign(ctx, []byte("m"))
			return err
		}, "middleware: the signing key is an empty RSA key"},
		{"MultiKeys with a nil source", func() error {
			m := middleware.MultiKeys{nil, static}
			if _, ok := m.PublicKey(ctx, srv.PublicKeyID); !ok {
				return errors.New("the key behind the nil source was not found")
			}
			if got := m.Serials(); !reflect.DeepEqual(got, []string{srv.PublicKeyID}) {
				return fmt.Errorf("Serials() = %v", got)
			}
			return nil
		}, ""},
		{"Stack{} takes steps and runs", func() error {
			var s middleware.Stack
			if err := s.Append((&middleware.Headers{UserAgent: "zero"}).Step()); err != nil {
				return err
			}
			r := req()
			if err := s.HandleRequest(r); err != nil {
				return err
			}
			if ua := r.Header.Get("User-Agent"); ua != "zero" {
				return fmt.Errorf("User-Agent %q", ua)
			}
			return s.HandleResponse(signed(), nil)
		}, ""},
		{"a nil Stack's Clone takes steps", func() error {
			return (*middleware.Stack)(nil).Clone().Append((&middleware.Headers{}).Step())
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := zerotest.CallWant(t, tc.call, tc.want)
			if !t.Failed() && strings.Contains(tc.name, "Verifier") && tc.want != "" && !errors.Is(err, middleware.ErrUnknownSerial) {
				t.Errorf("%v does not match ErrUnknownSerial", err)
			}
		})
	}
}
