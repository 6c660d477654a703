package wechatpaytest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wechatpay-chain/wechatpay"
)

// The fake answers for every host a Builder may pick (the default host,
// the backup api2, apihk and the catalog's other hosts, an Options.BaseURL,
// a full-URL chain): Config's HTTPClient dials it whatever the URL names,
// and in TLS mode it presents a certificate for whatever name the client
// asks for, so that a Builder made from Config never reaches the network
// and its TLS is verified as it would be against WeChat Pay.

// routedTransport is the transport of Config's HTTPClient: the Builder's
// default (wechatpay.NewTransport) with no proxy, every dial to a host that
// is not a loopback address sent to s, and the server CA trusted.
func (s *Server) routedTransport() *http.Transport {
	t := wechatpay.NewTransport()
	// A proxy from the environment would take the request elsewhere (and
	// the dial below would hand it the fake, which is no proxy).
	t.Proxy = nil
	pool := x509.NewCertPool()
	pool.AddCert(s.ServerCA)
	t.TLSClientConfig.RootCAs = pool
	addr := s.srv.Listener.Addr().String()
	dial := t.DialContext
	t.DialContext = func(ctx context.Context, network, target string) (net.Conn, error) {
		routed := routedAddr(target, addr)
		conn, err := dial(ctx, network, routed)
		if err == nil && routed != target && s.tls {
			s.dialedFor(conn.LocalAddr().String(), target)
		}
		return conn, err
	}
	if !s.tls {
		// A plain server cannot take a TLS handshake: an https URL that
		// the route sends to it travels as plain HTTP, which the
		// transport accepts from a TLS dialer that returns a conn other
		// than a *tls.Conn. A loopback https URL (another server, in TLS
		// mode) gets a real, verified handshake.
		// (That handshake presents no client certificate: mutual TLS
		// with another server wants that server's own Config.)
		config := t.TLSClientConfig
		t.DialTLSContext = func(ctx context.Context, network, target string) (net.Conn, error) {
			routed := routedAddr(target, addr)
			conn, err := dial(ctx, network, routed)
			if err != nil || routed != target {
				return conn, err
			}
			host, _, _ := net.SplitHostPort(target) // routedAddr parsed it
			c := config.Clone()
			c.ServerName = host
			tc := tls.Client(conn, c)
			if err := tc.HandshakeContext(ctx); err != nil {
				conn.Close()
				return nil, err
			}
			return tc, nil
		}
	}
	return t
}

// routedAddr is where a dial for target goes: target itself when its host
// is a loopback IP address (another fake server, a closed port for a
// failover test: neither leaves the machine), else server, the fake's own
// address. Host names, localhost included, are never resolved.
func routedAddr(target, server string) string {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return server
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return target
	}
	return server
}

// dialedFor notes that the client connection from client was dialed for
// target, when target's host is an IP address: a TLS client sends no server
// name for an address, so the server looks the address up here to present
// a certificate for it.
func (s *Server) dialedFor(client, target string) {
	host, _, err := net.SplitHostPort(target)
	if err != nil || net.ParseIP(host) == nil {
		return
	}
	s.mu.Lock()
	if s.dialed == nil {
		s.dialed = map[string]string{}
	}
	s.dialed[client] = host
	s.mu.Unlock()
}

// dialedHost returns the IP address the connection from client was dialed
// for, or "".
func (s *Server) dialedHost(client net.Addr) string {
	if client == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dialed[client.String()]
}

// forget drops what dialedFor noted of a connection that closed.
func (s *Server) forget(client net.Addr) {
	s.mu.Lock()
	delete(s.dialed, client.String())
	s.mu.Unlock()
}

// tlsConfig returns the server's TLS configuration: client certificates
// issued by Keys.CA asked for (mutual TLS), and a certificate for every
// server name.
func (s *Server) tlsConfig() *tls.Config {
	clients := x509.NewCertPool()
	clients.AddCert(s.CA)
	certs := &certificateCache{keys: &s.Keys, names: map[string]*tls.Certificate{}}
	certs.loopback = certs.issue("")
	base := &tls.Config{
		ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs:  clients,
		NextProtos: []string{"http/1.1"},
		// httptest's Client trusts the first certificate: the loopback one.
		Certificates: []tls.Certificate{*certs.loopback},
	}
	config := base.Clone()
	// GetConfigForClient, unlike GetCertificate, is asked also when the
	// client sends no server name, as for an IP address.
	config.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		name := hello.ServerName
		if name == "" && hello.Conn != nil {
			name = s.dialedHost(hello.Conn.RemoteAddr())
		}
		if name == "" {
			return nil, nil // the loopback certificate
		}
		c := base.Clone()
		c.Certificates = []tls.Certificate{*certs.get(name)}
		return c, nil
	}
	return config
}

// certificateCache holds the server certificates issued so far, by name.
type certificateCache struct {
	keys     *Keys
	loopback *tls.Certificate // for 127.0.0.1, ::1 and localhost
	mu       sync.Mutex
	names    map[string]*tls.Certificate
}

// get returns the certificate for name, issuing it on first use.
func (c *certificateCache) get(name string) *tls.Certificate {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	c.mu.Lock()
	defer c.mu.Unlock()
	if cert, ok := c.names[name]; ok {
		return cert
	}
	cert := c.issue(name)
	c.names[name] = cert
	return cert
}

// issue makes a server certificate for name, or for 127.0.0.1, ::1 and
// localhost when name is "".
func (c *certificateCache) issue(name string) *tls.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"wechatpaytest"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if name == "" {
		tmpl.Subject.CommonName = "localhost"
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	} else if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{name}
	}
	k := c.keys
	der, err := x509.CreateCertificate(rand.Reader, tmpl, k.ServerCA, k.serverKey.Public(), k.serverCAKey)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: issuing a server certificate for %q: %v", name, err))
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: parsing a server certificate: %v", err))
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k.serverKey, Leaf: leaf}
}
