package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/logging"
)

// adminKeyLine is an admin keys file line: key's SHA-256 alone.
func adminKeyLine(key string) string {
	return strings.Fields(testutil.KeyLine(key, "*"))[0] + "\n"
}

// adminStatus sends GET path to the admin listener with key (none if
// empty) and returns the status.
func adminStatus(t *testing.T, client *http.Client, adminURL, path, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", adminURL+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAdminKeysFile: with XDRPROXY_ADMIN_KEYS_FILE set, /tenants needs an
// admin key (a client key is not one), the probes and metrics do not,
// and a change of the file is applied while a malformed one is not.
func TestAdminKeysFile(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	dir := t.TempDir()
	adminFile := filepath.Join(dir, "admin-keys")
	if err := os.WriteFile(adminFile, []byte(adminKeyLine("admin-key-1")), 0o600); err != nil {
		t.Fatal(err)
	}
	clientFile := filepath.Join(dir, "client-keys")
	if err := os.WriteFile(clientFile, []byte(testutil.KeyLine("client-key", "*")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig(t, sim, map[string]string{
		"XDRPROXY_ADMIN_KEYS_FILE":  adminFile,
		"XDRPROXY_CLIENT_KEYS_FILE": clientFile,
	})
	roots, _ := sim.CertPool()
	proxyURL, adminURL, reloads := startServeAdmin(t, cfg, roots)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	for _, tt := range []struct {
		path, key string
		want      int
	}{
		{"/tenants", "", 401},
		{"/tenants", "client-key", 401},
		{"/tenants", "admin-key-2", 401},
		{"/tenants", "admin-key-1", 200},
		{"/tenants/contoso/retry", "", 401},
		{"/healthz", "", 200},
		{"/metrics", "", 200},
	} {
		if got := adminStatus(t, client, adminURL, tt.path, tt.key); got != tt.want {
			t.Errorf("%s with key %q: %d, want %d", tt.path, tt.key, got, tt.want)
		}
	}
	if got := incidentsStatus(t, client, proxyURL, http.Header{"X-Tenant-Id": {"contoso"}, "Authorization": {"Bearer admin-key-1"}}); got != 401 {
		t.Errorf("the admin key on the proxy: %d, want 401 (an admin key is not a client key)", got)
	}

	swapFile(t, adminFile, adminKeyLine("admin-key-2"))
	if err := <-reloads; err != nil {
		t.Fatalf("rotating the admin key: %v", err)
	}
	if old, cur := adminStatus(t, client, adminURL, "/tenants", "admin-key-1"), adminStatus(t, client, adminURL, "/tenants", "admin-key-2"); old != 401 || cur != 200 {
		t.Errorf("after rotation: old key %d (want 401), new key %d (want 200)", old, cur)
	}

	swapFile(t, adminFile, "admin-key-3\n") // a key pasted instead of its hash
	if err := <-reloads; err == nil || strings.Contains(err.Error(), "admin-key-3") {
		t.Fatalf("a malformed admin keys file: %v, want it refused without being shown", err)
	}
	if got := adminStatus(t, client, adminURL, "/tenants", "admin-key-2"); got != 200 {
		t.Errorf("after a malformed file the keys must stay: %d", got)
	}

	swapFile(t, adminFile, "# every admin key revoked\n")
	if err := <-reloads; err != nil {
		t.Fatal(err)
	}
	if got := adminStatus(t, client, adminURL, "/tenants", "admin-key-2"); got != 401 {
		t.Errorf("with no admin key left: %d, want 401", got)
	}
}

// TestStartWarnsOfAdminWithoutKeys: an admin listener off loopback
// without admin keys is a warning at start, not an error.
func TestStartWarnsOfAdminWithoutKeys(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	for _, tt := range []struct {
		addr string
		warn bool
	}{
		{"0.0.0.0:9090", true},
		{"127.0.0.1:9090", false},
	} {
		cfg := serveConfig(t, sim, map[string]string{"XDRPROXY_ADMIN_ADDR": tt.addr})
		var buf testutil.SyncBuffer
		logStart(cfg, logging.New(&buf, zapcore.InfoLevel, "json"), "test")
		warned := strings.Contains(buf.String(), `"level":"warn"`) && strings.Contains(buf.String(), "XDRPROXY_ADMIN_KEYS_FILE is not set")
		if warned != tt.warn {
			t.Errorf("admin on %s: warned %v, want %v:\n%s", tt.addr, warned, tt.warn, buf.String())
		}
	}
}
