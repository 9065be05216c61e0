package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/logging"
	"github.com/xdrproxy/xdrproxy/server"
	"github.com/xdrproxy/xdrproxy/simulator"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// runDemo is `xdrproxy demo`: the simulator on loopback and a proxy wired
// to it, until Ctrl-C.
func runDemo(ctx context.Context, stdout, stderr io.Writer) error {
	for _, v := range []string{"XDRPROXY_LISTEN_ADDR", "XDRPROXY_ADMIN_ADDR"} {
		if addr := os.Getenv(v); addr != "" && !config.IsLoopbackAddr(addr) {
			return &exitError{Code: 2, Err: fmt.Errorf("%s=%s: the demo serves loopback only (use 127.0.0.1:PORT)", v, addr)}
		}
	}
	var pinnedAddr string
	if v := os.Getenv("XDRPROXY_TENANT_LISTENERS"); v == "" {
		pinnedAddr = freeAddr("", "127.0.0.1:8081")
	} else {
		addr, tenant, ok := strings.Cut(v, "=")
		if !ok || tenant != "fabrikam" || strings.Contains(v, ",") || !config.IsLoopbackAddr(addr) {
			return &exitError{Code: 2, Err: fmt.Errorf("XDRPROXY_TENANT_LISTENERS=%s: the demo pins one loopback listener to fabrikam (use 127.0.0.1:PORT=fabrikam)", v)}
		}
		pinnedAddr = addr
	}
	sim := &simulator.Server{}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer sim.Close()
	roots, err := sim.CertPool()
	if err != nil {
		return err
	}
	simURL, _ := url.Parse(sim.URL())
	// curl must trust the simulator's CA to open its consent page.
	caFile, err := writeCAFile(sim)
	if err != nil {
		return err
	}
	defer os.Remove(caFile)

	tenants, err := config.NewTenantSet([]config.Tenant{
		{ID: simulator.ContosoTenantID, Alias: "contoso"},
		{ID: simulator.FabrikamTenantID, Alias: "fabrikam"},
		{ID: simulator.UnconsentedTenantID, Alias: "northwind"},
	})
	if err != nil {
		return err
	}
	// The Graph security API through a route, as in production.
	graphRoutes, err := config.ParseRoutes("/graph/=" + sim.URL() + "|https://graph.microsoft.com/.default")
	if err != nil {
		return err
	}
	format := "console"
	if f := os.Getenv("XDRPROXY_LOG_FORMAT"); f == "json" {
		format = f
	}
	cfg := &config.Config{
		ListenAddr:        freeAddr(os.Getenv("XDRPROXY_LISTEN_ADDR"), "127.0.0.1:8080"),
		AdminAddr:         freeAddr(os.Getenv("XDRPROXY_ADMIN_ADDR"), "127.0.0.1:9090"),
		ClientID:          simulator.DefaultClientID,
		Credential:        config.Credential{Kind: config.ClientSecret, Secret: config.Secret(simulator.DefaultClientSecret)},
		AuthorityHost:     simURL,
		InstanceDiscovery: false,
		Tenants:           tenants,
		UpstreamURL:       simURL,
		Scope:             "https://api.security.microsoft.com/.default",
		Routes:            graphRoutes,
		LogLevel:          zapcore.InfoLevel,
		LogFormat:         format,
		Cloud:             config.Clouds["public"],
		UpstreamTimeout:   210 * time.Second,
		RateLimits:        config.DefaultRateLimits,
		QueueTimeout:      30 * time.Second,
		ShutdownTimeout:   5 * time.Second,
		TenantListeners:   []config.TenantListener{{Addr: pinnedAddr, Tenant: "fabrikam"}},
		TokenEmulation:    true,
	}
	log := logging.New(stderr, cfg.LogLevel, cfg.LogFormat)
	defer func() { _ = log.Sync() }()
	log.Info("simulator started (fake Entra ID and Defender XDR API)", zap.String("url", sim.URL()))

	return server.Run(ctx, cfg, log, server.Options{
		Version:          versionString(),
		Roots:            roots,
		PermanentBackoff: 5 * time.Second,
		OnListening: func(l server.Addrs) {
			consent := tokencache.AdminConsentURL(simURL, simulator.DefaultClientID, simulator.UnconsentedTenantID)
			fmt.Fprint(stdout, demoBanner("http://"+l.Proxy.String(), "http://"+l.Admin.String(), sim.URL(), consent, caFile, "http://"+l.Tenants[0].String()))
		},
	})
}

// freeAddr returns want if set, else def when it can be listened on, else
// an ephemeral port on the same host, so the demo starts even when 8080 is
// taken.
func freeAddr(want, def string) string {
	if want != "" {
		return want
	}
	ln, err := net.Listen("tcp", def)
	if err != nil {
		host, _, _ := net.SplitHostPort(def)
		return net.JoinHostPort(host, "0")
	}
	ln.Close()
	return def
}

// writeCAFile writes the simulator's CA certificate to a temporary file and
// returns its path.
func writeCAFile(sim *simulator.Server) (string, error) {
	pem, err := sim.CACertPEM()
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "xdrproxy-demo-ca-*.pem")
	if err != nil {
		return "", fmt.Errorf("writing the simulator's CA certificate: %w", err)
	}
	if _, err := f.Write(pem); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the simulator's CA certificate: %w", err)
	}
	return f.Name(), f.Close()
}

func demoBanner(proxyURL, adminURL, simURL, consentURL, caFile, fabrikamURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
xdrproxy demo is running: a simulated Entra ID and Defender XDR API at %s,
and the proxy at %s (admin: %s). No Azure account or network is used.

Tenants: contoso and fabrikam have consented; northwind has not.
Paste any of these in another terminal:

  # incidents of tenant contoso, named by header
  curl -s -H 'X-Tenant-ID: contoso' '%[2]s/api/incidents?$top=2'

  # the same tenant named in the path, with an OData filter
  curl -s '%[2]s/tenants/fabrikam/api/incidents?$top=1&$filter=severity+eq+%%27High%%27'

  # the Graph security API through the /graph/ route, with a Graph token
  curl -s -H 'X-Tenant-ID: contoso' '%[2]s/graph/v1.0/security/incidents?$top=1'

  # advanced hunting
  curl -s -X POST -H 'X-Tenant-ID: contoso' -H 'Content-Type: application/json' \
       -d '{"Query":"DeviceProcessEvents | take 3"}' '%[2]s/api/advancedhunting/run'

  # a tenant whose admin has not consented: 502 TokenAcquisitionFailed with the consent link
  curl -s -H 'X-Tenant-ID: northwind' '%[2]s/api/incidents'

  # grant that consent on the simulator's stand-in consent page, then retry
  # the northwind line (the proxy retries a failed tenant after a short backoff)
  curl -s --cacert %[5]s '%[4]s'

  # no tenant named: 400 MissingTenant
  curl -s '%[2]s/api/incidents'

  # a tool that can only be given host:port: fabrikam's own listener
  curl -s '%[6]s/api/incidents?$top=1'

  # a tool with Microsoft's OAuth flow built in asks the proxy for a token
  # (the demo has no client keys, so any secret is taken) and gets a
  # placeholder, which the proxy swaps for the real token on the way out
  TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=%[7]s \
       -d client_secret=any -d resource=https://api.security.microsoft.com \
       '%[2]s/contoso/oauth2/token' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  curl -s -H "Authorization: Bearer $TOKEN" '%[2]s/api/incidents?$top=1'

  # readiness
  curl -s %[3]s/readyz

Press Ctrl-C to stop.

`, simURL, proxyURL, adminURL, consentURL, caFile, fabrikamURL, simulator.DefaultClientID)
	return b.String()
}
