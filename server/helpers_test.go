package server

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/logging"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// swapFile replaces path's content the way Kubernetes updates a mounted
// ConfigMap: write aside, then rename over.
func swapFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// startServe starts Run with cfg against sim and returns the proxy's URL
// and a channel of reload outcomes; the server stops with the test.
func startServe(t *testing.T, sim *simulator.Server, cfg *config.Config) (string, chan error) {
	t.Helper()
	roots, _ := sim.CertPool()
	p, _, reloads := startServeAdmin(t, cfg, roots)
	return p, reloads
}

// startServeWith is startServe trusting roots for Entra ID and upstreams.
func startServeWith(t *testing.T, cfg *config.Config, roots *x509.CertPool) (string, chan error) {
	t.Helper()
	p, _, reloads := startServeAdmin(t, cfg, roots)
	return p, reloads
}

// serveConfig loads the configuration of a proxy on ephemeral ports,
// backed by sim, with extra variables set.
func serveConfig(t *testing.T, sim *simulator.Server, extra map[string]string) *config.Config {
	t.Helper()
	env := map[string]string{"XDRPROXY_LISTEN_ADDR": "127.0.0.1:0", "XDRPROXY_ADMIN_ADDR": "127.0.0.1:0"}
	for k, v := range extra {
		env[k] = v
	}
	testutil.SimulatorEnv(t, sim, env)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startServeAdmin starts Run and returns the proxy's and the admin
// listener's URLs and the reload outcomes.
func startServeAdmin(t *testing.T, cfg *config.Config, roots *x509.CertPool) (string, string, chan error) {
	t.Helper()
	l, reloads := startServeListening(t, cfg, roots)
	return "http://" + l.Proxy.String(), "http://" + l.Admin.String(), reloads
}

// startServeListening starts Run, stopped when the test ends, and
// returns the addresses it listens on and the reload outcomes.
func startServeListening(t *testing.T, cfg *config.Config, roots *x509.CertPool) (Addrs, chan error) {
	t.Helper()
	return startServeOptions(t, cfg, Options{Roots: roots})
}

// startServeOptions is startServeListening with more options; it sets
// their reload and listening callbacks.
func startServeOptions(t *testing.T, cfg *config.Config, o Options) (Addrs, chan error) {
	t.Helper()
	reloads := make(chan error)
	addrs := make(chan Addrs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	if o.ReloadInterval == 0 {
		o.ReloadInterval = 5e6 // 5ms
	}
	o.Reloaded = func(err error) {
		select {
		case reloads <- err:
		case <-ctx.Done():
		}
	}
	o.OnListening = func(l Addrs) { addrs <- l }
	go func() {
		done <- Run(ctx, cfg, logging.New(io.Discard, cfg.LogLevel, "json"), o)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case l := <-addrs:
		return l, reloads
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	return Addrs{}, nil
}

// incidentsStatus sends GET /api/incidents?$top=1 with header through the
// proxy and returns the status, draining the body.
func incidentsStatus(t *testing.T, client *http.Client, proxyURL string, header http.Header) int {
	t.Helper()
	req, _ := http.NewRequest("GET", proxyURL+"/api/incidents?$top=1", nil)
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
