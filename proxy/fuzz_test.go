package proxy

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// staticTokens hands out "tok-<tenant>" without any network.
type staticTokens struct{}

func (staticTokens) Token(_ context.Context, tenantID, _ string) (tokencache.Token, error) {
	return tokencache.Token{Value: "tok-" + tenantID, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// recordingTransport records outbound requests and answers 200.
type recordingTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, r)
	rt.mu.Unlock()
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// FuzzDestination checks the proxy's central promise for any request line,
// Host header and tenant header: a request either is refused, or goes to
// the configured upstream only, with the token of the tenant it resolved
// to, without X-Tenant-ID, with its query unchanged, and on a path free of
// dot segments.
func FuzzDestination(f *testing.F) {
	seeds := [][3]string{
		{"/api/incidents", "127.0.0.1:8080", "contoso"},
		{"http://evil.example/api/incidents", "evil.example", "contoso"},
		{"//evil.example/x", "evil.example", ""},
		{"/tenants/fabrikam/api/x?y=1", "h", ""},
		{"/tenants/contoso/../fabrikam/api", "h", ""},
		{"/api/%2e%2e/x", "h", "contoso"},
		{"/tenants/%63ontoso/api", "h", ""},
		{"https://user:pw@evil.example:443/api", "evil.example", "FABRIKAM"},
		{"*", "h", "contoso"},
		{"/tenants/22222222-2222-4222-8222-222222222222", "h", "contoso"},
		{"/api/incidents?$expand=alerts($top=1;$skip=2)&x=%zz", "h", "contoso"},
		{"/graph/security/incidents", "graph.test", "contoso"},
		{"/tenants/contoso/graph/beta/../x", "h", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	upstream, _ := url.Parse("https://upstream.test:8443/base")
	routes, err := config.ParseRoutes("/graph/=https://graph.test/v1.0,/graph/beta/=https://beta.test")
	if err != nil {
		f.Fatal(err)
	}
	tenants, _ := config.NewTenantSet([]config.Tenant{
		{ID: "11111111-1111-4111-8111-111111111111", Alias: "contoso"},
		{ID: "22222222-2222-4222-8222-222222222222", Alias: "fabrikam"},
	})
	f.Fuzz(func(t *testing.T, target, host, tenant string) {
		raw := "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n"
		if tenant != "" {
			raw += "X-Tenant-ID: " + tenant + "\r\n"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n")))
		if err != nil {
			return // not a request a server would accept
		}
		rt := &recordingTransport{}
		h, err := New(Options{Upstream: upstream, Scope: "s", Tenants: tenants, Routes: routes, Tokens: staticTokens{}, Transport: rt})
		if err != nil {
			t.Fatal(err)
		}
		rawQuery := req.URL.RawQuery
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if len(rt.reqs) == 0 {
			if rec.Code < 400 {
				t.Fatalf("nothing forwarded but status %d", rec.Code)
			}
			return
		}
		out := rt.reqs[0]
		wantHost, wantBase := upstream.Host, "/base"
		switch out.URL.Host {
		case "graph.test":
			wantHost, wantBase = "graph.test", "/v1.0"
		case "beta.test":
			wantHost, wantBase = "beta.test", ""
		}
		if out.URL.Scheme != "https" || out.URL.Host != wantHost || (out.Host != "" && out.Host != wantHost) {
			t.Fatalf("request went to %s://%s (Host %q), want %s", out.URL.Scheme, out.URL.Host, out.Host, wantHost)
		}
		if !strings.HasPrefix(out.URL.Path, wantBase+"/") && out.URL.Path != wantBase {
			t.Fatalf("path %q escapes the upstream's base path %q", out.URL.Path, wantBase)
		}
		if out.URL.RawQuery != rawQuery {
			t.Fatalf("query %q forwarded as %q", rawQuery, out.URL.RawQuery)
		}
		if hasDotSegment(out.URL.Path) {
			t.Fatalf("forwarded path %q has dot segments", out.URL.Path)
		}
		if _, ok := out.Header["X-Tenant-Id"]; ok {
			t.Fatal("X-Tenant-ID was forwarded")
		}
		auth := out.Header.Values("Authorization")
		if len(auth) != 1 || !strings.HasPrefix(auth[0], "Bearer tok-") {
			t.Fatalf("Authorization = %q", auth)
		}
		if _, ok := tenants.Lookup(strings.TrimPrefix(auth[0], "Bearer tok-")); !ok {
			t.Fatalf("token of an unconfigured tenant: %q", auth[0])
		}
	})
}
