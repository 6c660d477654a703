package middleware

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wechatpay-chain/wechatpay/internal/rsakey"
)

// MaxClockSkew is how far a response timestamp may be from local time. Exactly
// 300 s passes, as in wechatpay-php.
const MaxClockSkew = 300 * time.Second

// SignTestPrefix starts the signature of the probes WeChat Pay sends to check
// that a merchant really verifies; such a response must never be accepted.
const SignTestPrefix = "WECHATPAY/SIGNTEST/"

// ErrVerification matches every failed verification of a response or a
// notification (errors.Is).
var ErrVerification = errors.New("verification failed")

// The kinds of verification failure; a *VerificationError matches exactly
// one of them and ErrVerification.
var (
	// ErrMissingHeader means there was no signature to check.
	ErrMissingHeader = errors.New("a signature header (APIv3) or sign field (APIv2) is missing")
	// ErrMalformedHeader means a timestamp or signature could not be parsed.
	ErrMalformedHeader = errors.New("a Wechatpay-* signature header is malformed")
	// ErrClockSkew means the timestamp is too far from local time: a
	// replay, or a wrong clock.
	ErrClockSkew = errors.New("the timestamp is outside the 300 s window")
	// ErrUnknownSerial means a key the verifier does not have, such as a
	// new platform certificate or public key not configured yet.
	ErrUnknownSerial = errors.New("signed with a key that is not configured")
	// ErrBadSignature means the message was altered on the way, or was
	// checked with the wrong key.
	ErrBadSignature = errors.New("the signature does not match")
	// ErrSignTest means WeChat Pay is testing that the merchant verifies.
	ErrSignTest = errors.New("a WECHATPAY/SIGNTEST/ probe signature")
)

// ErrDigestMismatch matches a download whose digest is not the expected
// one: the Sink's HashValue, or an overseas statement's signed
// Wechatpay-Statement-Sha1 (a *VerificationError of kind ErrBadSignature
// that matches this too).
var ErrDigestMismatch = errors.New("the downloaded file does not match its digest: do not use what was written")

// VerificationError is a 2xx response or a notification that failed
// verification. It keeps what arrived so the caller can log or inspect it;
// never act on it.
type VerificationError struct {
	Kind       error       // ErrMissingHeader, ErrClockSkew, ... (errors.Is works on the error itself)
	Subject    string      // "response" or "notification"
	Reason     string      // what exactly was wrong, and what to check
	Serial     string      // the Wechatpay-Serial that came with it, if any
	StatusCode int         // the response's status (0 for a notification)
	Header     http.Header // the headers as received (nil for an APIv2 notification), unverified
	Body       []byte      // the body as received, unverified

	digest bool // the signature held, the file's digest did not: ErrDigestMismatch too
}

// Error names the subject and what exactly failed.
func (e *VerificationError) Error() string {
	if e == nil {
		return ErrVerification.Error() + ": a nil *VerificationError"
	}
	return e.Subject + " " + ErrVerification.Error() + ": " + e.Reason
}

// Unwrap lets errors.Is match both ErrVerification and the kind.
func (e *VerificationError) Unwrap() []error {
	if e == nil {
		return nil
	}
	if e.digest {
		return []error{ErrVerification, e.Kind, ErrDigestMismatch}
	}
	return []error{ErrVerification, e.Kind}
}

// PublicKeys finds the WeChat Pay key a response was signed with.
type PublicKeys interface {
	// PublicKey returns the key for a platform certificate serial or a
	// WeChat Pay public key id. ctx is the request's, for sources that may
	// download a certificate they do not know yet.
	PublicKey(ctx context.Context, serial string) (*rsa.PublicKey, bool)
	// Serials lists the known serials and ids, for error messages.
	Serials() []string
}

// StaticKeys is a fixed set of verification keys by serial or id.
type StaticKeys map[string]*rsa.PublicKey

// PublicKey returns the key for serial.
func (k StaticKeys) PublicKey(_ context.Context, serial string) (*rsa.PublicKey, bool) {
	key, ok := k[serial]
	return key, ok && key != nil
}

// Serials lists the serials in sorted order.
func (k StaticKeys) Serials() []string {
	out := make([]string, 0, len(k))
	for s := range k {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// CurrentSerial is implemented by key sources that know which of their keys
// is current (a certificate manager: the newest valid certificate). A
// Builder names it in Wechatpay-Serial.
type CurrentSerial interface {
	// CurrentSerial returns the serial to name, or "" when no key is
	// current, in which case the Builder names its fixed serial.
	CurrentSerial() string
}

// MultiKeys looks a serial up in each source in turn: fixed keys together
// with a certificate manager, for one.
type MultiKeys []PublicKeys

// PublicKey returns the first source's key for serial.
func (m MultiKeys) PublicKey(ctx context.Context, serial string) (*rsa.PublicKey, bool) {
	for _, k := range m {
		if k == nil {
			continue
		}
		if key, ok := k.PublicKey(ctx, serial); ok {
			return key, true
		}
	}
	return nil, false
}

// Serials lists every source's serials, sorted.
func (m MultiKeys) Serials() []string {
	var out []string
	for _, k := range m {
		if k == nil {
			continue
		}
		out = append(out, k.Serials()...)
	}
	sort.Strings(out)
	return out
}

// Verifier is the verifier step: it checks the Wechatpay-Signature of every
// 2xx response over the raw body, except for the documented unsigned
// downloads ([Unsigned]). Other statuses pass through untouched; the Builder
// turns them into API errors.
type Verifier struct {
	// Keys are the keys answers may be signed with. Without them (a
	// Verifier{} or nil *Verifier) every check fails with ErrUnknownSerial.
	Keys PublicKeys
	// Now gives the local time; nil means time.Now.
	Now func() time.Time
}

// Step returns the verifier as the stack step named [VerifierStep], for
// answers held in memory (Response) and streamed ones (Stream) alike.
func (v *Verifier) Step() Step {
	return Step{Name: VerifierStep, Response: v.Verify, Stream: v.VerifyResponseStream}
}

// Verify checks resp, whose raw body is body, unless its status is not 2xx
// or it answers one of the unsigned downloads.
func (v *Verifier) Verify(resp *http.Response, body []byte) error {
	if resp == nil {
		return errNilResponse
	}
	ctx, ok := v.applies(resp)
	if !ok {
		return nil
	}
	if err := v.Check(ctx, resp.Header, body); err != nil {
		return asResponse(err, resp)
	}
	return nil
}

// VerifyResponseStream is Verify for an answer whose body is streamed (a
// download to a Sink): write the body to w as it arrives, then call done.
// An overseas statement (Wechatpay-Statement-Sha1) is checked as Check
// does: the signature over {"sha1":...}, then the body's SHA-1.
func (v *Verifier) VerifyResponseStream(resp *http.Response) (w io.Writer, done func() error, err error) {
	if resp == nil {
		return nil, nil, errNilResponse
	}
	ctx, ok := v.applies(resp)
	if !ok {
		return nil, nil, nil
	}
	if sha := resp.Header.Get("Wechatpay-Statement-Sha1"); sha != "" {
		p, verr := v.prepare(ctx, resp.Header, nil)
		if verr == nil {
			verr = p.verify(digestOf(statementMessage(sha), p.timestamp, p.nonce))
		}
		if verr != nil {
			return nil, nil, asResponse(verr, resp)
		}
		d := sha1.New()
		return d, func() error {
			if verr := p.checkStatement(d, sha); verr != nil {
				return asResponse(verr, resp)
			}
			return nil
		}, nil
	}
	sw, sdone, verr := v.VerifyStream(ctx, resp.Header)
	if verr != nil {
		return nil, nil, asResponse(verr, resp)
	}
	return sw, func() error {
		if verr := sdone(); verr != nil {
			return asResponse(verr, resp)
		}
		return nil
	}, nil
}

// applies reports whether resp is one the verifier checks (a 2xx answer
// to a signed endpoint), with the request's context for the key lookup.
func (v *Verifier) applies(resp *http.Response) (context.Context, bool) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, false
	}
	if resp.Request == nil {
		return context.Background(), true
	}
	if Unsigned(resp.Request.URL.EscapedPath()) {
		return nil, false
	}
	return resp.Request.Context(), true
}

// asResponse marks a verification error as a response's.
func asResponse(err *VerificationError, resp *http.Response) error {
	err.Subject, err.StatusCode = "response", resp.StatusCode
	return err
}

// VerifyNotification checks a notification (callback) from its headers and
// raw body, exactly as a response is checked. The key lookup's context is
// marked WithNotification: anyone can send one.
func (v *Verifier) VerifyNotification(ctx context.Context, header http.Header, body []byte) error {
	if err := v.Check(WithNotification(ctx), header, body); err != nil {
		err.Subject = "notification"
		return err
	}
	return nil
}

// Check verifies the Wechatpay-* headers over body in wechatpay-php's
// order: headers present, probe, clock window, serial known, signature
// valid. It returns nil or a *VerificationError whose Subject the caller
// sets.
func (v *Verifier) Check(ctx context.Context, h http.Header, body []byte) *VerificationError {
	p, err := v.prepare(ctx, h, body)
	if err != nil {
		return err
	}
	// Overseas statements sign {"sha1":"..."} instead of the file itself.
	statementSHA1 := h.Get("Wechatpay-Statement-Sha1")
	if statementSHA1 == "" {
		return p.verify(digestOf(body, p.timestamp, p.nonce))
	}
	if err := p.verify(digestOf(statementMessage(statementSHA1), p.timestamp, p.nonce)); err != nil {
		return err
	}
	d := sha1.New()
	d.Write(body)
	return p.checkStatement(d, statementSHA1)
}

// statementMessage is what an overseas statement's signature covers.
func statementMessage(sha1Hex string) []byte { return []byte(`{"sha1":"` + sha1Hex + `"}`) }

// digestOf is the SHA-256 of the message signed over body: built on the
// stack for an answer of a few KB, as most are.
func digestOf(body []byte, timestamp, nonce string) [sha256.Size]byte {
	var buf [4096]byte
	if len(timestamp)+len(nonce)+len(body)+3 > len(buf) {
		return sha256.Sum256(message(body, timestamp, nonce))
	}
	m := append(buf[:0], timestamp...)
	m = append(m, '\n')
	m = append(m, nonce...)
	m = append(m, '\n')
	m = append(m, body...)
	m = append(m, '\n')
	return sha256.Sum256(m)
}

// checkStatement compares the SHA-1 of a statement's body with the one
// its (verified) Wechatpay-Statement-Sha1 header gives.
func (p *prepared) checkStatement(d hash.Hash, want string) *VerificationError {
	sum := d.Sum(nil)
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum)), []byte(strings.ToLower(want))) != 1 {
		err := p.fail(ErrBadSignature, "the statement's SHA-1 is %x, but Wechatpay-Statement-Sha1 says %s", sum, want)
		err.digest = true
		return err
	}
	return nil
}

// VerifyStream is Check for a body too large to hold: write the body to
// the returned writer as it arrives, then call done. Whatever was done with
// the body before done returns nil must not be trusted.
func (v *Verifier) VerifyStream(ctx context.Context, h http.Header) (io.Writer, func() *VerificationError, *VerificationError) {
	p, err := v.prepare(ctx, h, nil)
	if err != nil {
		return nil, nil, err
	}
	d := sha256.New()
	io.WriteString(d, p.timestamp+"\n"+p.nonce+"\n")
	return d, func() *VerificationError {
		d.Write([]byte{'\n'})
		return p.verify([sha256.Size]byte(d.Sum(nil)))
	}, nil
}

// prepared holds what the checks before the signature found, and what an
// error keeps of the message.
type prepared struct {
	timestamp, nonce string
	serial           string
	key              *rsa.PublicKey
	sig              []byte
	header           http.Header
	body             []byte
}

// fail returns the *VerificationError of kind, keeping what arrived.
func (p *prepared) fail(kind error, format string, args ...any) *VerificationError {
	return &VerificationError{Kind: kind, Reason: fmt.Sprintf(format, args...), Serial: p.serial, Header: p.header, Body: p.body}
}

// verify checks the signature against the SHA-256 digest of the whole
// message.
func (p *prepared) verify(digest [sha256.Size]byte) *VerificationError {
	if rsa.VerifyPKCS1v15(p.key, crypto.SHA256, digest[:], p.sig) != nil {
		return p.fail(ErrBadSignature, "the signature does not match the body and headers for key %q: they were altered on the way (or the body was re-encoded before verifying), or the key configured under that serial is not the right one", p.serial)
	}
	return nil
}

// prepare runs every check that does not need the body.
func (v *Verifier) prepare(ctx context.Context, h http.Header, body []byte) (prepared, *VerificationError) {
	timestamp, nonce := h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce")
	signature, serial := h.Get("Wechatpay-Signature"), h.Get("Wechatpay-Serial")
	p := prepared{timestamp: timestamp, nonce: nonce, serial: serial, header: h, body: body}
	// Without keys nothing verifies: fail closed, saying what to set.
	switch {
	case v == nil:
		return prepared{}, p.fail(ErrUnknownSerial, "the Verifier is nil, so no verification key is configured: create it as &Verifier{Keys: ...} with the WeChat Pay public key or platform certificates")
	case v.Keys == nil:
		return prepared{}, p.fail(ErrUnknownSerial, "Verifier.Keys is nil, so no verification key is configured: set it to the WeChat Pay public key or platform certificates (StaticKeys), or a certificates.Manager")
	}

	var missing []string
	for _, name := range [...]string{"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"} {
		if h.Get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return prepared{}, p.fail(ErrMissingHeader, "no %s header; every 2xx APIv3 response and every notification is signed (unsigned downloads are listed in middleware.Unsigned)", strings.Join(missing, ", "))
	}
	if strings.HasPrefix(signature, SignTestPrefix) {
		return prepared{}, p.fail(ErrSignTest, "a WECHATPAY/SIGNTEST/ signature, WeChat Pay's probe that merchants verify what they receive; it is never valid")
	}
	if typ := h.Get("Wechatpay-Signature-Type"); typ != "" && typ != Scheme {
		return prepared{}, p.fail(ErrMalformedHeader, "Wechatpay-Signature-Type is %q; this verifier checks %s only", typ, Scheme)
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return prepared{}, p.fail(ErrMalformedHeader, "Wechatpay-Timestamp %q is not Unix seconds", timestamp)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if skew := now().Sub(time.Unix(ts, 0)); skew > MaxClockSkew || skew < -MaxClockSkew {
		direction := "older than"
		if skew < 0 {
			skew, direction = -skew, "ahead of"
		}
		return prepared{}, p.fail(ErrClockSkew, "the timestamp %d is %s %s local time, beyond the %s allowed: check this machine's clock, or it is a replay",
			ts, skew.Truncate(time.Second), direction, MaxClockSkew)
	}
	key, ok := v.Keys.PublicKey(ctx, serial)
	if !ok {
		return prepared{}, p.fail(ErrUnknownSerial, "signed with %q, which is not among the configured verification keys [%s]; configure the WeChat Pay platform certificate or WeChat Pay public key (PUB_KEY_ID_...) with that serial (the merchant's own API certificate is not a verification key)",
			serial, strings.Join(v.Keys.Serials(), ", "))
	}
	if rsakey.Weak(key) { // named only when it is: the name costs an allocation
		return prepared{}, p.fail(ErrWeakKey, "%v", rsakey.Check(rsakey.VerificationKey(serial), key))
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return prepared{}, p.fail(ErrMalformedHeader, "Wechatpay-Signature is not base64")
	}
	p.key, p.sig = key, sig
	return p, nil
}

// Unsigned reports whether WeChat Pay answers requests to path (as sent,
// with any base path such as /hk/) without a signature: bill and fapiao
// downloads, complaint images (but not their upload), e-voucher and
// sign files. It is the union of the lists the official SDKs keep.
//
// path is the escaped path, as URL.EscapedPath gives it, never the decoded
// URL.Path: a value holding "/" is sent as %2F, and decoded it could make
// a signed endpoint (v3/merchant-service/{x} with x "images/abc") look
// like an unsigned one. A complaint image id is one segment (it may hold
// %2F), and one that is "upload" once decoded, in any case, is the signed
// upload.
func Unsigned(path string) bool {
	i := strings.Index(path, "/v3/")
	if i < 0 {
		return false
	}
	switch p := path[i:]; p {
	case "/v3/billdownload/file", "/v3/new-tax-control-fapiao/download",
		"/v3/transferdownload/elecvoucherfile", "/v3/transferdownload/signfile":
		return true
	default:
		for _, prefix := range [...]string{"/v3/merchant-service/images/", "/v3/global/merchant-service/images/"} {
			if rest, ok := strings.CutPrefix(p, prefix); ok {
				// One segment (an id may hold %2F: base64), and not the
				// upload however it is written.
				dec, err := url.PathUnescape(rest)
				if err != nil {
					dec = rest
				}
				return rest != "" && !strings.Contains(rest, "/") && !strings.EqualFold(dec, "upload")
			}
		}
	}
	return false
}
