// Package demo is `xdrproxy demo`: the embedded Entra ID and Defender XDR
// simulator on loopback, and a proxy wired to it, with curl lines to try.
// It needs no Azure account and no network.
package demo

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/logging"
	"github.com/xdrproxy/xdrproxy/server"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// Run starts the simulator and a proxy wired to it, prints the banner to
// stdout once the proxy listens and logs to stderr, until ctx is done.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	s, err := startSimulator()
	if err != nil {
		return err
	}
	defer s.close()
	cfg, err := o.config(s)
	if err != nil {
		return err
	}
	log := logging.New(stderr, cfg.LogLevel, cfg.LogFormat)
	defer func() { _ = log.Sync() }()
	log.Info("simulator started (fake Entra ID and Defender XDR API)", zap.String("url", s.sim.URL()))

	cert, err := s.sim.TLSConfig()
	if err != nil {
		return err
	}
	return server.Run(ctx, cfg, log, server.Options{
		Version:          o.Version,
		Roots:            s.roots,
		PermanentBackoff: 5 * time.Second,
		ExtraTLS:         &server.ExtraTLSListener{Addr: freeAddr(o.TLSAddr, "127.0.0.1:8443"), Certificate: cert.Certificates[0], Setting: "--tls-addr"},
		OnListening: func(l server.Addrs) {
			ready := s.ready(l, cfg)
			fmt.Fprint(stdout, banner(ready))
			if o.OnReady != nil {
				o.OnReady(ready)
			}
		},
	})
}

// config is the demo proxy's configuration: the simulator's three tenants
// (northwind has not consented), its Defender API as the upstream and its
// Graph API through the /graph/ route, token emulation on, and a tenant
// listener pinned to fabrikam.
func (o Options) config(s *simulated) (*config.Config, error) {
	static := []config.Tenant{
		{ID: simulator.ContosoTenantID, Alias: "contoso"},
		{ID: simulator.FabrikamTenantID, Alias: "fabrikam"},
		{ID: simulator.UnconsentedTenantID, Alias: "northwind"},
	}
	tenants, err := config.NewTenantSet(static)
	if err != nil {
		return nil, err
	}
	// The Graph security API through a route, as in production.
	graphRoutes, err := config.ParseRoutes("/graph/=" + s.sim.URL() + "|https://graph.microsoft.com/.default")
	if err != nil {
		return nil, err
	}
	format := o.LogFormat
	if format == "" {
		format = "console"
	}
	return &config.Config{
		ListenAddr:          freeAddr(o.ListenAddr, "127.0.0.1:8080"),
		AdminAddr:           freeAddr(o.AdminAddr, "127.0.0.1:9090"),
		ClientID:            simulator.DefaultClientID,
		Credential:          config.Credential{Kind: config.ClientSecret, Secret: config.Secret(simulator.DefaultClientSecret)},
		AuthorityHost:       s.url,
		InstanceDiscovery:   false,
		Tenants:             tenants,
		StaticTenants:       static,
		UpstreamURL:         s.url,
		Scope:               "https://api.security.microsoft.com/.default",
		Routes:              graphRoutes,
		LogLevel:            zapcore.InfoLevel,
		LogFormat:           format,
		Cloud:               config.Clouds["public"],
		UpstreamTimeout:     210 * time.Second,
		RateLimits:          config.DefaultRateLimits,
		QueueTimeout:        30 * time.Second,
		ShutdownTimeout:     5 * time.Second,
		BodyIdleTimeout:     60 * time.Second,
		MaxConnections:      config.DefaultMaxConnections,
		MetricsTenantLabels: config.DefaultMetricsTenantLabels,
		TenantListeners:     []config.TenantListener{{Addr: freeAddr(o.FabrikamAddr, "127.0.0.1:8081"), Tenant: "fabrikam"}},
		TokenEmulation:      true,
		PublicURL:           o.PublicURL,
	}, nil
}
