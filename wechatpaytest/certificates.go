package wechatpaytest

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wechatpay-chain/wechatpay/aesgcm"
)

// platform is one platform certificate identity.
type platform struct {
	key    *rsa.PrivateKey
	cert   *x509.Certificate
	serial string
}

// signerHint is a response header a handler sets to choose the platform
// certificate that signs its answer; it is removed before sending.
const signerHint = "Wechatpaytest-Signer"

// RotatePlatformCertificate adds a new platform certificate, as WeChat Pay
// does about a day before it starts using it: /v3/certificates lists both,
// and answers that follow the platform identity are signed with the new
// one. It returns the new serial. Key generation makes it take a moment.
// A Server that NewServer did not start has no CA to issue one: it returns
// "".
func (s *Server) RotatePlatformCertificate() string {
	if !s.running() {
		return ""
	}
	key, cert := newPlatform(s.PlatformCA, s.platformCAKey)
	return s.AddPlatformCertificate(key, cert)
}

// AddPlatformCertificate lists cert, whose private key is key, as the
// newest platform certificate: /v3/certificates lists it and is signed
// with it, and so are answers that follow the platform identity. Any
// certificate goes, so that tests can offer what a client must refuse
// (self-signed, a short key, expired; see IssuePlatformCertificate). It
// returns cert's serial; "" and nothing listed for a nil cert or key, or
// a Server that NewServer did not start.
func (s *Server) AddPlatformCertificate(key *rsa.PrivateKey, cert *x509.Certificate) string {
	if !s.running() || key == nil || cert == nil {
		return ""
	}
	p := platform{key: key, cert: cert, serial: serialOf(cert)}
	s.mu.Lock()
	s.platforms = append(s.platforms, p)
	s.mu.Unlock()
	return p.serial
}

// RemovePlatformCertificate stops listing the platform certificate serial
// and signing with it, as WeChat Pay drops a certificate it no longer
// uses. It reports whether the server listed it; the last certificate
// stays, since the server always lists one.
func (s *Server) RemovePlatformCertificate(serial string) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.platforms {
		if p.serial == serial && len(s.platforms) > 1 {
			s.platforms = append(s.platforms[:i:i], s.platforms[i+1:]...)
			return true
		}
	}
	return false
}

// PlatformCertificates returns the platform certificates the server lists,
// oldest first.
func (s *Server) PlatformCertificates() []*x509.Certificate {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*x509.Certificate, len(s.platforms))
	for i, p := range s.platforms {
		out[i] = p.cert
	}
	return out
}

// certificates answers GET /v3/certificates: every platform certificate,
// encrypted with the APIv3 key.
func (s *Server) certificates(w http.ResponseWriter, r *http.Request) {
	type encrypted struct {
		Algorithm      string `json:"algorithm"`
		Nonce          string `json:"nonce"`
		AssociatedData string `json:"associated_data"`
		Ciphertext     string `json:"ciphertext"`
	}
	type item struct {
		SerialNo           string    `json:"serial_no"`
		EffectiveTime      string    `json:"effective_time"`
		ExpireTime         string    `json:"expire_time"`
		EncryptCertificate encrypted `json:"encrypt_certificate"`
	}
	var data []item
	certs := s.PlatformCertificates()
	// Sign with the newest of the certificates listed, even if another is
	// added meanwhile: the client verifies with what it decrypts.
	w.Header().Set(signerHint, serialOf(certs[len(certs)-1]))
	for _, c := range certs {
		nonce := randomHex(6)
		pemText := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		ct, err := aesgcm.Encrypt(s.APIv3Key, nonce, "certificate", pemText)
		if err != nil {
			Error(w, http.StatusInternalServerError, "SYSTEM_ERROR", err.Error())
			return
		}
		data = append(data, item{SerialNo: serialOf(c), EffectiveTime: c.NotBefore.Format(time.RFC3339),
			ExpireTime:         c.NotAfter.Format(time.RFC3339),
			EncryptCertificate: encrypted{Algorithm: aesgcm.Algorithm, Nonce: nonce, AssociatedData: "certificate", Ciphertext: ct}})
	}
	JSON(w, http.StatusOK, map[string]any{"data": data})
}

// Notification builds an APIv3 notification as WeChat Pay sends it:
// resource (marshalled to JSON) encrypted with the APIv3 key, the whole body
// signed with the server's default identity, misbehaving as fault says
// (StaleTimestamp, SignTest, UnknownSerial, TamperedBody, Missing...).
func (s *Server) Notification(eventType string, resource any, fault Fault) (http.Header, []byte, error) {
	if !s.running() {
		return nil, nil, errNotRunning
	}
	plain, err := json.Marshal(resource)
	if err != nil {
		return nil, nil, fmt.Errorf("wechatpaytest: marshalling the resource: %w", err)
	}
	originalType := "transaction"
	if strings.HasPrefix(eventType, "REFUND.") {
		originalType = "refund"
	}
	body, err := encryptedBody(s.APIv3Key, "EV-"+randomHex(10), wxTime(time.Now()), eventType, originalType, "wechatpaytest notification", plain)
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Mozilla/4.0"}}
	key, serial := s.signingKey("")
	body = s.sign(h, body, body, key, serial, fault)
	return h, body, nil
}

// Notify sends a Notification to url, as WeChat Pay calls a merchant's
// notify_url, and returns the answer.
func (s *Server) Notify(ctx context.Context, client *http.Client, url, eventType string, resource any, fault Fault) (*http.Response, error) {
	h, body, err := s.Notification(eventType, resource, fault)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	req.Header = h
	if client == nil {
		client = http.DefaultClient
	}
	return client.Do(req)
}
