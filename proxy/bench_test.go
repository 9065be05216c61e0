package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
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
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}
