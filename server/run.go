// Package server assembles and runs one xdrproxy process: from the
// configuration it builds the credential's token source, the token cache
// and the proxy handler, opens the proxy, tenant and admin listeners,
// warms every tenant's tokens, applies changes of the files it watches
// while it runs, and drains in-flight requests on shutdown.
package server

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/xdrproxy/xdrproxy/admin"
	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// Run runs the proxy configured by cfg until ctx is done, then stops
// accepting, reports not-ready and drains in-flight requests for at most
// XDRPROXY_SHUTDOWN_TIMEOUT. It returns an error when it cannot start, or
// when requests were still in flight at that deadline and were cut.
func Run(ctx context.Context, cfg *config.Config, log *zap.Logger, o Options) error {
	logStart(cfg, log, o.Version)
	p, err := assemble(cfg, log, o)
	if err != nil {
		return err
	}
	defer p.fleet.close()
	defer p.cache.Close()
	l, err := p.listen()
	if err != nil {
		return err
	}
	p.announce(l)
	return p.serve(ctx, l)
}

// process is one running proxy: what Run assembled, which its steps share.
type process struct {
	cfg      *config.Config
	log      *zap.Logger
	opts     Options
	tls      *inboundTLS // nil for plain HTTP
	source   *tokencache.MSALSource
	registry *prometheus.Registry
	metrics  *proxy.Metrics
	fleet    *fleetState // nil without XDRPROXY_REDIS_URL
	cache    *tokencache.Cache
	handler  *proxy.Handler
	ready    *admin.Readiness
	// adminKeys are XDRPROXY_ADMIN_KEYS_FILE's keys, replaced when it
	// changes; nil without the file.
	adminKeys *admin.Keys
}

// assemble builds the process's parts in dependency order: placeholder
// signer and inbound TLS (both checked before anything starts), token
// source, metrics, token cache, proxy handler.
func assemble(cfg *config.Config, log *zap.Logger, o Options) (*process, error) {
	p := &process{cfg: cfg, log: log, opts: o, ready: &admin.Readiness{}}
	if cfg.AdminKeys != nil {
		p.adminKeys = admin.NewKeys(cfg.AdminKeys)
	}
	signer, err := newSigner(cfg, log)
	if err != nil {
		return nil, err
	}
	if p.tls, err = newInboundTLS(cfg, log.Named("tls")); err != nil {
		return nil, err
	}
	if p.source, err = NewTokenSource(cfg, o.Roots); err != nil {
		return nil, err
	}
	p.registry = prometheus.NewRegistry()
	p.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p.metrics = proxy.NewMetrics(p.registry)
	p.metrics.LabelTenants(cfg.Tenants, cfg.MetricsTenantLabels)
	if p.fleet, err = newFleet(cfg, log.Named("fleet"), p.registry, o.RedisTimeout); err != nil {
		return nil, err
	}
	p.cache = p.newCache()
	if p.handler, err = p.newHandler(signer); err != nil {
		p.cache.Close()
		p.fleet.close()
		return nil, err
	}
	return p, nil
}

// logStart logs what the process is about to serve, and with what.
func logStart(cfg *config.Config, log *zap.Logger, version string) {
	log.Info("xdrproxy starting",
		zap.String("version", version),
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
		zap.Bool("token_emulation", cfg.TokenEmulation),
		zap.String("public_url", publicURL(cfg)))
	if cfg.AdminKeysMissing() {
		log.Warn("the admin listener can be reached from other machines and XDRPROXY_ADMIN_KEYS_FILE is not set: the status page /, /tenants, POST /tenants/{tenant}/retry and /debug/pprof/ answer 403 to everyone; /healthz, /readyz and /metrics stay open",
			zap.String("admin", cfg.AdminAddr))
	}
}

// publicURL is what the start line says of XDRPROXY_PUBLIC_URL.
func publicURL(cfg *config.Config) string {
	if cfg.PublicURL == nil {
		return "from each request (XDRPROXY_PUBLIC_URL unset)"
	}
	return cfg.PublicURL.String()
}

// serve serves every listener, warms the tenants' tokens up and applies
// changes of the watched files until ctx is done, then drains.
func (p *process) serve(ctx context.Context, l *listeners) error {
	g, gctx := errgroup.WithContext(ctx)
	for i := range l.proxySrvs {
		g.Go(func() error { return serveUntilShutdown(l.proxySrvs[i], l.proxy[i]) })
	}
	g.Go(func() error { return serveUntilShutdown(l.adminSrv, l.admin) })
	g.Go(func() error { p.fleet.watch(gctx); return nil })
	g.Go(func() error {
		warmUp(gctx, p.cfg, p.cache, p.log)
		p.ready.MarkWarm()
		return nil
	})
	rl := newReloader(p.cfg, p.log, p.handler, p.cache, p.source)
	rl.metrics, rl.tls, rl.applied, rl.hungUp = p.metrics, p.tls, p.opts.Reloaded, p.opts.HungUp
	rl.adminKeys = p.adminKeys
	interval := p.opts.ReloadInterval
	if interval == 0 {
		interval = reloadInterval
	}
	g.Go(func() error { rl.run(gctx, interval, p.opts.Hangup); return nil })
	var drainErr error
	g.Go(func() error {
		<-gctx.Done()
		drainErr = p.drain(l)
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if drainErr != nil {
		p.log.Warn("shutdown incomplete", zap.Error(drainErr))
		return drainErr
	}
	p.log.Info("stopped")
	return nil
}
