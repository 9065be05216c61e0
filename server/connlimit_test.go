package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// With XDRPROXY_MAX_CONNECTIONS=50 and 200 idle connections on the proxy
// listener (and 100 on the admin listener, capped at 64), a keyed request
// and /healthz still succeed: the header timeout closes the idle ones, at
// most 50 (64) at a time.
func TestIdleFloodUnderTheConnectionCap(t *testing.T) {
	const timeout = 300 * time.Millisecond
	sim := testutil.StartSimulator(t, nil)
	roots, _ := sim.CertPool()
	keys := filepath.Join(t.TempDir(), "client-keys")
	if err := os.WriteFile(keys, []byte(testutil.KeyLine(gwKey, "*")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig(t, sim, map[string]string{"XDRPROXY_MAX_CONNECTIONS": "50", "XDRPROXY_CLIENT_KEYS_FILE": keys})
	l, _ := startServeOptions(t, cfg, Options{Roots: roots, HeaderTimeout: timeout})

	start := time.Now()
	flood := func(addr net.Addr, n int) []net.Conn {
		conns := make([]net.Conn, n)
		for i := range conns {
			c, err := net.Dial("tcp", addr.String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			c.SetDeadline(time.Now().Add(time.Minute))
			conns[i] = c
		}
		return conns
	}
	proxyFlood, adminFlood := flood(l.Proxy, 200), flood(l.Admin, 100)

	client := &http.Client{Timeout: time.Minute}
	req, _ := http.NewRequest(http.MethodGet, "http://"+l.Proxy.String()+"/api/incidents", nil)
	req.Header.Set("Authorization", "Bearer "+gwKey)
	req.Header.Set("X-Tenant-ID", "contoso")
	for name, req := range map[string]*http.Request{"keyed request": req, "/healthz": mustRequest(t, "http://"+l.Admin.String()+"/healthz")} {
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s during the flood: %v", name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s during the flood: %d", name, resp.StatusCode)
		}
	}
	client.CloseIdleConnections()

	// Every idle connection is closed by the server, and the last no
	// sooner than the cap allows: 200 held 50 at a time for a header
	// timeout each take four, 100 held 64 at a time take two.
	for _, f := range []struct {
		name   string
		conns  []net.Conn
		rounds int
	}{{"proxy", proxyFlood, 4}, {"admin", adminFlood, 2}} {
		var wg sync.WaitGroup
		for _, c := range f.conns {
			wg.Go(func() {
				if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("%s: an idle connection was not closed: %v", f.name, err)
				}
			})
		}
		wg.Wait()
		if took, least := time.Since(start), time.Duration(f.rounds)*timeout; took < least {
			t.Errorf("%s: %d idle connections were all closed after %v; a cap would take at least %v", f.name, len(f.conns), took, least)
		}
	}
}

// mustRequest is a GET request for url.
func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
