package server

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// TestStuckBodiesHoldNoListener: on every listener, a client that
// announces a body, sends a byte and stops gets its answer at once, and
// its connection is closed.
func TestStuckBodiesHoldNoListener(t *testing.T) {
	sim := &simulator.Server{}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	keys := filepath.Join(t.TempDir(), "client-keys")
	if err := os.WriteFile(keys, []byte(testutil.KeyLine("a-client-key-for-tests", "*")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig(t, sim, map[string]string{
		"XDRPROXY_CLIENT_KEYS_FILE": keys,
		"XDRPROXY_TOKEN_EMULATION":  "true",
		"XDRPROXY_TENANT_LISTENERS": "127.0.0.1:0=" + simulator.ContosoTenantID,
	})
	roots, _ := sim.CertPool()
	l, _ := startServeListening(t, cfg, roots)
	stuck := func(method, path string) string {
		return method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ng"
	}
	for _, tc := range []struct {
		name, addr, raw string
	}{
		{"proxy listener, no key", l.Proxy.String(), stuck("POST", "/api/advancedhunting/run")},
		{"tenant listener, no key", l.Tenants[0].String(), stuck("PUT", "/api/x")},
		{"admin listener", l.Admin.String(), stuck("POST", "/healthz")},
		{"admin listener, unknown path", l.Admin.String(), stuck("POST", "/nothing")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, closed := testutil.RawExchange(t, tc.addr, tc.raw, 2*time.Second)
			if !closed || !resp.Close {
				t.Errorf("%d %s: Connection: close %v, closed %v", resp.StatusCode, body, resp.Close, closed)
			}
		})
	}
}
