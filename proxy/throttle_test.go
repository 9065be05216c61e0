package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
)

func TestRateLimitedRequestsGet429(t *testing.T) {
	backend := newBackend(t, nil)
	lim, err := config.ParseRateLimits("/api/incidents=2/h")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), rateLimits: lim})
	for i := 0; i < 2; i++ {
		if resp, body := s.do(t, "GET", "/api/incidents", tenantHeader("contoso"), nil); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := s.do(t, "GET", "/api/incidents?$top=1", tenantHeader("contoso"), nil)
	if resp.StatusCode != 429 || !strings.Contains(string(body), `"code":"RateLimited"`) {
		t.Fatalf("third request in the hour: %d %s", resp.StatusCode, body)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || strings.ContainsAny(ra, ".:") {
		t.Errorf("Retry-After %q, want whole seconds", ra)
	}
	if n := len(backend.Requests()); n != 2 {
		t.Errorf("the upstream saw %d requests, want 2", n)
	}
	// One tenant's limit never slows another, nor other paths.
	if resp, _ := s.do(t, "GET", "/api/incidents", tenantHeader("fabrikam"), nil); resp.StatusCode != 200 {
		t.Errorf("fabrikam: %d", resp.StatusCode)
	}
	if resp, _ := s.do(t, "GET", "/api/machines", tenantHeader("contoso"), nil); resp.StatusCode != 200 {
		t.Errorf("contoso, another prefix: %d", resp.StatusCode)
	}
}

func TestUpstream429HoldsTenantAndPrefix(t *testing.T) {
	var throttle atomic.Bool
	throttle.Store(true)
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if throttle.Load() && strings.HasPrefix(r.URL.Path, "/api/advancedhunting") {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"code":"TooManyRequests","message":"slow down"}}`)
			return
		}
		io.WriteString(w, "ok")
	})
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), rateLimits: config.DefaultRateLimits})
	resp, body := s.do(t, "POST", "/api/advancedhunting/run", tenantHeader("contoso"), strings.NewReader(`{"Query":"x"}`))
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "30" || !strings.Contains(string(body), "TooManyRequests") {
		t.Fatalf("the upstream's 429 must pass back unchanged: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	before := len(backend.Requests())
	resp, body = s.do(t, "POST", "/api/advancedhunting/run", tenantHeader("contoso"), strings.NewReader(`{"Query":"x"}`))
	if resp.StatusCode != 429 || !strings.Contains(string(body), `"code":"RateLimited"`) {
		t.Fatalf("during the hold: %d %s, want the proxy's own 429", resp.StatusCode, body)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "30" && ra != "29" {
		t.Errorf("Retry-After during the hold = %q, want about 30", ra)
	}
	if n := len(backend.Requests()); n != before {
		t.Errorf("the hold let %d requests through to the upstream", n-before)
	}
	throttle.Store(false)
	if resp, _ := s.do(t, "POST", "/api/advancedhunting/run", tenantHeader("fabrikam"), strings.NewReader(`{"Query":"x"}`)); resp.StatusCode != 200 {
		t.Errorf("another tenant during the hold: %d", resp.StatusCode)
	}
	if resp, _ := s.do(t, "GET", "/api/incidents", tenantHeader("contoso"), nil); resp.StatusCode != 200 {
		t.Errorf("another prefix of the held tenant: %d", resp.StatusCode)
	}
}
