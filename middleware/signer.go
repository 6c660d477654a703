package middleware

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/wechatpay-chain/wechatpay/internal/rsakey"
)

// Scheme is the Authorization scheme of APIv3 requests signed with RSA.
const Scheme = "WECHATPAY2-SHA256-RSA2048"

// SigningKey produces the RSASSA-PKCS1-v1_5 SHA-256 signature of a message
// with the merchant API private key. It is the seam for keys that never leave
// an HSM or a cloud KMS: implement it, or wrap a crypto.Signer with
// [FromCryptoSigner].
type SigningKey interface {
	// Sign returns the signature of message. ctx is the caller's (the
	// request's), so that a remote key honours its deadline and cancellation.
	Sign(ctx context.Context, message []byte) ([]byte, error)
}

// FromCryptoSigner adapts a crypto.Signer holding an RSA key (an
// *rsa.PrivateKey, or an HSM or KMS handle that implements crypto.Signer).
// A key under 2048 bits signs nothing (errors.Is ErrWeakKey).
func FromCryptoSigner(s crypto.Signer) SigningKey {
	if s == nil || nilPointer(s) {
		return cryptoKey{err: errors.New("middleware: the signing key is nil: expected the merchant API private key (apiclient_key.pem)")}
	}
	// Checked once here: Public may be a remote call for a KMS key.
	k := cryptoKey{signer: s, pub: s.Public()}
	if pub, ok := k.pub.(*rsa.PublicKey); !ok {
		k.err = fmt.Errorf("middleware: the signing key holds a %T, expected the merchant's RSA API private key", k.pub)
	} else if pub.N == nil {
		k.err = errors.New("middleware: the signing key is an empty RSA key: expected the merchant API private key (apiclient_key.pem)")
	} else if err := rsakey.Check(rsakey.Merchant, pub); err != nil {
		k.err = fmt.Errorf("middleware: %w", err)
	}
	return k
}

// nilPointer reports whether s is a nil pointer in a non-nil interface, such
// as a nil *rsa.PrivateKey: its Public would crash.
func nilPointer(s crypto.Signer) bool {
	v := reflect.ValueOf(s)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

type cryptoKey struct {
	signer crypto.Signer
	pub    crypto.PublicKey
	err    error
}

// Public returns the signer's public key, as crypto.Signer does: NewBuilder
// checks its size.
func (k cryptoKey) Public() crypto.PublicKey { return k.pub }

func (k cryptoKey) Sign(_ context.Context, message []byte) ([]byte, error) {
	if k.err != nil {
		return nil, k.err
	}
	digest := sha256.Sum256(message)
	return k.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
}

// Signer is the signer step: it sets the APIv3 Authorization header over the
// method, the request target and the body exactly as they go on the wire, with
// a fresh timestamp and nonce on every call (so every retry is signed anew).
type Signer struct {
	MchID  string     // merchant id
	Serial string     // serial of the merchant API certificate, upper-case hex
	Key    SigningKey // the merchant API private key
	// Now gives the signing time; nil means time.Now. Tests use it to
	// simulate a client whose clock is wrong.
	Now func() time.Time
}

// Step returns the signer as the stack step named [SignerStep].
func (s *Signer) Step() Step { return Step{Name: SignerStep, Request: s.Sign} }

type signedBodyKey struct{}

// WithSignedBody makes the signer sign body instead of the request's own
// body: a media upload signs only its meta JSON, not the multipart bytes.
func WithSignedBody(ctx context.Context, body []byte) context.Context {
	return context.WithValue(ctx, signedBodyKey{}, body)
}

// Sign sets the Authorization header of req. It reads the body through
// req.GetBody (or takes the one WithSignedBody gave) and leaves req.Body
// untouched.
func (s *Signer) Sign(req *http.Request) error {
	switch {
	case s == nil:
		return errors.New("middleware: the Signer is nil: create it as &Signer{MchID: ..., Serial: ..., Key: ...}")
	case s.Key == nil:
		return errors.New("middleware: Signer.Key is nil: expected the merchant API private key (see FromCryptoSigner)")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	timestamp := strconv.FormatInt(now().Unix(), 10)
	nonce, err := Nonce()
	if err != nil {
		return err
	}
	lines := [...]string{req.Method, req.URL.RequestURI(), timestamp, nonce}
	var msg []byte
	if body, ok := req.Context().Value(signedBodyKey{}).([]byte); ok {
		msg = message(body, lines[:]...)
	} else if msg, err = requestMessage(req, lines[:]); err != nil {
		return fmt.Errorf("middleware: reading the request body to sign it: %w", err)
	}
	sig, err := s.Key.Sign(req.Context(), msg)
	if err != nil {
		return fmt.Errorf("middleware: signing %s %s: %w", req.Method, req.URL.Path, err)
	}
	var b strings.Builder
	b.Grow(len(Scheme) + len(s.MchID) + len(s.Serial) + len(timestamp) + len(nonce) + base64.StdEncoding.EncodedLen(len(sig)) + 64)
	b.WriteString(Scheme)
	b.WriteString(` mchid="`)
	b.WriteString(s.MchID)
	b.WriteString(`",serial_no="`)
	b.WriteString(s.Serial)
	b.WriteString(`",timestamp="`)
	b.WriteString(timestamp)
	b.WriteString(`",nonce_str="`)
	b.WriteString(nonce)
	b.WriteString(`",signature="`)
	var enc [512]byte // a 2048- or 3072-bit signature, encoded without an allocation
	if n := base64.StdEncoding.EncodedLen(len(sig)); n <= len(enc) {
		base64.StdEncoding.Encode(enc[:n], sig)
		b.Write(enc[:n])
	} else {
		b.WriteString(base64.StdEncoding.EncodeToString(sig))
	}
	b.WriteString(`"`)
	req.Header.Set("Authorization", b.String())
	return nil
}

// message joins lines and then body, each followed by "\n": the request
// message is method, target, timestamp, nonce, body; the response message
// is timestamp, nonce, body.
func message(body []byte, lines ...string) []byte {
	n := len(body) + len(lines) + 1
	for _, l := range lines {
		n += len(l)
	}
	msg := make([]byte, 0, n)
	for _, l := range lines {
		msg = append(msg, l...)
		msg = append(msg, '\n')
	}
	msg = append(msg, body...)
	return append(msg, '\n')
}

// requestMessage returns the message to sign: lines, then the bytes req
// will send, read through GetBody (req.Body is left unread) straight into
// the message when their length is known. A body without GetBody cannot
// be read twice, and is an error.
func requestMessage(req *http.Request, lines []string) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return message(nil, lines...), nil
	}
	if req.GetBody == nil {
		// Signed over nothing, it would be sent with its real body.
		return nil, errors.New("the request has a body but no GetBody, so the bytes to sign cannot be read without consuming them: build it with http.NewRequest over a *bytes.Reader, *bytes.Buffer or *strings.Reader, or set GetBody")
	}
	r, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if req.ContentLength <= 0 || req.ContentLength > 1<<30 {
		body, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		return message(body, lines...), nil
	}
	size := len(lines) + int(req.ContentLength) + 1
	for _, l := range lines {
		size += len(l)
	}
	msg := make([]byte, 0, size)
	for _, l := range lines {
		msg = append(msg, l...)
		msg = append(msg, '\n')
	}
	n := len(msg)
	msg = msg[:n+int(req.ContentLength)]
	if _, err := io.ReadFull(r, msg[n:]); err != nil {
		return nil, err
	}
	return append(msg, '\n'), nil
}

const nonceAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Nonce returns 32 characters from [0-9A-Za-z] drawn from crypto/rand, the
// nonce form both APIv3 and APIv2 expect.
func Nonce() (string, error) {
	var out [32]byte
	var buf [48]byte
	n := 0
	for n < len(out) {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("middleware: reading random bytes for a nonce: %w", err)
		}
		for _, c := range buf {
			// 248 = 4*62: rejecting the rest keeps every character equally likely.
			if c < 248 && n < len(out) {
				out[n] = nonceAlphabet[c%62]
				n++
			}
		}
	}
	return string(out[:]), nil
}
