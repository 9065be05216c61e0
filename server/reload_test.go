package server

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

func TestTenantsFileReload(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
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

func TestSecretFileRotation(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte("an-old-secret-entra-does-not-know\n"), 0o600); err != nil {
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
	swapFile(t, secretFile, "15-characters!!\n")
	if err := <-reloads; err == nil || !strings.Contains(err.Error(), "15 characters long") || strings.Contains(err.Error(), "15-characters!!") {
		t.Fatalf("a secret of 15 characters: %v, want it refused without being shown", err)
	}
	if code, _ := get(); code != 200 {
		t.Errorf("after a refused rotation: %d, want 200 (the current secret kept)", code)
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
	sim := testutil.StartSimulator(t, nil)
	keysFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keysFile, []byte(testutil.KeyLine("old-key", "*")), 0o600); err != nil {
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
	swapFile(t, keysFile, testutil.KeyLine("new-key", "contoso"))
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
