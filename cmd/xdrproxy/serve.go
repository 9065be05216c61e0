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
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// runServe is `xdrproxy serve`: configuration from the environment.
func runServe(ctx context.Context, stderr io.Writer) error {
	cfg, err := config.Load()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat, cfg.Credential.Secret.Reveal())
	defer func() { _ = log.Sync() }()
	return serve(ctx, cfg, log, serveOptions{})
}

// serveOptions adjust serve for the demo and tests.
type serveOptions struct {
	// roots, if not nil, are the only CAs trusted for Entra ID and the
	// upstream. Nil means the system's.
	roots *x509.CertPool
	// onListening, if set, is called with the proxy's and admin's
	// addresses once both listen.
	onListening func(proxyAddr, adminAddr net.Addr)
	// reloaded, if set, is called after each tenants-file change was
	// handled, with nil or why it was refused (tests).
	reloaded func(error)
	// reloadInterval, if set, replaces how often watched files are read.
	reloadInterval time.Duration
	// permanentBackoff, if set, replaces the first wait after a failure
	// that needs a person (the demo's consent step should not take 1m).
	permanentBackoff time.Duration
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
		zap.String("default_tenant", cfg.DefaultTenant.Name()))

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
	})
	if err != nil {
		return err
	}

	proxyLn, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("XDRPROXY_LISTEN_ADDR: %w", err)
	}
	adminLn, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		proxyLn.Close()
		return fmt.Errorf("XDRPROXY_ADMIN_ADDR: %w", err)
	}

	var ready, draining atomic.Bool
	proxySrv := newHTTPServer(refuseWhileDraining(handler, &draining), log)
	adminSrv := newHTTPServer(adminMux(adminState{
		cfg: cfg, handler: handler, cache: cache, registry: registry, ready: &ready, draining: &draining,
	}), log)

	log.Info("listening", zap.Stringer("proxy", proxyLn.Addr()), zap.Stringer("admin", adminLn.Addr()))
	if o.onListening != nil {
		o.onListening(proxyLn.Addr(), adminLn.Addr())
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveUntilShutdown(proxySrv, proxyLn) })
	g.Go(func() error { return serveUntilShutdown(adminSrv, adminLn) })
	g.Go(func() error {
		warmUp(gctx, cfg, cache, log)
		ready.Store(true)
		return nil
	})
	rl := newReloader(cfg, log, handler, cache, src)
	rl.metrics = metrics
	rl.applied = o.reloaded
	interval := o.reloadInterval
	if interval == 0 {
		interval = reloadInterval
	}
	g.Go(func() error { rl.run(gctx, interval); return nil })
	var drainErr error
	g.Go(func() error {
		<-gctx.Done()
		draining.Store(true)
		handler.Drain()
		log.Info("shutting down: draining in-flight requests", zap.Duration("timeout", cfg.ShutdownTimeout))
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := proxySrv.Shutdown(sctx); err != nil {
			drainErr = fmt.Errorf("in-flight requests were cut after XDRPROXY_SHUTDOWN_TIMEOUT=%s", cfg.ShutdownTimeout)
			proxySrv.Close()
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
	ids := make([]string, len(tenants))
	for i, t := range tenants {
		ids[i] = t.ID
	}
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
func refuseWhileDraining(next http.Handler, draining *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "1")
			proxy.WriteError(w, &proxy.Error{Status: http.StatusServiceUnavailable, Code: proxy.CodeShuttingDown,
				Message: "the proxy is shutting down; retry on another instance"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
