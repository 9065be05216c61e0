package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/xdrproxy/xdrproxy/admin"
	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/logging"
	"github.com/xdrproxy/xdrproxy/proxy"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// runServe is `xdrproxy serve`: configuration from the environment.
func runServe(ctx context.Context, stderr io.Writer) error {
	cfg, err := config.Load()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	log := logging.New(stderr, cfg.LogLevel, cfg.LogFormat, cfg.Credential.Secret.Reveal())
	defer func() { _ = log.Sync() }()
	return serve(ctx, cfg, log, serveOptions{})
}

// serveOptions adjust serve for the demo and tests.
type serveOptions struct {
	// roots, if not nil, are the only CAs trusted for Entra ID and the
	// upstream. Nil means the system's.
	roots *x509.CertPool
	// onListening, if set, is called with the listeners' addresses once
	// all listen.
	onListening func(listening)
	// reloaded, if set, is called after each tenants-file change was
	// handled, with nil or why it was refused (tests).
	reloaded func(error)
	// reloadInterval, if set, replaces how often watched files are read.
	reloadInterval time.Duration
	// permanentBackoff, if set, replaces the first wait after a failure
	// that needs a person (the demo's consent step should not take 1m).
	permanentBackoff time.Duration
}

// listening holds the addresses the listeners got.
type listening struct {
	proxy, admin net.Addr
	// tenants are the tenant listeners', in XDRPROXY_TENANT_LISTENERS order.
	tenants []net.Addr
}

// serve runs the proxy and admin listeners until ctx is done, then drains.
func serve(ctx context.Context, cfg *config.Config, log *zap.Logger, o serveOptions) error {
	log.Info("xdrproxy starting",
		zap.String("version", versionString()),
		zap.String("listen", cfg.ListenAddr),
		zap.String("admin", cfg.AdminAddr),
		zap.String("cloud", cfg.Cloud.Name),
		zap.String("upstream", cfg.UpstreamURL.String()),
		zap.String("scope", cfg.Scope),
		zap.String("authority", cfg.AuthorityHost.String()),
		zap.String("client_id", cfg.ClientID),
		zap.String("credential", cfg.Credential.Variable()),
		zap.Int("tenants", cfg.Tenants.Len()),
		zap.String("default_tenant", cfg.DefaultTenant.Name()),
		zap.Bool("tls", cfg.TLS()),
		zap.Bool("token_emulation", cfg.TokenEmulation))

	var signer *placeholder.Signer
	if cfg.TokenEmulation {
		var err error
		if signer, err = placeholder.NewSigner(cfg.PlaceholderKey, nil); err != nil {
			return fmt.Errorf("XDRPROXY_PLACEHOLDER_KEY_FILE: %w", err)
		}
		keyFrom := cfg.PlaceholderKeyFile
		if keyFrom == "" {
			keyFrom = "made at start: placeholders die with this process and other replicas refuse them; set XDRPROXY_PLACEHOLDER_KEY_FILE to share one"
		}
		log.Info("token emulation on: legacy tools get placeholder tokens from /{tenant}/oauth2/token and /{tenant}/oauth2/v2.0/token",
			zap.String("key", keyFrom), zap.String("kid", signer.KeyID()), zap.String("alg", signer.Algorithm()))
	}
	inTLS, err := newInboundTLS(cfg, log.Named("tls"))
	if err != nil {
		return err
	}

	src, err := newTokenSource(cfg, o.roots)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := proxy.NewMetrics(registry)
	var handler *proxy.Handler // set below, before any acquisition starts
	cache := tokencache.New(src, tokencache.Options{
		Logger:              log.Named("token"),
		PermanentMinBackoff: o.permanentBackoff,
		PermanentMaxBackoff: 6 * o.permanentBackoff, // zero keeps the default
		Observe: func(k tokencache.Key, expires time.Time, err error) {
			name := k.TenantID
			if t, ok := handler.Tenants().Lookup(k.TenantID); ok {
				name = t.Name()
			}
			metrics.ObserveAcquisition(name, k.Scope, expires, err)
		},
	})
	defer cache.Close()
	cache.SetTenants(tenantIDs(cfg.Tenants))

	handler, err = proxy.New(proxy.Options{
		Upstream:      cfg.UpstreamURL,
		Scope:         cfg.Scope,
		Tenants:       cfg.Tenants,
		DefaultTenant: cfg.DefaultTenant,
		Routes:        cfg.Routes,
		ClientKeys:    cfg.ClientKeys,
		RateLimits:    cfg.RateLimits,
		QueueTimeout:  cfg.QueueTimeout,
		Tokens:        cache,
		Transport:     proxy.NewTransport(cfg.UpstreamTimeout, o.roots),
		Logger:        log.Named("access"),
		ConsentURL: func(tenantID string) string {
			return tokencache.AdminConsentURL(cfg.AuthorityHost, cfg.ClientID, tenantID)
		},
		UpstreamTimeout: cfg.UpstreamTimeout,
		Metrics:         metrics,
		Placeholders:    signer,
	})
	if err != nil {
		return err
	}

	ready := &admin.Readiness{}
	proxyLns, err := listenProxies(cfg, inTLS)
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		for _, ln := range proxyLns {
			ln.Close()
		}
		return fmt.Errorf("XDRPROXY_ADMIN_ADDR: %w", err)
	}
	proxySrvs := make([]*http.Server, len(proxyLns))
	handlers := []http.Handler{handler}
	for _, l := range cfg.TenantListeners {
		handlers = append(handlers, handler.ForTenant(l.Tenant))
	}
	for i, h := range handlers {
		proxySrvs[i] = newHTTPServer(refuseWhileDraining(inTLS.RecheckClientCertificates(h), ready), log)
		if inTLS != nil {
			proxySrvs[i].ConnContext = inTLS.ConnContext
		}
	}
	adminSrv := newHTTPServer(admin.NewHandler(admin.Options{
		Config: cfg, Tenants: handler, Tokens: cache, Registry: registry, Readiness: ready,
	}), log)

	addrs := listening{proxy: proxyLns[0].Addr(), admin: adminLn.Addr()}
	scheme := "http"
	if inTLS != nil {
		scheme = "https"
	}
	fields := []zap.Field{zap.Stringer("proxy", proxyLns[0].Addr()), zap.String("scheme", scheme), zap.Stringer("admin", adminLn.Addr())}
	for i, l := range cfg.TenantListeners {
		addrs.tenants = append(addrs.tenants, proxyLns[i+1].Addr())
		fields = append(fields, zap.String("tenant_listener", proxyLns[i+1].Addr().String()+"="+l.Tenant))
	}
	log.Info("listening", fields...)
	if o.onListening != nil {
		o.onListening(addrs)
	}

	g, gctx := errgroup.WithContext(ctx)
	for i := range proxySrvs {
		g.Go(func() error { return serveUntilShutdown(proxySrvs[i], proxyLns[i]) })
	}
	g.Go(func() error { return serveUntilShutdown(adminSrv, adminLn) })
	g.Go(func() error {
		warmUp(gctx, cfg, cache, log)
		ready.MarkWarm()
		return nil
	})
	rl := newReloader(cfg, log, handler, cache, src)
	rl.metrics = metrics
	rl.tls = inTLS
	rl.applied = o.reloaded
	interval := o.reloadInterval
	if interval == 0 {
		interval = reloadInterval
	}
	g.Go(func() error { rl.run(gctx, interval); return nil })
	var drainErr error
	g.Go(func() error {
		<-gctx.Done()
		ready.MarkDraining()
		handler.Drain()
		log.Info("shutting down: draining in-flight requests", zap.Duration("timeout", cfg.ShutdownTimeout))
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		var cut atomic.Bool
		var drained sync.WaitGroup
		for _, srv := range proxySrvs {
			drained.Go(func() {
				if err := srv.Shutdown(sctx); err != nil {
					cut.Store(true)
					srv.Close()
				}
			})
		}
		drained.Wait()
		if cut.Load() {
			drainErr = fmt.Errorf("in-flight requests were cut after XDRPROXY_SHUTDOWN_TIMEOUT=%s", cfg.ShutdownTimeout)
		}
		adminSrv.Close()
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if drainErr != nil {
		log.Warn("shutdown incomplete", zap.Error(drainErr))
		return &exitError{Code: 1, Err: drainErr}
	}
	log.Info("stopped")
	return nil
}

// listenProxies opens the proxy listener, then each tenant listener, over
// TLS when inTLS is set. On error none is left open.
func listenProxies(cfg *config.Config, inTLS *inboundTLS) ([]net.Listener, error) {
	type want struct{ addr, variable string }
	wants := []want{{cfg.ListenAddr, "XDRPROXY_LISTEN_ADDR"}}
	for _, l := range cfg.TenantListeners {
		wants = append(wants, want{l.Addr, "XDRPROXY_TENANT_LISTENERS (" + l.Addr + "=" + l.Tenant + ")"})
	}
	var lns []net.Listener
	for _, w := range wants {
		ln, err := net.Listen("tcp", w.addr)
		if err != nil {
			for _, open := range lns {
				open.Close()
			}
			return nil, fmt.Errorf("%s: %w", w.variable, err)
		}
		if inTLS != nil {
			ln = tls.NewListener(ln, inTLS.ServerConfig())
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// newTokenSource builds the MSAL Go source for cfg's credential. roots, if
// not nil, are the only CAs trusted for Entra ID.
func newTokenSource(cfg *config.Config, roots *x509.CertPool) (*tokencache.MSALSource, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if roots != nil {
		transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return tokencache.NewMSALSource(tokencache.MSALOptions{
		AuthorityHost:     cfg.AuthorityHost,
		ClientID:          cfg.ClientID,
		Credential:        cfg.Credential,
		InstanceDiscovery: cfg.InstanceDiscovery,
		HTTPClient:        &http.Client{Transport: transport, Timeout: 30 * time.Second},
	})
}

// warmUp acquires every tenant's token once, so the first request of a
// tenant does not wait and operators see consent problems at start-up.
func warmUp(ctx context.Context, cfg *config.Config, cache *tokencache.Cache, log *zap.Logger) {
	start := time.Now()
	tenants := cfg.Tenants.All()
	ids := tenantIDs(cfg.Tenants)
	scopes := cfg.Scopes()
	for _, scope := range scopes {
		cache.Warm(ctx, ids, scope)
	}
	if ctx.Err() != nil {
		return // shutting down before every tenant was tried
	}
	ok := 0
	for _, t := range tenants {
		for _, scope := range scopes {
			st, _ := cache.Status(tokencache.Key{TenantID: t.ID, Scope: scope})
			if st.HasToken {
				ok++
				continue
			}
			fields := []zap.Field{zap.String("tenant", t.Name()), zap.String("tenant_id", t.ID), zap.String("scope", scope)}
			var ae *tokencache.AcquisitionError
			if errors.As(st.LastError, &ae) {
				if hint := ae.Hint(); hint != "" {
					fields = append(fields, zap.String("fix", hint))
				}
				if ae.ConsentRequired() {
					fields = append(fields, zap.String("admin_consent_url", tokencache.AdminConsentURL(cfg.AuthorityHost, cfg.ClientID, t.ID)))
				}
			}
			if st.LastError != nil {
				fields = append(fields, zap.Error(st.LastError))
			}
			log.Warn("tenant has no token after warm-up", fields...)
		}
	}
	log.Info("warm-up done", zap.Int("tenants", len(tenants)), zap.Int("scopes", len(scopes)), zap.Int("tokens", ok), zap.Duration("took", time.Since(start)))
}

func newHTTPServer(h http.Handler, log *zap.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
}

func serveUntilShutdown(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// refuseWhileDraining answers 503 ShuttingDown to requests that arrive,
// on connections already open, after shutdown began; requests already in
// flight are not affected.
func refuseWhileDraining(next http.Handler, ready *admin.Readiness) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready.Draining() {
			w.Header().Set("Connection", "close")
			proxy.WriteShuttingDown(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}
