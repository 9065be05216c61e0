package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/connguard"
	"github.com/xdrproxy/xdrproxy/proxy"
)

// modernCipherSuites are the TLS 1.2 suites the proxy listeners accept:
// forward-secret AEAD only. TLS 1.3 suites are not configurable and all
// modern.
var modernCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// inboundTLS serves the proxy listeners' certificate (and, for mutual
// TLS, their client CAs) from files that are re-read when they change.
// A new certificate applies to new handshakes; open connections keep
// theirs and are never dropped.
type inboundTLS struct {
	log                  *zap.Logger
	cert, key, clientCAs *config.FileWatcher // clientCAs nil without XDRPROXY_TLS_CLIENT_CA_FILE
	current              atomic.Pointer[tls.Config]
	pair                 *tls.Certificate
	pool                 *x509.CertPool
	caPEM                []byte // the client CAs' file as applied
	lastErr              string // the refusal last logged, logged once
	unread               bool   // a change was seen but a file could not be read
	// caGeneration counts client-CA changes; a connection that was set
	// up under an older generation has its certificate checked again.
	caGeneration atomic.Int64
}

// newInboundTLS loads the files cfg names. It returns nil when cfg asks
// for plain HTTP.
func newInboundTLS(cfg *config.Config, log *zap.Logger) (*inboundTLS, error) {
	if !cfg.TLS() {
		return nil, nil
	}
	certPEM, err := os.ReadFile(cfg.TLSCertFile)
	if err != nil {
		return nil, fmt.Errorf("XDRPROXY_TLS_CERT_FILE: %w", err)
	}
	keyPEM, err := os.ReadFile(cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("XDRPROXY_TLS_KEY_FILE: %w", err)
	}
	pair, err := config.ParseTLSPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("XDRPROXY_TLS_CERT_FILE: %w", err)
	}
	t := &inboundTLS{
		log:  log,
		cert: config.NewFileWatcher(cfg.TLSCertFile, certPEM),
		key:  config.NewFileWatcher(cfg.TLSKeyFile, keyPEM),
		pair: pair,
	}
	if cfg.TLSClientCAFile != "" {
		caPEM, err := os.ReadFile(cfg.TLSClientCAFile)
		if err == nil {
			t.pool, err = config.ParseClientCAs(caPEM)
		}
		if err != nil {
			return nil, fmt.Errorf("XDRPROXY_TLS_CLIENT_CA_FILE: %w", err)
		}
		t.clientCAs = config.NewFileWatcher(cfg.TLSClientCAFile, caPEM)
		t.caPEM = caPEM
	}
	t.publish()
	t.logCertificate("serving TLS on the proxy listeners")
	return t, nil
}

// ServerConfig is the listeners' TLS configuration: each handshake uses
// the certificate and client CAs in force when it starts.
func (t *inboundTLS) ServerConfig() *tls.Config {
	base := t.current.Load().Clone()
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return t.current.Load(), nil }
	return base
}

// publish makes the loaded certificate and CAs the ones new handshakes use.
func (t *inboundTLS) publish() {
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: modernCipherSuites,
		NextProtos:   []string{"http/1.1"},
		Certificates: []tls.Certificate{*t.pair},
	}
	if t.pool != nil {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = t.pool
		// No session resumption with client certificates: every new
		// connection presents its certificate to the CAs in force, on any
		// toolchain, whatever its resumption checks.
		c.SessionTicketsDisabled = true
	}
	t.current.Store(c)
}

// poll re-reads the files and applies a change that parses; a bad or
// half-written change (a new certificate before its key) keeps the
// current configuration and is logged once.
func (t *inboundTLS) poll() (changed bool, err error) {
	certPEM, certChanged, certErr := t.cert.Check()
	keyPEM, keyChanged, keyErr := t.key.Check()
	var caPEM []byte
	var caChanged bool
	var caErr error
	if t.clientCAs != nil {
		caPEM, caChanged, caErr = t.clientCAs.Check()
	}
	dirty := t.unread || certChanged || keyChanged || caChanged
	for _, f := range []struct {
		variable string
		err      error
	}{{"XDRPROXY_TLS_CERT_FILE", certErr}, {"XDRPROXY_TLS_KEY_FILE", keyErr}, {"XDRPROXY_TLS_CLIENT_CA_FILE", caErr}} {
		if f.err != nil {
			// A change seen in another file must not be forgotten.
			t.unread = dirty
			return false, t.failed(f.variable, f.err)
		}
	}
	t.unread = false
	if !dirty {
		return false, nil
	}
	pair, err := config.ParseTLSPair(certPEM, keyPEM)
	if err != nil {
		return false, t.failed("XDRPROXY_TLS_CERT_FILE", err)
	}
	pool := t.pool
	if t.clientCAs != nil {
		if pool, err = config.ParseClientCAs(caPEM); err != nil {
			return false, t.failed("XDRPROXY_TLS_CLIENT_CA_FILE", err)
		}
	}
	// Open connections are re-checked only when the CAs themselves changed.
	caChanged = t.clientCAs != nil && !bytes.Equal(caPEM, t.caPEM)
	t.pair, t.pool, t.caPEM, t.lastErr = pair, pool, caPEM, ""
	t.publish()
	if caChanged {
		t.caGeneration.Add(1)
	}
	t.logCertificate("TLS files reloaded: new connections use them; open ones keep theirs")
	return true, nil
}

// failed logs a refused change once and returns it.
func (t *inboundTLS) failed(variable string, err error) error {
	err = fmt.Errorf("%s: %w", variable, err)
	if msg := err.Error(); msg != t.lastErr {
		t.lastErr = msg
		t.log.Warn("TLS files unusable; keeping the current certificate", zap.Error(err))
	}
	return err
}

// logCertificate logs what the listeners now present.
func (t *inboundTLS) logCertificate(msg string) {
	leaf, err := x509.ParseCertificate(t.pair.Certificate[0])
	if err != nil {
		return
	}
	names := append([]string(nil), leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	fields := []zap.Field{
		zap.String("subject", leaf.Subject.String()),
		zap.String("names", strings.Join(names, ",")),
		zap.Time("not_after", leaf.NotAfter),
		zap.Bool("client_certificates_required", t.pool != nil),
	}
	if time.Now().After(leaf.NotAfter) {
		t.log.Warn(msg+"; the certificate has EXPIRED and clients will refuse it", fields...)
		return
	}
	t.log.Info(msg, fields...)
}

// connGeneration is the context key of a connection's client-CA
// generation.
type connGeneration struct{}

// ConnContext records, for each new connection, the client CAs in force
// (http.Server.ConnContext).
func (t *inboundTLS) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	g := new(atomic.Int64)
	g.Store(t.caGeneration.Load())
	return context.WithValue(ctx, connGeneration{}, g)
}

// RecheckClientCertificates wraps a proxy listener's handler: after the
// client CAs changed, a connection opened before is served only if its
// certificate verifies against the new CAs, so that removing a CA
// revokes its clients' open connections too, not only new ones.
func (t *inboundTLS) RecheckClientCertificates(next http.Handler) http.Handler {
	if t == nil || t.clientCAs == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g, ok := r.Context().Value(connGeneration{}).(*atomic.Int64)
		if now := t.caGeneration.Load(); ok && g.Load() != now {
			if err := verifyClient(connguard.TLSState(r), t.current.Load().ClientCAs); err != nil {
				holdNoBody(w, r)
				w.Header().Set("Connection", "close")
				proxy.WriteError(w, &proxy.Error{Status: http.StatusUnauthorized, Code: proxy.CodeUnauthenticated,
					Message: "the client certificate is no longer trusted (XDRPROXY_TLS_CLIENT_CA_FILE changed); reconnect with a certificate its CAs sign"})
				return
			}
			g.Store(now)
		}
		next.ServeHTTP(w, r)
	})
}

// verifyClient checks a connection's client certificate chain as the TLS
// handshake does.
func verifyClient(cs *tls.ConnectionState, roots *x509.CertPool) error {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return errors.New("no client certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err
}
