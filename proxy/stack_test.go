package proxy_test

import (
	"bytes"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/proxy"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
	"github.com/xdrproxy/xdrproxy/simulator"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

const scope = "https://api.security.microsoft.com/.default"

// stack is the whole product on loopback: the simulator as Entra ID (and,
// unless a backend replaces it, as the API), real MSAL Go, the token cache
// and the proxy behind a real http.Server.
type stack struct {
	sim      *simulator.Server
	cache    *tokencache.Cache
	proxyURL string
	logs     *testutil.SyncBuffer
	client   *http.Client
	handler  *proxy.Handler
	// signer mints the placeholders, with token emulation on.
	signer *placeholder.Signer
	// pinnedURL holds the URL of each tenant listener, by tenant.
	pinnedURL map[string]string
}

type stackOptions struct {
	// upstream replaces the simulator's API; roots are the CAs it needs.
	upstream *url.URL
	roots    *x509.CertPool
	// secret is the client secret the proxy uses; empty means the right one.
	secret string
	// defaultTenant names the default tenant, by alias or GUID.
	defaultTenant string
	// responseHeaderTimeout is the transport's; zero means 30s.
	responseHeaderTimeout time.Duration
	// sim, if set, is used instead of a zero simulator.
	sim *simulator.Server
	// tlsHandshakeTimeout, if set, replaces the transport's.
	tlsHandshakeTimeout time.Duration
	// routes are passed to the proxy as they are.
	routes []config.Route
	// routesFor, if set, gives routes that need the simulator's URL.
	routesFor func(simURL string) []config.Route
	// clientKeys, if set, are required of clients.
	clientKeys *config.ClientKeys
	// discardLogs sends the logs nowhere (memory measurements).
	discardLogs bool
	// authority, if set, replaces the simulator as Entra ID's host.
	authority *url.URL
	// rateLimits and queueTimeout are passed to the proxy as they are.
	rateLimits   []config.RateLimit
	queueTimeout time.Duration
	// emulation turns token emulation on, with a new key.
	emulation bool
	// now, if set, is the proxy's clock (and its placeholders').
	now func() time.Time
	// pins are tenants (alias or GUID) to give a tenant listener each.
	pins []string
	// publicURL is passed to the proxy as it is.
	publicURL *url.URL
	// maxUpstream and bodyIdle are passed to the proxy as they are.
	maxUpstream int
	bodyIdle    time.Duration
	// tenants, if set, replace testTenants; tenantsSource is passed to
	// the proxy as it is.
	tenants       []config.Tenant
	tenantsSource string
	// metrics, if set, count the proxy's requests.
	metrics *proxy.Metrics
}

var testTenants = []config.Tenant{
	{ID: simulator.ContosoTenantID, Alias: "contoso"},
	{ID: simulator.FabrikamTenantID, Alias: "fabrikam"},
	{ID: simulator.UnconsentedTenantID, Alias: "northwind"},
}

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	sim := testutil.StartSimulator(t, o.sim)
	entra := testutil.SimulatorTransport(t, sim)
	simRoots := entra.TLSClientConfig.RootCAs
	simURL := testutil.ParseURL(t, sim.URL())
	secret := o.secret
	if secret == "" {
		secret = simulator.DefaultClientSecret
	}
	authority := simURL
	if o.authority != nil {
		authority = o.authority
	}
	src, err := tokencache.NewMSALSource(tokencache.MSALOptions{
		AuthorityHost: authority,
		ClientID:      simulator.DefaultClientID,
		Credential:    config.Credential{Kind: config.ClientSecret, Secret: config.Secret(secret)},
		HTTPClient:    &http.Client{Transport: entra},
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	var sink io.Writer = logs
	if o.discardLogs {
		sink = io.Discard
	}
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(sink), zap.DebugLevel))
	cache := tokencache.New(src, tokencache.Options{Logger: logger.Named("token"), SweepInterval: -1})
	t.Cleanup(cache.Close)

	tenantList := testTenants
	if o.tenants != nil {
		tenantList = o.tenants
	}
	tenants, err := config.NewTenantSet(tenantList)
	if err != nil {
		t.Fatal(err)
	}
	var def config.Tenant
	if o.defaultTenant != "" {
		var ok bool
		if def, ok = tenants.Lookup(o.defaultTenant); !ok {
			t.Fatalf("default tenant %q is not a test tenant", o.defaultTenant)
		}
	}
	upstream, roots := simURL, simRoots
	if o.upstream != nil {
		upstream, roots = o.upstream, o.roots
	}
	rht := o.responseHeaderTimeout
	if rht == 0 {
		rht = 30 * time.Second
	}
	routes := o.routes
	if o.routesFor != nil {
		routes = o.routesFor(sim.URL())
		// The routes point at the simulator: trust its CA as well.
		if roots != simRoots {
			pool := roots.Clone()
			pool.AppendCertsFromPEM(mustPEM(t, sim))
			roots = pool
		}
	}
	transport := proxy.NewTransport(rht, roots)
	if o.tlsHandshakeTimeout > 0 {
		transport.TLSHandshakeTimeout = o.tlsHandshakeTimeout
	}
	t.Cleanup(transport.CloseIdleConnections)
	var signer *placeholder.Signer
	if o.emulation {
		if signer, err = placeholder.NewSigner(nil, o.now); err != nil {
			t.Fatal(err)
		}
	}
	h, err := proxy.New(proxy.Options{
		Placeholders:         signer,
		Now:                  o.now,
		Upstream:             upstream,
		Scope:                scope,
		Tenants:              tenants,
		TenantsSource:        o.tenantsSource,
		AuthorityHost:        authority,
		DefaultTenant:        def,
		Routes:               routes,
		ClientKeys:           o.clientKeys,
		RateLimits:           o.rateLimits,
		QueueTimeout:         o.queueTimeout,
		Tokens:               cache,
		Transport:            transport,
		Logger:               logger.Named("access"),
		ConsentURL:           func(id string) string { return tokencache.AdminConsentURL(simURL, simulator.DefaultClientID, id) },
		UpstreamTimeout:      rht,
		PublicURL:            o.publicURL,
		MaxUpstreamPerTenant: o.maxUpstream,
		BodyIdleTimeout:      o.bodyIdle,
		Metrics:              o.metrics,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	pinned := map[string]string{}
	for _, name := range o.pins {
		ps := httptest.NewServer(h.ForTenant(name))
		t.Cleanup(ps.Close)
		pinned[name] = ps.URL
	}
	clientTransport := &http.Transport{MaxIdleConnsPerHost: 256}
	t.Cleanup(clientTransport.CloseIdleConnections)
	return &stack{sim: sim, cache: cache, proxyURL: srv.URL, logs: logs, client: &http.Client{Transport: clientTransport}, handler: h, signer: signer, pinnedURL: pinned}
}

// backendRequest is what a test backend received.
type backendRequest struct {
	Method, Path, RawPath, RawQuery, Host string
	Header                                http.Header
	Body                                  []byte
}

// recordingBackend is an HTTPS upstream that records what reaches it and
// answers with respond (200 "ok" when nil).
type recordingBackend struct {
	mu       sync.Mutex
	requests []backendRequest
	respond  func(w http.ResponseWriter, r *http.Request)
	server   *httptest.Server
}

func newBackend(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *recordingBackend {
	t.Helper()
	b := &recordingBackend{respond: respond}
	b.server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := backendRequest{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery, Host: r.Host, Header: r.Header.Clone()}
		if b.respond == nil {
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(r.Body)
			rec.Body = buf.Bytes()
		}
		b.mu.Lock()
		b.requests = append(b.requests, rec)
		b.mu.Unlock()
		if b.respond != nil {
			b.respond(w, r)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	b.server.StartTLS()
	t.Cleanup(b.server.Close)
	return b
}

func (b *recordingBackend) URL() *url.URL {
	u, _ := url.Parse(b.server.URL)
	return u
}

func (b *recordingBackend) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(b.server.Certificate())
	return pool
}

func (b *recordingBackend) Requests() []backendRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]backendRequest(nil), b.requests...)
}

func mustPEM(t *testing.T, sim *simulator.Server) []byte {
	t.Helper()
	pem, err := sim.CACertPEM()
	if err != nil {
		t.Fatal(err)
	}
	return pem
}
