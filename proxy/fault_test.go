package proxy_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// TestEntraFaults injects Entra ID faults for one tenant and checks what
// its clients get, what Entra ID received, that the other tenant keeps
// working, and that nothing leaked.
func TestEntraFaults(t *testing.T) {
	for _, tt := range []struct {
		name       string
		status     int
		oauthError string
		code       int
		class      string
	}{
		{"Entra 500", 500, "server_error", 0, "failing for now"},
		{"Entra 503 temporarily unavailable", 503, "temporarily_unavailable", 0, "failing for now"},
		{"Entra 429 with Retry-After", 429, "invalid_request", 90055, "throttling"},
		{"no consent", 400, "unauthorized_client", 700016, "admin consent"},
		{"expired secret", 401, "invalid_client", 7000222, "rotate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sim := &simulator.Server{}
			backend := newBackend(t, nil)
			s := newStack(t, stackOptions{sim: sim, upstream: backend.URL(), roots: backend.Roots()})
			sim.FailTokens(simulator.ContosoTenantID, tt.status, tt.oauthError, tt.code, -1)
			for i := 0; i < 20; i++ {
				resp, body := s.do(t, "GET", "/api/incidents", tenantHeader("contoso"), nil)
				if resp.StatusCode != 502 || !strings.Contains(string(body), "TokenAcquisitionFailed") || !strings.Contains(string(body), tt.class) {
					t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
				}
			}
			if n := sim.TokenRequests(simulator.ContosoTenantID); n != 1 {
				t.Errorf("20 requests during the fault made %d token requests, want 1 (backoff)", n)
			}
			if resp, _ := s.do(t, "GET", "/api/incidents", tenantHeader("fabrikam"), nil); resp.StatusCode != 200 {
				t.Errorf("the other tenant: %d", resp.StatusCode)
			}
			if len(backend.Requests()) != 1 {
				t.Errorf("the upstream saw %d requests, want only fabrikam's", len(backend.Requests()))
			}
			if strings.Contains(s.logs.String(), simulator.DefaultClientSecret) || strings.Contains(s.logs.String(), "eyJ") {
				t.Error("a secret or token reached the log")
			}
		})
	}
}

func TestEntraUnreachable(t *testing.T) {
	dead, _ := url.Parse("https://127.0.0.1:1")
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), authority: dead})
	resp, body := s.do(t, "GET", "/api/incidents", tenantHeader("contoso"), nil)
	if resp.StatusCode != 502 || !strings.Contains(string(body), "could not be reached") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if len(backend.Requests()) != 0 {
		t.Error("a request went upstream without a token")
	}
}

func TestEntraSlowerThanTheClient(t *testing.T) {
	release := make(chan struct{})
	sim := &simulator.Server{BeforeToken: func(http.ResponseWriter, *http.Request, string) bool { <-release; return false }}
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{sim: sim, upstream: backend.URL(), roots: backend.Roots()})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.proxyURL+"/api/incidents", nil)
	req.Header.Set("X-Tenant-ID", "contoso")
	if _, err := s.client.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("client got %v, want its own deadline", err)
	}
	close(release) // Entra ID answers after the client gave up
	// The acquisition was not cancelled with the client: the next request
	// is served without asking Entra ID again.
	if resp, _ := s.do(t, "GET", "/api/incidents", tenantHeader("contoso"), nil); resp.StatusCode != 200 {
		t.Fatalf("next request: %d", resp.StatusCode)
	}
	if n := sim.TokenRequests(simulator.ContosoTenantID); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestClientDisconnectMidStreamCancelsUpstream(t *testing.T) {
	upstreamDone := make(chan error, 1)
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 32<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				upstreamDone <- err
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				upstreamDone <- r.Context().Err()
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.proxyURL+"/api/stream", nil)
	req.Header.Set("X-Tenant-ID", "contoso")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadFull(resp.Body, make([]byte, 64<<10))
	cancel()
	resp.Body.Close()
	select {
	case <-upstreamDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request went on after the client left")
	}
}

func TestBogusTenantsCostNothing(t *testing.T) {
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), discardLogs: true})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 10000; i++ {
		name := uuid.NewString()
		if i%2 == 1 {
			name = "alias-" + name[:8]
		}
		resp, _ := s.do(t, "GET", "/api/incidents", tenantHeader(name), nil)
		if resp.StatusCode != 403 && resp.StatusCode != 400 {
			t.Fatalf("bogus tenant %q: %d", name, resp.StatusCode)
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if s.sim.TotalTokenRequests() != 0 || s.cache.Len() != 0 || len(backend.Requests()) != 0 {
		t.Fatalf("bogus tenants reached Entra ID (%d), the cache (%d) or the upstream (%d)", s.sim.TotalTokenRequests(), s.cache.Len(), len(backend.Requests()))
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap growth after 10,000 bogus tenants: %+d KiB", grown>>10)
	if grown > 1<<20 {
		t.Errorf("the heap grew %d KiB after 10,000 rejected tenants", grown>>10)
	}
}
