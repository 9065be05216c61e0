package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

func TestQueuedRequestsHonourALaterHoldAndDrain(t *testing.T) {
	var throttle atomic.Bool
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if throttle.Load() {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"code":"TooManyRequests"}}`)
			return
		}
		io.WriteString(w, "ok")
	})
	lim, _ := config.ParseRateLimits("/api/incidents=1/s")
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), rateLimits: lim, queueTimeout: 10 * time.Second})
	if resp, _ := s.do(t, "GET", "/api/incidents", tenantHeader("contoso"), nil); resp.StatusCode != 200 {
		t.Fatal("first request")
	}
	// Two requests queue for the next two seconds; the upstream now
	// throttles. The first to leave gets the upstream's 429 and its
	// Retry-After holds the tenant; the second must not go upstream.
	throttle.Store(true)
	bodies := make(chan string, 2)
	for i := 0; i < 2; i++ {
		go func() {
			_, body := s.do(t, "GET", "/api/incidents", tenantHeader("contoso"), nil)
			bodies <- string(body)
		}()
	}
	got := []string{<-bodies, <-bodies}
	upstream429, proxy429 := 0, 0
	for _, b := range got {
		switch {
		case strings.Contains(b, "TooManyRequests"):
			upstream429++
		case strings.Contains(b, "RateLimited"):
			proxy429++
		}
	}
	if upstream429 != 1 || proxy429 != 1 {
		t.Errorf("queued requests got %q; want one upstream 429 and one proxy 429", got)
	}
	if n := len(backend.Requests()); n != 2 {
		t.Errorf("the upstream saw %d requests, want 2 (the hold must stop the queued one)", n)
	}

	// Drain: a request queued for its limit gives up with 503 at once.
	lim2, _ := config.ParseRateLimits("/api/machines=1/h")
	s2 := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), rateLimits: lim2, queueTimeout: time.Hour})
	throttle.Store(false)
	if resp, _ := s2.do(t, "GET", "/api/machines", tenantHeader("contoso"), nil); resp.StatusCode != 200 {
		t.Fatal("first machines request")
	}
	queued := make(chan int, 1)
	go func() {
		resp, _ := s2.do(t, "GET", "/api/machines", tenantHeader("contoso"), nil)
		queued <- resp.StatusCode
	}()
	s2.handler.Drain() // whether the request queued before or after, it gives up
	select {
	case got := <-queued:
		if got != 503 {
			t.Errorf("a queued request at shutdown got %d, want 503 ShuttingDown", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the queued request held up the drain")
	}
}
