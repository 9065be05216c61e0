package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// TestHostileRequests sends raw requests to the real serve listener (its
// timeouts and header cap as in production) and checks what reaches the
// upstream.
func TestHostileRequests(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	var mu sync.Mutex
	var seen []*http.Request
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Clone(r.Context()))
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer upstream.Close()
	roots, _ := sim.CertPool()
	roots = roots.Clone()
	roots.AddCert(upstream.Certificate())
	cfg := serveConfig(t, sim, map[string]string{"XDRPROXY_UPSTREAM_URL": upstream.URL})
	proxyURL, _ := startServeWith(t, cfg, roots)
	addr := strings.TrimPrefix(proxyURL, "http://")

	raw := func(req string) (int, string) {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, req)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return 0, err.Error()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// A second response on the same connection would mean a request
		// was smuggled in the first one's body.
		if resp.Close || resp.StatusCode >= 400 {
			return resp.StatusCode, string(body)
		}
		if extra, err := http.ReadResponse(br, nil); err == nil {
			extra.Body.Close()
			return resp.StatusCode, string(body) + fmt.Sprintf(" + a second response %d", extra.StatusCode)
		}
		return resp.StatusCode, string(body)
	}
	reset := func() { mu.Lock(); seen = nil; mu.Unlock() }
	upstreamSaw := func() []*http.Request { mu.Lock(); defer mu.Unlock(); return append([]*http.Request(nil), seen...) }

	t.Run("Connection header names the injected headers", func(t *testing.T) {
		reset()
		code, body := raw("GET /api/incidents HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\nAuthorization: Bearer mine\r\nConnection: close, Authorization, X-Tenant-ID\r\n\r\n")
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		got := upstreamSaw()
		if len(got) != 1 {
			t.Fatalf("upstream saw %d requests", len(got))
		}
		auth := got[0].Header.Values("Authorization")
		if len(auth) != 1 || strings.Contains(auth[0], "mine") {
			t.Fatalf("upstream Authorization = %d values (client's present: %v)", len(auth), strings.Contains(strings.Join(auth, ""), "mine"))
		}
		if claims, err := sim.ParseToken(strings.TrimPrefix(auth[0], "Bearer ")); err != nil || claims.TenantID != simulator.ContosoTenantID {
			t.Errorf("the upstream's token is not contoso's: %v", err)
		}
	})
	t.Run("Content-Length and Transfer-Encoding together", func(t *testing.T) {
		reset()
		smuggled := "GET /smuggled HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\n\r\n"
		code, body := raw("POST /api/advancedhunting/run HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\nContent-Length: " +
			fmt.Sprint(len(smuggled)+5) + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n" + smuggled)
		for _, r := range upstreamSaw() {
			if r.URL.Path == "/smuggled" {
				t.Fatalf("a request was smuggled to the upstream (client got %d %s)", code, body)
			}
		}
	})
	for _, tt := range []struct {
		name, req string
		want      int
	}{
		{"CR inside a header value", "GET /api/incidents HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: con\rtoso\r\n\r\n", 400},
		{"header without a colon", "GET /api/incidents HTTP/1.1\r\nHost: x\r\nX-Tenant-ID contoso\r\n\r\n", 400},
		{"oversized headers", "GET /api/incidents HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", 431},
		{"encoded dot-dot", "GET /tenants/contoso/%2e%2e/fabrikam/api/incidents HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"absolute URI to another host", "GET http://evil.example/api/incidents HTTP/1.1\r\nHost: evil.example\r\nX-Tenant-ID: contoso\r\nConnection: close\r\n\r\n", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reset()
			code, body := raw(tt.req)
			if code != tt.want {
				t.Fatalf("status %d, want %d: %.200s", code, tt.want, body)
			}
			for _, r := range upstreamSaw() {
				if tt.want != 200 || r.Host != strings.TrimPrefix(upstream.URL, "https://") {
					t.Fatalf("the upstream received %s %s (Host %s)", r.Method, r.URL.Path, r.Host)
				}
			}
		})
	}
}
