package server

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/admin"
	"github.com/xdrproxy/xdrproxy/config"
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

// listen opens the proxy, tenant and admin listeners and builds their
// servers. On error none is left open.
func (p *process) listen() (*listeners, error) {
	proxyLns, err := listenProxies(p.cfg, p.tls)
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
	l := &listeners{proxy: proxyLns, admin: adminLn}
	handlers := []http.Handler{p.handler}
	for _, tl := range p.cfg.TenantListeners {
		handlers = append(handlers, p.handler.ForTenant(tl.Tenant))
	}
	for _, h := range handlers {
		srv := newHTTPServer(refuseWhileDraining(p.tls.RecheckClientCertificates(h), p.ready), p.log)
		if p.tls != nil {
			srv.ConnContext = p.tls.ConnContext
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
		l.proxy = append(l.proxy, tls.NewListener(ln, conf))
		l.proxySrvs = append(l.proxySrvs, newHTTPServer(refuseWhileDraining(p.handler, p.ready), p.log))
	}
	l.adminSrv = newHTTPServer(ignoreBodies(admin.NewHandler(admin.Options{
		Config: p.cfg, Tenants: p.handler, Tokens: p.cache, Registry: p.registry, Readiness: p.ready,
		RequireKeys: admin.KeysRequired(p.cfg.AdminAddr, p.adminKeys != nil), Keys: p.adminKeys,
	})), p.log)
	return l, nil
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

// newHTTPServer is a server for h with the limits every listener has:
// slow or oversized request headers are refused, idle connections closed.
func newHTTPServer(h http.Handler, log *zap.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
}

// serveUntilShutdown serves ln until srv is shut down or closed.
func serveUntilShutdown(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
