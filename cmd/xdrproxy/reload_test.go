package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
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

func TestTenantsFileReload(t *testing.T) {
	sim := startTestSim(t)
	tenantsFile := filepath.Join(t.TempDir(), "tenants")
	if err := os.WriteFile(tenantsFile, []byte("contoso="+simulator.ContosoTenantID+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig(t, sim, map[string]string{
		"XDRPROXY_TENANTS":      "",
		"XDRPROXY_TENANTS_FILE": tenantsFile,
	})
	proxyURL, reloads := startServe(t, sim, cfg)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	status := func(tenant string) int {
		t.Helper()
		return incidentsStatus(t, client, proxyURL, http.Header{"X-Tenant-Id": {tenant}})
	}

	if got := status("contoso"); got != 200 {
		t.Fatalf("contoso: %d", got)
	}
	if got := status(simulator.FabrikamTenantID); got != 403 {
		t.Fatalf("fabrikam before it is added: %d, want 403", got)
	}

	swapFile(t, tenantsFile, "contoso="+simulator.ContosoTenantID+"\nfabrikam="+simulator.FabrikamTenantID+"\n")
	if err := <-reloads; err != nil {
		t.Fatalf("adding fabrikam: %v", err)
	}
	if got := status("fabrikam"); got != 200 {
		t.Errorf("fabrikam after it is added: %d, want 200", got)
	}

	swapFile(t, tenantsFile, "fabrikam="+simulator.FabrikamTenantID+"\nthis is not a tenant\n")
	if err := <-reloads; err == nil {
		t.Fatal("a malformed file was applied")
	}
	if got := status("contoso"); got != 200 {
		t.Errorf("contoso after a malformed file: %d, want 200 (previous set kept)", got)
	}

	swapFile(t, tenantsFile, "fabrikam="+simulator.FabrikamTenantID+"\n")
	if err := <-reloads; err != nil {
		t.Fatalf("removing contoso: %v", err)
	}
	if got := status("contoso"); got != 400 {
		t.Errorf("contoso alias after removal: %d, want 400 InvalidTenant", got)
	}
	if got := status(simulator.ContosoTenantID); got != 403 {
		t.Errorf("contoso GUID after removal: %d, want 403 TenantNotAllowed", got)
	}

	// Its token was dropped: adding it back asks Entra ID again.
	before := sim.TokenRequests(simulator.ContosoTenantID)
	swapFile(t, tenantsFile, "contoso="+simulator.ContosoTenantID+"\nfabrikam="+simulator.FabrikamTenantID+"\n")
	if err := <-reloads; err != nil {
		t.Fatal(err)
	}
	if got := status("contoso"); got != 200 {
		t.Errorf("contoso re-added: %d", got)
	}
	if after := sim.TokenRequests(simulator.ContosoTenantID); after != before+1 {
		t.Errorf("re-adding contoso made %d token requests, want 1 (its old token must be gone)", after-before)
	}

	// Offboarding the last customers: an empty file serves no tenant.
	swapFile(t, tenantsFile, "# nobody\n")
	if err := <-reloads; err != nil {
		t.Fatal(err)
	}
	if got := status(simulator.FabrikamTenantID); got != 403 {
		t.Errorf("fabrikam after the file was emptied: %d, want 403", got)
	}
}

// startServe starts serve with cfg against sim and returns the proxy's URL
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
	checkEnv(t, sim, env)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// keyLine is a client keys file line: key's SHA-256, then its tenants.
func keyLine(key, tenants string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:]) + " " + tenants + "\n"
}

// startServeAdmin starts serve and returns the proxy's and the admin
// listener's URLs and the reload outcomes.
func startServeAdmin(t *testing.T, cfg *config.Config, roots *x509.CertPool) (string, string, chan error) {
	t.Helper()
	l, reloads := startServeListening(t, cfg, roots)
	return "http://" + l.proxy.String(), "http://" + l.admin.String(), reloads
}

// startServeListening starts serve, stopped when the test ends, and
// returns the addresses it listens on and the reload outcomes.
func startServeListening(t *testing.T, cfg *config.Config, roots *x509.CertPool) (listening, chan error) {
	t.Helper()
	reloads := make(chan error)
	addrs := make(chan listening, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, logging.New(io.Discard, cfg.LogLevel, "json"), serveOptions{
			roots:          roots,
			reloadInterval: 5e6, // 5ms
			reloaded: func(err error) {
				select {
				case reloads <- err:
				case <-ctx.Done():
				}
			},
			onListening: func(l listening) { addrs <- l },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case l := <-addrs:
		return l, reloads
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	return listening{}, nil
}

func TestSecretFileRotation(t *testing.T) {
	sim := startTestSim(t)
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte("an-old-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig(t, sim, map[string]string{
		"XDRPROXY_CLIENT_SECRET":      "",
		"XDRPROXY_CLIENT_SECRET_FILE": secretFile,
	})
	proxyURL, reloads := startServe(t, sim, cfg)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	get := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", proxyURL+"/api/incidents?$top=1", nil)
		req.Header.Set("X-Tenant-ID", "contoso")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}

	if code, body := get(); code != 502 || !strings.Contains(body, "AADSTS7000215") {
		t.Fatalf("with the old secret: %d %s", code, body)
	}
	swapFile(t, secretFile, simulator.DefaultClientSecret+"\n")
	if err := <-reloads; err != nil {
		t.Fatalf("rotation refused: %v", err)
	}
	// The rotation ended the credential failure's backoff.
	if code, body := get(); code != 200 {
		t.Fatalf("after rotation: %d %s", code, body)
	}
	before := sim.TokenRequests(simulator.ContosoTenantID)

	swapFile(t, secretFile, "")
	if err := <-reloads; err == nil {
		t.Fatal("an empty secret file was applied")
	}
	swapFile(t, secretFile, "a-newer-secret-not-yet-known-to-entra\n")
	if err := <-reloads; err != nil {
		t.Fatal(err)
	}
	// Tokens acquired with the previous secret stay valid.
	if code, _ := get(); code != 200 {
		t.Errorf("a cached token after another rotation: %d", code)
	}
	if after := sim.TokenRequests(simulator.ContosoTenantID); after != before {
		t.Errorf("the rotation made %d token requests for a tenant with a valid token", after-before)
	}
}

func TestClientKeysFileReload(t *testing.T) {
	sim := startTestSim(t)
	keysFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keysFile, []byte(keyLine("old-key", "*")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig(t, sim, map[string]string{"XDRPROXY_CLIENT_KEYS_FILE": keysFile})
	proxyURL, reloads := startServe(t, sim, cfg)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	status := func(key string) int {
		t.Helper()
		return incidentsStatus(t, client, proxyURL, http.Header{"X-Tenant-Id": {"contoso"}, "Authorization": {"Bearer " + key}})
	}
	if got := status("old-key"); got != 200 {
		t.Fatalf("old key: %d", got)
	}
	swapFile(t, keysFile, keyLine("new-key", "contoso"))
	if err := <-reloads; err != nil {
		t.Fatal(err)
	}
	if got, want := status("old-key"), 401; got != want {
		t.Errorf("revoked key: %d, want %d", got, want)
	}
	if got := status("new-key"); got != 200 {
		t.Errorf("new key: %d", got)
	}
	swapFile(t, keysFile, "new-key contoso\n") // a key pasted instead of its hash
	if err := <-reloads; err == nil {
		t.Fatal("a malformed keys file was applied")
	}
	if got := status("new-key"); got != 200 {
		t.Errorf("after a malformed file the keys must stay: %d", got)
	}
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
