package proxy_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// revokingBackend refuses, with 401, every token in revoked (the first
// token it sees is revoked when revokeFirst is set), and echoes the body.
type revokingBackend struct {
	mu          sync.Mutex
	revoked     map[string]bool
	revokeFirst bool
	always401   bool
}

func (b *revokingBackend) handle(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	b.mu.Lock()
	if b.revokeFirst {
		b.revoked[tok], b.revokeFirst = true, false
	}
	refused := b.always401 || b.revoked[tok]
	b.mu.Unlock()
	if refused {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"code":"Unauthorized","message":"token revoked"}}`)
		return
	}
	io.Copy(w, r.Body)
}

func TestUpstream401(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 100<<10)
	tests := []struct {
		name          string
		method        string
		body          []byte
		always401     bool
		status        int
		upstreamCalls int
		tokenRequests int
	}{
		{"GET is retried with a new token", "GET", nil, false, 200, 2, 2},
		{"small POST is replayed with its body", "POST", []byte(`{"Query":"DeviceEvents | take 1"}`), false, 200, 2, 2},
		{"large streamed body is not replayed", "POST", big, false, 401, 1, 1},
		{"a second 401 goes back: never a loop", "GET", nil, true, 401, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := &revokingBackend{revoked: map[string]bool{}, revokeFirst: !tt.always401, always401: tt.always401}
			backend := newBackend(t, rb.handle)
			s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
			var body io.Reader
			if tt.body != nil {
				body = bytes.NewReader(tt.body)
			}
			resp, got := s.do(t, tt.method, "/api/advancedhunting/run", tenantHeader("contoso"), body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tt.status, got)
			}
			if tt.status == 200 && !bytes.Equal(got, tt.body) {
				t.Errorf("the replayed body reached the upstream as %q", got)
			}
			if n := len(backend.Requests()); n != tt.upstreamCalls {
				t.Errorf("upstream calls = %d, want %d", n, tt.upstreamCalls)
			}
			if n := s.sim.TokenRequests(simulator.ContosoTenantID); n != tt.tokenRequests {
				t.Errorf("token requests = %d, want %d", n, tt.tokenRequests)
			}
			// Either way the refused token is gone: the next request
			// uses the token acquired after the 401.
			if !tt.always401 {
				if resp, _ := s.do(t, "GET", "/api/x", tenantHeader("contoso"), nil); resp.StatusCode != 200 {
					t.Errorf("next request: %d", resp.StatusCode)
				}
				if n := s.sim.TokenRequests(simulator.ContosoTenantID); n != 2 {
					t.Errorf("token requests after the next request = %d, want still 2", n)
				}
			}
		})
	}
}

func TestManyConcurrent401sCauseOneNewToken(t *testing.T) {
	rb := &revokingBackend{revoked: map[string]bool{}}
	backend := newBackend(t, rb.handle)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	if resp, _ := s.do(t, "GET", "/api/x", tenantHeader("contoso"), nil); resp.StatusCode != 200 {
		t.Fatal("warm-up request failed")
	}
	// Revoke the token now in use.
	first := strings.TrimPrefix(backend.Requests()[0].Header.Get("Authorization"), "Bearer ")
	rb.mu.Lock()
	rb.revoked[first] = true
	rb.mu.Unlock()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", s.proxyURL+"/api/x", nil)
			req.Header.Set("X-Tenant-ID", "contoso")
			resp, err := s.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if n := s.sim.TokenRequests(simulator.ContosoTenantID); n != 2 {
		t.Errorf("50 requests refused at once made %d token requests in all, want 2", n)
	}
}

func TestAnEndpointThatAlwaysRefusesDoesNotHammerEntra(t *testing.T) {
	rb := &revokingBackend{revoked: map[string]bool{}, always401: true}
	backend := newBackend(t, rb.handle)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	for i := 0; i < 20; i++ {
		if resp, _ := s.do(t, "GET", "/api/unsupported", tenantHeader("contoso"), nil); resp.StatusCode != 401 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	if n := s.sim.TokenRequests(simulator.ContosoTenantID); n > 2 {
		t.Errorf("20 refused requests made %d token requests, want at most 2 (one forced refresh per 30 s)", n)
	}
	if n := len(backend.Requests()); n > 21 {
		t.Errorf("the upstream saw %d requests for 20 client requests", n)
	}
}
