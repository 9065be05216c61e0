package proxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
)

// cannedTransport answers every request with a small JSON body, without a
// network: the benchmark measures the proxy's own work.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
	}
	return &http.Response{
		StatusCode: 200, ProtoMajor: 1, ProtoMinor: 1, Request: r,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(`{"value":[]}`)),
		ContentLength: 12,
	}, nil
}

// BenchmarkHandlerCachedToken is the hot path: tenant resolution, a
// cached token, the rate limiter's built-in table, the rewrite and the
// access log (discarded), for one request.
func BenchmarkHandlerCachedToken(b *testing.B) {
	upstream, _ := url.Parse("https://api.security.microsoft.com")
	tenants, _ := config.NewTenantSet([]config.Tenant{{ID: "11111111-1111-4111-8111-111111111111", Alias: "contoso"}})
	h, err := New(Options{Upstream: upstream, Scope: "s", Tenants: tenants, Tokens: staticTokens{}, Transport: cannedTransport{},
		RateLimits: nil})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/incidents?$top=10", nil)
	req.Header.Set("X-Tenant-ID", "contoso")
	serveEach(b, h, req)
}

// BenchmarkHandlerManyTenants is BenchmarkHandlerCachedToken with the
// requests spread over n tenants: the per-request cost must not depend
// on how many tenants the proxy serves.
func BenchmarkHandlerManyTenants(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
			upstream, _ := url.Parse("https://api.security.microsoft.com")
			list := make([]config.Tenant, n)
			for i := range list {
				list[i] = config.Tenant{ID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)}
			}
			tenants, _ := config.NewTenantSet(list)
			h, err := New(Options{Upstream: upstream, Scope: "s", Tenants: tenants, Tokens: staticTokens{}, Transport: cannedTransport{},
				RateLimits: config.DefaultRateLimits, QueueTimeout: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			reqs := make([]*http.Request, min(n, 1000))
			for i := range reqs {
				reqs[i] = httptest.NewRequest("GET", "/api/healthcheck/x", nil) // matched against the table, never limited
				reqs[i].Header.Set("X-Tenant-ID", list[(i*7919)%n].ID)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, reqs[i%len(reqs)])
				i++
			}
		})
	}
}

// BenchmarkHandlerPlaceholder is BenchmarkHandlerCachedToken with the
// tenant named by a placeholder bearer token instead of a header: the
// signature is verified once per token, then served from the verified
// cache, so a legacy tool pays about what a header costs.
func BenchmarkHandlerPlaceholder(b *testing.B) {
	upstream, _ := url.Parse("https://api.security.microsoft.com")
	tenants, _ := config.NewTenantSet([]config.Tenant{{ID: "11111111-1111-4111-8111-111111111111", Alias: "contoso"}})
	signer, err := placeholder.NewSigner(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(Options{Upstream: upstream, Scope: "s", Tenants: tenants, Tokens: staticTokens{}, Transport: cannedTransport{}, Placeholders: signer})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := signer.Mint(placeholder.Claims{TenantID: "11111111-1111-4111-8111-111111111111", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/incidents?$top=10", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	serveEach(b, h, req)
}

// BenchmarkReverseProxyFloor is the floor under BenchmarkHandlerCachedToken:
// a bare httputil.ReverseProxy that only sets the upstream and a bearer
// header, on the same request, transport, recorder and copy buffers. The
// difference between the two is what the proxy's own steps cost.
func BenchmarkReverseProxyFloor(b *testing.B) {
	upstream, _ := url.Parse("https://api.security.microsoft.com")
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Header.Set("Authorization", "Bearer token")
		},
		Transport:  cannedTransport{},
		BufferPool: bufferPool{},
	}
	req := httptest.NewRequest("GET", "/api/incidents?$top=10", nil)
	serveEach(b, rp, req)
}

// serveEach has h serve req once an iteration of b, in memory, and fails
// b on an answer other than 200.
func serveEach(b *testing.B, h http.Handler, req *http.Request) {
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}
