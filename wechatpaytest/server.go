package wechatpaytest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wechatpay-chain/wechatpay"
)

// Identity is a key the server signs responses with.
type Identity int

const (
	// PublicKey is the WeChat Pay public key, id Keys.PublicKeyID.
	PublicKey Identity = iota
	// PlatformCertificate is the platform certificate, serial Keys.PlatformSerial.
	PlatformCertificate
)

// Fault is a way to misbehave when answering. It applies to every response
// after SetFault until SetFault(NoFault).
type Fault int

// The faults; NoFault behaves.
const (
	// NoFault answers as the handler does.
	NoFault          Fault = iota
	TamperedBody           // the body changes after signing
	MissingTimestamp       // no Wechatpay-Timestamp header
	MissingNonce           // no Wechatpay-Nonce header
	MissingSignature       // no Wechatpay-Signature header
	MissingSerial          // no Wechatpay-Serial header
	StaleTimestamp         // correctly signed, 10 minutes ago
	UnknownSerial          // signed with a key the client does not have
	SignTest               // a WECHATPAY/SIGNTEST/ probe signature
	ServerError            // 500 SYSTEM_ERROR instead of the handler's answer
	RateLimited            // 429 FREQUENCY_LIMITED with Retry-After: 1
	Accepted               // 202 with no body: accepted, not yet processed
	Slow                   // the answer waits SetDelay's time (2 s unless set)
	DropConnection         // the connection is closed once the request is read (and, for APIv3, its signature checked)
	ReturnCodeFail         // APIv2: return_code FAIL (a communication failure)
	ResultCodeFail         // APIv2: result_code FAIL, err_code SYSTEMERROR (a business failure)
	BrokenXML              // APIv2: the XML is cut off
	HTMLPage               // a 200 answer holding a gateway's HTML page
	// The answers below cost a client what it reads of them; none is
	// signed, and each applies to APIv3 and APIv2 alike.
	HugeAnswer    // a 200 answer of SetAnswerSize's bytes (64 MiB unless set), streamed
	HugeError     // a 500 answer of SetAnswerSize's bytes, starting like WeChat's error JSON
	EndlessAnswer // a 200 answer that never ends: written until the client goes away
	GzipBomb      // a 200 answer with Content-Encoding: gzip, about a thousandth of SetAnswerSize's bytes, that inflates to them
)

// Request is a request the server received, as it arrived.
type Request struct {
	Method string // GET, POST, ...
	// Host is the host the client addressed (its Host header), as chosen
	// by the Builder: "apihk.mch.weixin.qq.com" for a v3/global/ endpoint,
	// "api.mch.weixin.qq.com" by default, "127.0.0.1:port" for URL.
	Host       string
	RequestURI string      // escaped path and query exactly as sent
	Header     http.Header // as received, Authorization included
	Body       []byte      // as received, byte for byte
	// Params are an APIv2 request's parameters (XML body or query).
	Params map[string]string
	// ClientCertificate is the certificate the client presented (mutual
	// TLS, WithTLS), or nil.
	ClientCertificate *x509.Certificate
	// Upload is a multipart upload's meta and file, when it was one.
	Upload *Upload
	// ContentLength is as received: -1 for a chunked body.
	ContentLength int64
	// Rejected says why the server refused the request (bad signature,
	// missing header, ...); empty when it was accepted.
	Rejected string
}

// Server is a running fake WeChat Pay. Start it with NewServer: a Server{}
// or nil *Server is not running, and its methods do nothing, report
// nothing or return an error saying so.
type Server struct {
	// Keys are the credentials it signs and checks with, the process's
	// shared ones; embedded so that s.MchID, s.Secret, ... read directly.
	Keys
	// URL is the base URL for clients: loopback address, base path, "/".
	URL string

	basePath string // "/" or "/hk/"
	identity Identity
	tls      bool
	addr     string
	srv      *httptest.Server
	defaults *http.ServeMux

	mu         sync.Mutex
	handlers   []route // in the order Handle registered them
	handlersV2 map[string]HandlerV2
	platforms  []platform // oldest first; RotatePlatformCertificate adds one
	mux        *http.ServeMux
	requests   []Request
	fault      Fault
	faultLeft  int // answers the fault still applies to; 0 means until changed
	delay      time.Duration
	answerSize int64 // of HugeAnswer, HugeError and GzipBomb; 0 means DefaultAnswerSize
	nonces     map[string]time.Time
	conns      int // connections opened by clients
	// dialed holds, by client address, the IP address a connection from
	// Config's HTTPClient was dialed for (see dialedFor).
	dialed map[string]string
	// sim holds the Options only a Simulator reads.
	sim simSettings
}

// Option configures a Server.
type Option func(*Server)

// WithBasePath serves under a base path such as "/hk/" (WeChat Pay's Hong
// Kong wallet base URI): URL ends in it and requests elsewhere get 404.
func WithBasePath(path string) Option {
	return func(s *Server) {
		s.basePath = "/" + strings.Trim(path, "/") + "/"
		if s.basePath == "//" {
			s.basePath = "/"
		}
	}
}

// WithTLS serves over HTTPS and accepts client certificates issued by
// Keys.CA; APIv2 endpoints that need mutual TLS (every secapi/ path and the
// others WeChat Pay documents, such as red packets and deposit payments)
// then refuse requests without one. The server presents a certificate
// from Keys.ServerCA for whatever host name a client asks for
// (api.mch.weixin.qq.com, apihk.mch.weixin.qq.com, ...). Config carries an
// HTTPClient that trusts it and the merchant's TLSCertificate; Client
// trusts the server at URL. NewTLSServer(opts...) is NewServer with WithTLS.
func WithTLS() Option { return func(s *Server) { s.tls = true } }

// WithAddr listens on addr ("127.0.0.1:8080") instead of a free loopback
// port; NewServer panics if it cannot, as httptest does.
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// WithIdentity chooses the key responses are signed with when the request's
// Wechatpay-Serial names neither identity. The default is PublicKey.
func WithIdentity(id Identity) Option { return func(s *Server) { s.identity = id } }

// NewServer starts a fake WeChat Pay on a loopback port. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		Keys:       *sharedKeys(),
		basePath:   "/",
		handlersV2: map[string]HandlerV2{},
		mux:        http.NewServeMux(),
		nonces:     map[string]time.Time{},
	}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	s.platforms = []platform{{key: s.PlatformKey, cert: s.PlatformCert, serial: s.PlatformSerial}}
	s.defaults = s.defaultHandlers()
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ConnState = func(c net.Conn, state http.ConnState) {
		switch state {
		case http.StateNew:
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		case http.StateClosed, http.StateHijacked:
			s.forget(c.RemoteAddr())
		}
	}
	// Clients that hang up during a TLS handshake are not news in tests.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if s.addr != "" {
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			panic(fmt.Sprintf("wechatpaytest: listening on %s: %v", s.addr, err))
		}
		s.srv.Listener.Close()
		s.srv.Listener = l
	}
	if s.tls {
		s.srv.TLS = s.tlsConfig()
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL + s.basePath
	return s
}

// NewTLSServer starts a fake WeChat Pay over HTTPS on a loopback port, as
// httptest.NewTLSServer does for NewServer: it is NewServer(opts...) with
// WithTLS, so every Option works as there. Its certificates are issued by
// Keys.ServerCA, one for whatever host name a client asks for; Config and
// Client trust it, and mutual-TLS endpoints ask for the merchant
// certificate, which a Builder from Config presents there. Close it when
// done.
func NewTLSServer(opts ...Option) *Server {
	return NewServer(append(opts[:len(opts):len(opts)], WithTLS())...)
}

// errNotRunning is the answer of a Server that NewServer did not start (a
// nil pointer, or a Server{} literal). Its methods that cannot return an
// error do nothing and report nothing.
var errNotRunning = errors.New("wechatpaytest: the Server is not running: create it with NewServer")

// running reports whether NewServer started s.
func (s *Server) running() bool { return s != nil && s.srv != nil }

// Close shuts the server down; it does nothing for a Server that NewServer
// did not start.
func (s *Server) Close() {
	if s.running() {
		s.srv.Close()
	}
}

// Config returns a ready wechatpay.Config for a client of this server: the
// merchant's APIv3 credentials, both WeChat Pay verification keys (platform
// certificate and public key), the APIv2 secret, and an HTTPClient that
// keeps every request on this server. For a Server that NewServer did not
// start it is empty, which NewBuilder refuses.
//
// The HTTPClient's transport is wechatpay.NewTransport() (the Builder's
// default) without a proxy, that dials this server whatever host a request
// names: the default host, api2, apihk and the catalog's other hosts, an
// Options.BaseURL, a full-URL chain. Host names are never resolved; only a
// loopback IP address (another fake server, a closed port for a failover
// test) is dialed as it is, so nothing leaves the machine. In TLS mode it
// trusts Keys.ServerCA, from which the server presents a certificate for
// whatever name is asked, verified as WeChat Pay's would be; without TLS an
// https URL reaches the server as plain HTTP. Each recorded Request has the
// Host it was sent to. Replace the HTTPClient and that guard goes with it:
// wrap its Transport instead, or, in TLS mode (mutual TLS needs an
// *http.Transport), change the fields of a Clone of it.
//
// At the root (no WithBasePath) Config sets no BaseURL, so each request goes
// to the host the Builder picks (v3/global/ endpoints to apihk) and
// Request.Host shows it. Under a base path it sets BaseURL to URL, the only
// way the Builder sends every request under it; that base is not a WeChat
// Pay host, so it replaces the catalog's hosts (see the wechatpay README's
// "Base URL"). In TLS mode Config also carries the merchant's
// TLSCertificate, which the Builder presents on mutual-TLS endpoints.
func (s *Server) Config() wechatpay.Config {
	if !s.running() {
		return wechatpay.Config{}
	}
	cfg := wechatpay.Config{
		MchID:      s.MchID,
		Serial:     s.MerchantSerial,
		PrivateKey: s.MerchantKey,
		Certs: map[string]*rsa.PublicKey{
			s.PlatformSerial: &s.PlatformKey.PublicKey,
			s.PublicKeyID:    &s.PublicKeyKey.PublicKey,
		},
		Secret:     s.Secret,
		HTTPClient: &http.Client{Transport: s.routedTransport()},
	}
	if s.basePath != "/" {
		cfg.BaseURL = s.URL
	}
	if s.tls {
		cfg.TLSCertificate = &tls.Certificate{Certificate: [][]byte{s.MerchantCert.Raw}, PrivateKey: s.MerchantKey, Leaf: s.MerchantCert}
	}
	return cfg
}

// Client returns an HTTP client for raw requests to this server at URL, as
// httptest.Server.Client does: over TLS it trusts the server's
// certificate for the loopback address. Unlike Config's HTTPClient it
// dials the hosts URLs name: requests to other hosts go where they say. It presents no client certificate (a Builder from Config
// does, on mutual-TLS endpoints) and signs nothing. Close closes its idle
// connections. It is nil for a Server that NewServer did not start.
func (s *Server) Client() *http.Client {
	if !s.running() {
		return nil
	}
	return s.srv.Client()
}

// Handle registers h for a Go ServeMux pattern relative to the base path,
// such as "POST /v3/pay/transactions/native" or
// "GET /v3/pay/transactions/id/{transaction_id}" (r.PathValue works). It
// replaces an earlier handler for the same pattern, or for one that
// conflicts with it (the same route under other placeholder names, or one
// http.ServeMux cannot rank), and takes precedence over the built-in ones. Whatever h writes is signed before it is sent. An
// invalid pattern panics, as in http.ServeMux.Handle; a Server that
// NewServer did not start has nothing to serve with and ignores h.
//
// An APIv3 request that no handler serves is answered 404
// RESOURCE_NOT_EXISTS; where WeChat Pay does not document its method and
// path, the message first says so, as the client's errors do ("not a
// documented endpoint; did you mean POST v3/pay/transactions/native?", or
// "... is documented as POST, not GET").
func (s *Server) Handle(pattern string, h http.HandlerFunc) {
	if !s.running() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	newest := route{key: routeKey(pattern), pattern: pattern, h: h}
	mux := http.NewServeMux()
	mux.Handle(newest.pattern, newest.h) // an invalid pattern panics here, nothing changed
	// Then the earlier ones, newest first: one that conflicts with a later
	// pattern (the same route under other placeholder names, or one
	// ServeMux cannot rank) is replaced by it instead of making ServeMux
	// panic.
	kept := []route{newest}
	for i := len(s.handlers) - 1; i >= 0; i-- {
		if r := s.handlers[i]; r.key != newest.key && registered(mux, r) {
			kept = append(kept, r)
		}
	}
	slices.Reverse(kept)
	s.handlers, s.mux = kept, mux
}

// route is a pattern Handle registered.
type route struct {
	key, pattern string
	h            http.Handler
}

// routeKey is pattern with its placeholders' names erased: two patterns
// with the same key are the same route.
func routeKey(pattern string) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '{' {
			if j := strings.IndexByte(pattern[i:], '}'); j > 0 {
				b.WriteString("{}")
				i += j
				continue
			}
		}
		b.WriteByte(pattern[i])
	}
	return b.String()
}

// registered adds r to mux and reports whether ServeMux took it: it
// refuses (panics on) a pattern that conflicts with one it holds.
func registered(mux *http.ServeMux, r route) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	mux.Handle(r.pattern, r.h)
	return true
}

// SetFault makes every later response misbehave in the given way.
func (s *Server) SetFault(f Fault) { s.SetFaultN(f, 0) }

// SetFaultN makes the next n responses misbehave, then behave again (n 0:
// until changed), to test retries and failover.
func (s *Server) SetFaultN(f Fault, n int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.fault, s.faultLeft = f, n
	s.mu.Unlock()
}

// SetDelay sets how long a Slow answer waits.
func (s *Server) SetDelay(d time.Duration) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// takeFault returns the fault for this answer and counts it.
func (s *Server) takeFault() (Fault, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fault
	if s.faultLeft > 0 {
		if s.faultLeft--; s.faultLeft == 0 {
			s.fault = NoFault
		}
	}
	delay := s.delay
	if delay == 0 {
		delay = 2 * time.Second
	}
	return f, delay
}

// Connections returns how many connections clients have opened so far, to
// test that connections are reused, or closed when idle.
func (s *Server) Connections() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// LastRequest returns the newest request received.
func (s *Server) LastRequest() (Request, bool) {
	if s == nil {
		return Request{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}, false
	}
	return s.requests[len(s.requests)-1], true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fault, delay := s.takeFault()
	// APIv3 paths hold a v3 segment (v3/..., hk/v3/...); anything else under
	// the base path is APIv2.
	rest, inBase := strings.CutPrefix(r.URL.Path, s.basePath)
	v3 := !inBase || strings.Contains("/"+rest, "/v3/")
	switch fault {
	case DropConnection:
		// The request is checked as if it were processed, so that a test
		// can tell that what it sent was valid (and its nonce is spent).
		entry := received(r, body)
		entry.Rejected = "dropped (DropConnection)"
		if v3 {
			if rejected, _ := s.check(r, body); rejected != nil {
				entry.Rejected = rejected.issue + "; then dropped (DropConnection)"
			}
		}
		s.record(entry)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	case HugeAnswer, HugeError, EndlessAnswer, GzipBomb:
		entry := received(r, body)
		if v3 {
			if rejected, _ := s.check(r, body); rejected != nil {
				entry.Rejected = rejected.issue + "; answered anyway"
			}
		}
		s.record(entry)
		s.writeCostly(w, r, fault)
		return
	case Slow:
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if !v3 {
		s.serveV2(w, r, body, "/"+rest, fault)
		return
	}
	entry := received(r, body)
	rec := httptest.NewRecorder()
	rejected, upload := s.check(r, body)
	entry.Upload = upload
	r.Body = io.NopCloser(bytes.NewReader(body))
	switch {
	case rejected != nil:
		entry.Rejected = rejected.issue
		rejected.write(rec)
	case fault == ServerError:
		Error(rec, http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
	case fault == RateLimited:
		rec.Header().Set("Retry-After", "1")
		Error(rec, http.StatusTooManyRequests, "FREQUENCY_LIMITED", "请求频率超限")
	case fault == Accepted:
		rec.WriteHeader(http.StatusAccepted)
	case unsignedV3(r.URL.Path) && fault == NoFault:
		// Unsigned downloads stream straight through: a large file is
		// never held in memory.
		s.record(entry)
		w.Header().Set("Request-ID", "08"+strings.ToUpper(randomHex(16)))
		s.dispatch(w, r)
		return
	default:
		s.dispatch(rec, r)
	}
	s.record(entry)
	s.reply(w, r, rec, fault)
}

// received is the record of r as it arrived.
func received(r *http.Request, body []byte) Request {
	entry := Request{Method: r.Method, Host: r.Host, RequestURI: r.RequestURI, Header: r.Header.Clone(), Body: body, ContentLength: r.ContentLength}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		entry.ClientCertificate = r.TLS.VerifiedChains[0][0]
	}
	return entry
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// dispatch runs the user's handler, else a built-in one, else answers 404
// as WeChat does.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if m, r2 := s.userHandler(r); m != nil {
		m.ServeHTTP(w, r2)
		return
	}
	rel := ""
	if r2 := s.stripBase(r); r2 != nil {
		if _, pattern := s.defaults.Handler(r2); pattern != "" {
			s.defaults.ServeHTTP(w, r2)
			return
		}
		rel = r2.URL.Path
	}
	notFound(w, r, rel)
}

// userHandler returns the mux holding a Handle pattern for r and r with the
// base path stripped, or nil. Call the mux's ServeHTTP, not the handler
// Handler returns: only ServeHTTP sets the request's path values.
func (s *Server) userHandler(r *http.Request) (*http.ServeMux, *http.Request) {
	r2 := s.stripBase(r)
	if r2 == nil {
		return nil, nil
	}
	s.mu.Lock()
	mux := s.mux
	s.mu.Unlock()
	if _, pattern := mux.Handler(r2); pattern == "" {
		return nil, nil
	}
	return mux, r2
}

// stripBase returns a shallow copy of r without the base path, or nil when
// r is outside it.
func (s *Server) stripBase(r *http.Request) *http.Request {
	rest, ok := strings.CutPrefix(r.URL.Path, s.basePath)
	if !ok {
		return nil
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path = "/" + rest
	if raw, ok := strings.CutPrefix(r.URL.RawPath, s.basePath); ok {
		u.RawPath = "/" + raw
	} else {
		u.RawPath = ""
	}
	r2.URL = &u
	return r2
}

// notFound answers 404 for r, whose path relative to the base path is rel
// ("" when r is outside the base path): first what WeChat Pay documents when
// it does not document r's method and path, then how to serve it.
func notFound(w http.ResponseWriter, r *http.Request, rel string) {
	msg := fmt.Sprintf("no handler for %s %s on the fake server: register one with Server.Handle", r.Method, r.URL.Path)
	if rel != "" {
		if hint := undocumented(r.Method, rel); hint != "" {
			msg = hint + "; " + msg
		}
	}
	Error(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", msg)
}

// rejection is a request the server refuses, as WeChat would.
type rejection struct {
	status  int
	code    string
	message string
	issue   string
	sign    map[string]any // WeChat's sign_information, for SIGN_ERROR
}

func (e *rejection) write(w http.ResponseWriter) {
	detail := map[string]any{"issue": e.issue}
	if e.sign != nil {
		detail = map[string]any{"detail": map[string]any{"issue": e.issue}, "field": "signature",
			"location": "authorization", "sign_information": e.sign}
	}
	JSON(w, e.status, map[string]any{"code": e.code, "message": e.message, "detail": detail})
}

// check verifies a request the way WeChat Pay does; nil means accepted.
// A multipart upload's signature covers its meta JSON only, and its file
// must have the meta's sha256.
func (s *Server) check(r *http.Request, body []byte) (*rejection, *Upload) {
	if r.Header.Get("Accept") == "" || r.Header.Get("User-Agent") == "" {
		return &rejection{status: 400, code: "INVALID_REQUEST", message: "Http头缺少Accept或User-Agent", issue: "missing Accept or User-Agent header"}, nil
	}
	var upload *Upload
	if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		var err error
		if upload, err = parseUpload(body, params["boundary"]); err != nil {
			return &rejection{status: 400, code: "PARAM_ERROR", message: "上传文件格式错误", issue: err.Error()}, nil
		}
		body = upload.Meta
	}
	rej := s.checkSignature(r, body)
	if rej == nil && upload != nil {
		rej = upload.check()
	}
	return rej, upload
}

// checkSignature checks the Authorization header over body.
func (s *Server) checkSignature(r *http.Request, body []byte) *rejection {
	message := r.Method + "\n" + r.RequestURI + "\n"
	signErr := func(issue string) *rejection {
		return &rejection{status: 401, code: "SIGN_ERROR", message: "签名错误", issue: issue, sign: map[string]any{
			"method": r.Method, "url": r.RequestURI, "sign_message_length": len(message),
			"truncated_sign_message": message,
		}}
	}
	auth := r.Header.Get("Authorization")
	params, ok := strings.CutPrefix(auth, "WECHATPAY2-SHA256-RSA2048 ")
	if !ok {
		return signErr("the Authorization header does not start with WECHATPAY2-SHA256-RSA2048")
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(params, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return signErr(fmt.Sprintf("malformed Authorization field %q", kv))
		}
		fields[k] = v[1 : len(v)-1]
	}
	for _, k := range []string{"mchid", "serial_no", "timestamp", "nonce_str", "signature"} {
		if fields[k] == "" {
			return signErr("the Authorization header has no " + k)
		}
	}
	if fields["mchid"] != s.MchID {
		return signErr(fmt.Sprintf("mchid %s is not the merchant %s", fields["mchid"], s.MchID))
	}
	if fields["serial_no"] != s.MerchantSerial {
		return signErr(fmt.Sprintf("serial_no %s is not the serial of the merchant API certificate", fields["serial_no"]))
	}
	ts, err := strconv.ParseInt(fields["timestamp"], 10, 64)
	now := time.Now()
	if err != nil || len(fields["timestamp"]) != 10 {
		return signErr("timestamp is not 10-digit Unix seconds")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return signErr(fmt.Sprintf("timestamp %d is %s away from the server clock", ts, d.Truncate(time.Second)))
	}
	nonce := fields["nonce_str"]
	if len(nonce) != 32 || strings.Trim(nonce, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
		return signErr("nonce_str is not 32 characters of [0-9A-Za-z]")
	}
	message += fields["timestamp"] + "\n" + nonce + "\n" + string(body) + "\n"
	sig, err := base64.StdEncoding.DecodeString(fields["signature"])
	if err != nil {
		return signErr("signature is not base64")
	}
	digest := sha256.Sum256([]byte(message))
	if rsa.VerifyPKCS1v15(&s.MerchantKey.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		return signErr("sign not match")
	}
	s.mu.Lock()
	_, replayed := s.nonces[nonce]
	if !replayed {
		if len(s.nonces) > 10000 {
			for n, t := range s.nonces {
				if now.Sub(t) > 5*time.Minute {
					delete(s.nonces, n)
				}
			}
		}
		s.nonces[nonce] = now
	}
	s.mu.Unlock()
	if replayed {
		return signErr("nonce_str " + nonce + " was already used: a replayed request")
	}
	if ct := r.Header.Get("Content-Type"); len(body) > 0 && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "multipart/form-data") {
		return &rejection{status: 400, code: "INVALID_REQUEST", message: "Content-Type 须为 application/json",
			issue: fmt.Sprintf("Content-Type is %q, expected application/json", r.Header.Get("Content-Type"))}
	}
	return nil
}

// reply signs what the handler wrote and sends it, misbehaving as told.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, rec *httptest.ResponseRecorder, fault Fault) {
	if fault == HTMLPage {
		writeHTMLPage(w)
		return
	}
	// Result has the headers as they were when the handler sent them, as
	// net/http would have sent them.
	res := rec.Result()
	body := rec.Body.Bytes()
	h := w.Header()
	for k, v := range res.Header {
		h[k] = v
	}
	h.Set("Request-ID", "08"+strings.ToUpper(randomHex(16)))
	hint := h.Get(signerHint)
	h.Del(signerHint)
	if !unsignedV3(r.URL.Path) {
		requested := r.Header.Get("Wechatpay-Serial")
		if hint != "" {
			// The certificate download is signed with a certificate it
			// lists, so that a client can verify it with what it decrypted.
			requested = hint
		}
		key, serial := s.signingKey(requested)
		signed := body
		// Overseas statements: WeChat signs {"sha1":...} and sends the file.
		if sha1 := res.Header.Get("Wechatpay-Statement-Sha1"); sha1 != "" {
			signed = []byte(`{"sha1":"` + sha1 + `"}`)
		}
		body = s.sign(h, body, signed, key, serial, fault)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(body)
}

// signingKey picks the identity that signs: the one the request names in
// Wechatpay-Serial, else the server's default (for platform certificates,
// the newest).
func (s *Server) signingKey(requested string) (*rsa.PrivateKey, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	newest := s.platforms[len(s.platforms)-1]
	if requested == s.PublicKeyID {
		return s.PublicKeyKey, s.PublicKeyID
	}
	for _, p := range s.platforms {
		if p.serial == requested {
			return p.key, p.serial
		}
	}
	if s.identity == PlatformCertificate {
		return newest.key, newest.serial
	}
	return s.PublicKeyKey, s.PublicKeyID
}

// sign sets the Wechatpay-* headers for signed (usually the body itself)
// with key, misbehaving as fault says, and returns the body to send.
func (s *Server) sign(h http.Header, body, signed []byte, key *rsa.PrivateKey, serial string, fault Fault) []byte {
	ts := time.Now()
	switch fault {
	case StaleTimestamp:
		ts = ts.Add(-10 * time.Minute)
	case UnknownSerial:
		key, serial = s.stranger, s.strangerSerial
	}
	timestamp := strconv.FormatInt(ts.Unix(), 10)
	nonce := randomHex(16)
	digest := sha256.Sum256([]byte(timestamp + "\n" + nonce + "\n" + string(signed) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: signing: %v", err)) // only a broken key can fail
	}
	signature := base64.StdEncoding.EncodeToString(sig)
	if fault == SignTest {
		signature = "WECHATPAY/SIGNTEST/" + signature
	}
	h.Set("Wechatpay-Timestamp", timestamp)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", signature)
	h.Set("Wechatpay-Serial", serial)
	h.Set("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
	switch fault {
	case TamperedBody:
		body = append(append([]byte(nil), body...), ' ')
	case MissingTimestamp:
		h.Del("Wechatpay-Timestamp")
	case MissingNonce:
		h.Del("Wechatpay-Nonce")
	case MissingSignature:
		h.Del("Wechatpay-Signature")
	case MissingSerial:
		h.Del("Wechatpay-Serial")
	}
	return body
}

// JSON writes v as a JSON response with the given status; 0 means 200,
// as for a handler that never calls WriteHeader.
func JSON(w http.ResponseWriter, status int, v any) {
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error writes WeChat Pay's error JSON: {"code":...,"message":...}.
func Error(w http.ResponseWriter, status int, code, message string) {
	JSON(w, status, map[string]string{"code": code, "message": message})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// query returns r's query, tolerating a malformed one.
func query(r *http.Request) url.Values {
	q, _ := url.ParseQuery(r.URL.RawQuery)
	return q
}
