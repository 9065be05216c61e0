package interop

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/logging"
	"github.com/xdrproxy/xdrproxy/server"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// TestServeTLS points the libraries at `xdrproxy serve` over its own TLS,
// configured from the environment as an operator configures it.
func TestServeTLS(t *testing.T) {
	runClients(t, serveTLSStack(t))
}

// serveTLSStack is `serve` with XDRPROXY_TLS_CERT_FILE signed by a CA of
// the test's own, token emulation with a placeholder key file, the
// clients' secret as a client key of contoso and fabrikam, and the
// simulator as Entra ID and as the Defender API, with Graph behind the
// /graph/ route as the demo has it. Clients trust only the test's CA.
func serveTLSStack(t *testing.T) stack {
	sim := testutil.StartSimulator(t, nil)
	ca := testutil.NewCA(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	certPEM, keyPEM, _ := ca.Issue(t, "xdrproxy", true)
	testutil.SimulatorEnv(t, sim, map[string]string{
		"XDRPROXY_LISTEN_ADDR":          "127.0.0.1:0",
		"XDRPROXY_ADMIN_ADDR":           "127.0.0.1:0",
		"XDRPROXY_TENANTS":              "contoso=" + simulator.ContosoTenantID + ",fabrikam=" + simulator.FabrikamTenantID,
		"XDRPROXY_ROUTES":               "/graph/=" + sim.URL() + "|https://graph.microsoft.com/.default",
		"XDRPROXY_TLS_CERT_FILE":        write("tls.crt", certPEM),
		"XDRPROXY_TLS_KEY_FILE":         write("tls.key", keyPEM),
		"XDRPROXY_TLS_CLIENT_CA_FILE":   "",
		"XDRPROXY_TOKEN_EMULATION":      "true",
		"XDRPROXY_PLACEHOLDER_KEY_FILE": write("placeholder.pem", testutil.PlaceholderKeyPEM(t)),
		"XDRPROXY_CLIENT_KEYS_FILE":     write("client-keys", []byte(testutil.KeyLine(clientSecret, "contoso,fabrikam"))),
		"XDRPROXY_SHUTDOWN_TIMEOUT":     "5s",
		"XDRPROXY_LOG_FORMAT":           "json",
	})
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	roots, err := sim.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	addrs := startServe(t, cfg, roots)
	noForeignCredentials(t, sim.ForeignCredentials)
	return stack{origin: "https://" + addrs.Proxy.String(), caFile: write("ca.pem", ca.PEM()), roots: ca.Pool()}
}

// startServe runs server.Run with cfg, trusting roots for Entra ID and the
// upstreams, until the test ends, and waits for it to return then. Its
// log is shown if it fails to start or to stop cleanly.
func startServe(t *testing.T, cfg *config.Config, roots *x509.CertPool) server.Addrs {
	t.Helper()
	listening := make(chan server.Addrs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var logs testutil.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, cfg, logging.New(&logs, cfg.LogLevel, cfg.LogFormat), server.Options{
			Roots:       roots,
			OnListening: func(a server.Addrs) { listening <- a },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve stopped with %v\n%s", err, logs.String())
		}
	})
	select {
	case a := <-listening:
		return a
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("serve stopped before it listened: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve not listening after 30s\n%s", logs.String())
	}
	return server.Addrs{}
}
