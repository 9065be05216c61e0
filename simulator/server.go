// Package simulator is a fake Microsoft Entra ID, a fake Microsoft
// Defender XDR API and a fake Microsoft Graph security API, served over
// HTTPS on loopback with a certificate authority it generates. It is
// faithful enough for MSAL Go and real API clients to use unchanged:
// per-tenant OpenID discovery, the v2.0 and v1 client-credentials token
// endpoints with client secrets, certificate assertions and federated
// (workload identity) assertions, admin consent, JWKS, RS256 access
// tokens, Entra ID's AADSTS error bodies, the Defender incidents, alerts
// and advanced-hunting APIs with their own error shape, and Graph's
// security/incidents, security/alerts_v2, security/runHuntingQuery and
// users/delta with Graph's. Lists page with absolute @odata.nextLink (and
// @odata.deltaLink) URLs on the simulator's own origin, as Microsoft's do.
// Tests script tenants, consent, roles, credentials, token lifetime and
// faults through the Server's fields and methods, and ask it whether a
// credential it did not issue ever reached its APIs (ForeignCredentials).
package simulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server is the simulator. Its zero value is ready to use, with the demo
// tenants; set fields before the first request, then use the methods to
// change tenants and inspect traffic while it runs.
type Server struct {
	// ClientID is the registered application. Empty means DefaultClientID.
	ClientID string
	// ClientSecret is the application's secret. Empty means DefaultClientSecret.
	ClientSecret string
	// Tenants are the directories that exist. Nil means the demo tenants
	// (Contoso and Fabrikam consented, one unconsented).
	Tenants []Tenant
	// TokenLifetime is the lifetime of issued tokens. Zero means 3599s, as
	// Entra ID issues.
	TokenLifetime time.Duration
	// Now is the simulator's clock. Nil means time.Now.
	Now func() time.Time
	// ClientCertificate is the certificate registered on the application.
	// A client assertion that names it (x5t, x5t#S256 or x5c) and is
	// signed by its key authenticates the application. Nil means no
	// certificate is registered.
	ClientCertificate *x509.Certificate
	// FederatedCredentials are the application's federated identity
	// credentials. A client assertion whose issuer, subject and audience
	// match one of them and that its Key signed authenticates the
	// application. Nil means none.
	FederatedCredentials []FederatedCredential
	// BeforeToken, if set, runs before each token request is handled and
	// may answer it itself (a fault, a delay) by returning true. It runs
	// before faults set with FailTokens.
	BeforeToken func(w http.ResponseWriter, r *http.Request, tenantID string) (handled bool)
	// BeforeAPI, if set, runs before each API request is handled and may
	// answer it itself by returning true.
	BeforeAPI func(w http.ResponseWriter, r *http.Request) (handled bool)

	initOnce sync.Once
	initErr  error
	pki      *pki
	mux      *http.ServeMux

	mu            sync.Mutex
	tenants       map[string]*Tenant
	tokenRequests map[string]int
	tokenFaults   map[string]*tokenFault
	apiRequests   []APIRequest
	foreign       []ForeignCredential
	foreignTotal  int

	srv *http.Server
	url string
}

// APIRequest records what the API side received, for tests.
type APIRequest struct {
	// Method, Path and RawQuery are the request's.
	Method, Path, RawQuery string
	// Host is the Host header the API saw.
	Host string
	// Header is a copy of the request's headers.
	Header http.Header
	// TenantID is the verified token's tid claim, empty if it did not verify.
	TenantID string
	// Body holds up to the first 64 KiB of the request body.
	Body []byte
}

func (s *Server) init() error {
	s.initOnce.Do(func() {
		s.pki, s.initErr = newPKI()
		s.tenants = map[string]*Tenant{}
		s.tokenRequests = map[string]int{}
		tenants := s.Tenants
		if tenants == nil {
			tenants = DemoTenants()
		}
		for _, t := range tenants {
			s.putTenant(t)
		}
		mux := http.NewServeMux()
		s.routeEntra(mux)
		s.routeAPI(mux)
		s.routeBench(mux)
		s.routeGraph(mux)
		mux.HandleFunc("/", s.unknownPath)
		s.mux = mux
	})
	return s.initErr
}

// TokenRequests returns how many token requests named the tenant.
func (s *Server) TokenRequests(tenantID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRequests[strings.ToLower(tenantID)]
}

// TotalTokenRequests returns how many token requests arrived in all.
func (s *Server) TotalTokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.tokenRequests {
		n += c
	}
	return n
}

// APIRequests returns the API requests received so far, oldest first (at
// most the last 10,000).
func (s *Server) APIRequests() []APIRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]APIRequest(nil), s.apiRequests...)
}

func (s *Server) recordAPIRequest(r APIRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.apiRequests) >= 10000 {
		s.apiRequests = s.apiRequests[1:]
	}
	s.apiRequests = append(s.apiRequests, r)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) clientID() string {
	if s.ClientID != "" {
		return s.ClientID
	}
	return DefaultClientID
}

func (s *Server) clientSecret() string {
	if s.ClientSecret != "" {
		return s.ClientSecret
	}
	return DefaultClientSecret
}

func (s *Server) tokenLifetime() time.Duration {
	if s.TokenLifetime > 0 {
		return s.TokenLifetime
	}
	return 3599 * time.Second
}

// ServeHTTP serves Entra ID and the APIs on one mux: Entra ID's paths
// start with a tenant, the Defender API's with /api/ and Graph's with
// /v1.0/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.init(); err != nil {
		http.Error(w, "simulator failed to start: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// unknownPath fails loudly, so a test that calls something the simulator
// does not model finds out at once.
func (s *Server) unknownPath(w http.ResponseWriter, r *http.Request) {
	if isAPIPath(r.URL.Path) {
		s.noteForeignCredential(r)
	}
	writeAPIError(w, http.StatusNotFound, "ResourceNotFound",
		fmt.Sprintf("xdrsim does not simulate %s %s", r.Method, r.URL.Path))
}

// baseURL is the simulator's own origin as the client reached it.
func baseURL(r *http.Request) string {
	return "https://" + r.Host
}

// writeJSON writes v as the JSON body of an answer that no cache may keep.
// Like Microsoft's services it leaves &, < and > as they are: Go's default
// \u0026 would be valid JSON, but the links would not read as Microsoft's.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// TLSConfig returns the server-side TLS configuration, with a certificate
// for localhost, 127.0.0.1 and ::1 issued by the simulator's CA.
func (s *Server) TLSConfig() (*tls.Config, error) {
	if err := s.init(); err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{s.pki.serverCert},
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// CACertPEM returns the simulator's CA certificate in PEM form, for clients
// that must trust it (curl --cacert, SSL_CERT_FILE).
func (s *Server) CACertPEM() ([]byte, error) {
	if err := s.init(); err != nil {
		return nil, err
	}
	return append([]byte(nil), s.pki.caPEM...), nil
}

// CertPool returns a pool holding the simulator's CA.
func (s *Server) CertPool() (*x509.CertPool, error) {
	if err := s.init(); err != nil {
		return nil, err
	}
	return s.pki.caPool, nil
}

// Start serves the simulator over TLS on addr (such as "127.0.0.1:0") until
// Close. It returns once the listener is open.
func (s *Server) Start(addr string) error {
	cfg, err := s.TLSConfig()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("simulator: listening on %s: %w", addr, err)
	}
	s.srv = &http.Server{
		Handler:           s,
		TLSConfig:         cfg,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // clients hanging up mid-handshake are not news
	}
	s.url = "https://" + ln.Addr().String()
	// Nothing to report a failed Serve to: it shows up as refused
	// connections in the caller.
	go func() { _ = s.srv.ServeTLS(ln, "", "") }()
	return nil
}

// URL returns the base URL of a started simulator, such as
// https://127.0.0.1:43123. It serves both Entra ID and the API.
func (s *Server) URL() string { return s.url }

// Close stops a started simulator, closing open connections.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

var _ http.Handler = (*Server)(nil)
