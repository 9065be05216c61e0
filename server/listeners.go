package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/admin"
	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/connguard"
)

// listeners are the process's open listeners and the servers that serve
// them.
type listeners struct {
	// proxy holds the proxy listener, then each tenant listener in
	// XDRPROXY_TENANT_LISTENERS order, then Options.ExtraTLS's;
	// proxySrvs serve them, index for index.
	proxy     []net.Listener
	proxySrvs []*http.Server
	admin     net.Listener
	adminSrv  *http.Server
}

// adminMaxConnections caps the admin listener's open connections. It has
// a cap of its own so that a flood on the proxy listeners never holds
// back probes and scrapes, and a small one: they need few.
const adminMaxConnections = 64

// listen opens the proxy, tenant and admin listeners and builds their
// servers. On error none is left open.
func (p *process) listen() (*listeners, error) {
	errLog := zap.NewStdLog(p.log.Named("http"))
	proxyLns, err := listenProxies(p.cfg, p.tls, errLog)
	if err != nil {
		return nil, err
	}
	closeAll := func() {
		for _, ln := range proxyLns {
			ln.Close()
		}
	}
	adminLn, err := net.Listen("tcp", p.cfg.AdminAddr)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("XDRPROXY_ADMIN_ADDR: %w", err)
	}
	l := &listeners{proxy: proxyLns, admin: connguard.Listen(connguard.Limit(adminLn, adminMaxConnections), nil, nil)}
	handlers := []http.Handler{p.handler}
	for _, tl := range p.cfg.TenantListeners {
		handlers = append(handlers, p.handler.ForTenant(tl.Tenant))
	}
	for _, h := range handlers {
		srv := p.newHTTPServer(refuseWhileDraining(p.tls.RecheckClientCertificates(h), p.ready))
		if p.tls != nil {
			srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
				return p.tls.ConnContext(connguard.ConnContext(ctx, c), c)
			}
		}
		l.proxySrvs = append(l.proxySrvs, srv)
	}
	if x := p.opts.ExtraTLS; x != nil {
		ln, err := net.Listen("tcp", x.Addr)
		if err != nil {
			closeAll()
			adminLn.Close()
			return nil, fmt.Errorf("%s %s: %w", cmp.Or(x.Setting, "the TLS listener"), x.Addr, err)
		}
		conf := &tls.Config{Certificates: []tls.Certificate{x.Certificate}, MinVersion: tls.VersionTLS12, CipherSuites: modernCipherSuites}
		l.proxy = append(l.proxy, connguard.Listen(connguard.Limit(ln, p.cfg.MaxConnections), conf, errLog))
		l.proxySrvs = append(l.proxySrvs, p.newHTTPServer(refuseWhileDraining(p.handler, p.ready)))
	}
	l.adminSrv = p.newHTTPServer(ignoreBodies(admin.NewHandler(p.adminOptions())))
	return l, nil
}

// adminOptions are the admin listener's collaborators.
func (p *process) adminOptions() admin.Options {
	o := admin.Options{
		Config: p.cfg, Tenants: p.handler, Tokens: p.cache, Retrier: p.cache, Registry: p.registry, Readiness: p.ready,
		RequireKeys: admin.KeysRequired(p.cfg.AdminAddr, p.adminKeys != nil), Keys: p.adminKeys,
		Version: p.opts.Version,
	}
	if p.fleet != nil {
		o.RedisUp = p.fleet.client.Up
	}
	return o
}

// listenProxies opens the proxy listener, then each tenant listener, each
// capped at XDRPROXY_MAX_CONNECTIONS, terminating TLS when inTLS is set,
// and watching the framing of their requests. errLog gets failed TLS
// handshakes. On error none is left open.
func listenProxies(cfg *config.Config, inTLS *inboundTLS, errLog *log.Logger) ([]net.Listener, error) {
	type want struct{ addr, variable string }
	wants := []want{{cfg.ListenAddr, "XDRPROXY_LISTEN_ADDR"}}
	for _, l := range cfg.TenantListeners {
		wants = append(wants, want{l.Addr, "XDRPROXY_TENANT_LISTENERS (" + l.Addr + "=" + l.Tenant + ")"})
	}
	var conf *tls.Config
	if inTLS != nil {
		conf = inTLS.ServerConfig()
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
		lns = append(lns, connguard.Listen(connguard.Limit(ln, cfg.MaxConnections), conf, errLog))
	}
	return lns, nil
}

// announce logs the addresses the listeners got and tells
// Options.OnListening.
func (p *process) announce(l *listeners) {
	addrs := Addrs{Proxy: l.proxy[0].Addr(), Admin: l.admin.Addr()}
	scheme := "http"
	if p.tls != nil {
		scheme = "https"
	}
	fields := []zap.Field{zap.Stringer("proxy", addrs.Proxy), zap.String("scheme", scheme), zap.Stringer("admin", addrs.Admin)}
	for i, tl := range p.cfg.TenantListeners {
		addr := l.proxy[i+1].Addr()
		addrs.Tenants = append(addrs.Tenants, addr)
		fields = append(fields, zap.String("tenant_listener", addr.String()+"="+tl.Tenant))
	}
	if p.opts.ExtraTLS != nil {
		addrs.ExtraTLS = l.proxy[len(l.proxy)-1].Addr()
		fields = append(fields, zap.String("tls_listener", "https://"+addrs.ExtraTLS.String()))
	}
	p.log.Info("listening", fields...)
	if p.opts.OnListening != nil {
		p.opts.OnListening(addrs)
	}
}

// headerTimeout is how long a client has to send its request headers
// (and, on TLS listeners, to complete its handshake first).
const headerTimeout = 10 * time.Second

// newHTTPServer is a server for h with the limits every listener has:
// slow or oversized request headers are refused, idle connections
// closed, and requests whose framing is ambiguous refused before h sees
// them. Its listener must come from connguard.Listen.
func (p *process) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           refuseAmbiguous(h),
		ReadHeaderTimeout: cmp.Or(p.opts.HeaderTimeout, headerTimeout),
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(p.log.Named("http")),
		ConnContext:       connguard.ConnContext,
		// "OPTIONS *" must reach refuseAmbiguous too.
		DisableGeneralOptionsHandler: true,
		// Idle connections may be reclaimed at the connection cap.
		ConnState: connguard.ConnState,
	}
}

// serveUntilShutdown serves ln until srv is shut down or closed.
func serveUntilShutdown(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
