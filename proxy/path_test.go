package proxy_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
)

// rawRequest sends a request line and headers exactly as given, over a
// connection of its own, and reads the answer: no client library
// re-encodes the path or the method on the way.
func rawRequest(t *testing.T, proxyURL, method, target, headers string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(proxyURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: xdrproxy.test\r\n%sConnection: close\r\n\r\n", method, target, headers); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// errorCode is the code of a proxy error body, or "" when the body is not
// one.
func errorCode(body []byte) (code, message string) {
	var e struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	return e.Error.Code, e.Error.Message
}

// Every spelling of issue 14 and the ones found since: refused with 400
// InvalidPath and a message naming the rule, before a token is asked for,
// never reaching the upstream. Go's own server refuses a few (a bad
// escape) before the proxy sees them; those must be refused all the same.
func TestPathSpellings(t *testing.T) {
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	tests := []struct {
		name, path string
		says       string // in the message; "" when Go's server refuses it first
	}{
		{"backslash", `/api\incidents`, "backslash"},
		{"trailing backslash", `/api/incidents\`, "backslash"},
		{"encoded backslash", "/api%5Cincidents", "encoded / or \\"},
		{"encoded backslash, lower case", "/api%5cincidents", "encoded / or \\"},
		{"dot-dot then encoded backslash", "/api/incidents/..%5C..%5Cmachines", "encoded / or \\"},
		{"encoded slash", "/api/files/a%2Fb", "encoded / or \\"},
		{"encoded slash, lower case", "/api/files/a%2fb", "encoded / or \\"},
		{"prefix stripped, encoded slash", "/tenants/contoso/api/files/a%2Fb", "encoded / or \\"},
		{"semicolon", "/api/incidents;x=1", ";"},
		{"trailing semicolon", "/api/incidents;", ";"},
		{"encoded semicolon", "/api/incidents%3Bx", ";"},
		{"trailing dot", "/api/incidents.", "end in . or a space"},
		{"trailing encoded dot", "/api/incidents%2e", "end in . or a space"},
		{"trailing dots", "/api/incidents%2E%2E", "end in . or a space"},
		{"trailing space", "/api/incidents%20", "end in . or a space"},
		{"trailing space mid-path", "/api/incidents%20/1", "end in . or a space"},
		{"dot segment", "/api/./incidents", ". or .. segments"},
		{"dot-dot segment", "/api/machines/../incidents", ". or .. segments"},
		{"encoded dot-dot, mixed case", "/api/%2e%2E/incidents", ". or .. segments"},
		{"encoded dot-dot, upper case", "/api/%2E%2E/incidents", ". or .. segments"},
		{"double-encoded slash", "/api/files/a%252Fb", "encoded twice"},
		{"double-encoded slash, lower case", "/api/files/a%252fb", "encoded twice"},
		{"double-encoded backslash", "/api/incidents%255C", "encoded twice"},
		{"double-encoded dot-dot", "/api/%252e%252e/incidents", "encoded twice"},
		{"triple encoding", "/api/files/a%25252Fb", "encoded twice"},
		{"overlong slash", "/api/files/a%C0%AFb", "UTF-8"},
		{"overlong dot-dot", "/api/%c0%ae%c0%ae/incidents", "UTF-8"},
		{"overlong three-byte slash", "/api/files/a%E0%80%AFb", "UTF-8"},
		{"lone continuation byte", "/api/%80", "UTF-8"},
		{"raw overlong slash", "/api/files/a\xc0\xafb", "UTF-8"},
		{"NUL", "/api/incidents%00", "control character"},
		{"line feed", "/api/incidents%0A", "control character"},
		{"CR LF", "/api/incidents%0d%0aX-Injected:%20yes", "control character"},
		{"tab", "/api/inci%09dents", "control character"},
		{"DEL", "/api/incidents%7F", "control character"},
		{"C1 next line", "/api/incidents%C2%85", "control character"},
		{"fullwidth solidus", "/api%EF%BC%8Fincidents", "NFKC"},
		{"fullwidth reverse solidus", "/api%EF%BC%BCincidents", "NFKC"},
		{"fullwidth semicolon", "/api/incidents%EF%BC%9B", "NFKC"},
		{"fullwidth percent", "/api/a%EF%BC%852Fb", "NFKC"},
		{"trailing fullwidth full stop", "/api/incidents%EF%BC%8E", "end in . or a space"},
		{"trailing no-break space", "/api/incidents%C2%A0", "end in . or a space"},
		{"one-dot leader segment", "/api/%E2%80%A4/incidents", ". or .. segments"},
		{"percent without hex", "/api/%zz", ""},
		{"percent at the end", "/api/incidents%", ""},
		{"percent and one hex digit", "/api/incidents%4", ""},
		{"IIS %u escape", "/api/%u002fincidents", ""},
		{"raw control character", "/api/inci\x01dents", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawRequest(t, s.proxyURL, "GET", tt.path, "X-Tenant-ID: contoso\r\n")
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
			}
			code, msg := errorCode(body)
			switch {
			case tt.says == "" && code != "" && code != "InvalidPath":
				t.Errorf("code %s: %s", code, msg)
			case tt.says != "" && (code != "InvalidPath" || !strings.Contains(msg, tt.says)):
				t.Errorf("code %q message %q, want InvalidPath saying %q", code, msg, tt.says)
			}
		})
	}
	if n := len(backend.Requests()); n != 0 {
		t.Errorf("the upstream received %d refused requests: %v", n, backend.Requests())
	}
	if n := s.sim.TotalTokenRequests(); n != 0 {
		t.Errorf("refused requests made %d token requests", n)
	}
}

// A path in another case or spelling is the same path to the upstream: it
// counts against the same rate limit as the canonical form, and goes out
// as the client spelled it.
func TestPathSpellingsShareTheirRateLimit(t *testing.T) {
	backend := newBackend(t, nil)
	lim, err := config.ParseRateLimits("/api/incidents=2/m")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), rateLimits: lim})
	for _, p := range []string{"/api/incidents", "/API/Incidents"} {
		if resp, body := s.do(t, "GET", p, tenantHeader("contoso"), nil); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	resp, body := s.do(t, "GET", "/Api/INCIDENTS", tenantHeader("contoso"), nil)
	if code, _ := errorCode(body); resp.StatusCode != 429 || code != "RateLimited" {
		t.Fatalf("third request, spelled /Api/INCIDENTS: %d %s, want 429 RateLimited", resp.StatusCode, body)
	}
	if reqs := backend.Requests(); len(reqs) != 2 || reqs[1].Path != "/API/Incidents" {
		t.Errorf("the upstream saw %v, want 2 requests, the second as spelled", reqs)
	}

	// Each accepted spelling, first through (as the client spelled it),
	// takes the one slot of the canonical form.
	one, err := config.ParseRateLimits("/api/incidents=1/h")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, path, wantRaw string }{
		{"upper case", "/API/INCIDENTS/42", ""},
		{"escaped letter", "/api/%69ncidents", "/api/%69ncidents"},
		{"escaped upper-case letter", "/api/%49NCIDENTS", "/api/%49NCIDENTS"},
		{"repeated slashes", "//api//incidents", ""},
		{"trailing slash", "/api/incidents/", ""},
		{"tenant prefix in another case", "/TENANTS/contoso/Api/Incidents", ""},
		{"long s (folds to s)", "/api/incident%C5%BF", "/api/incident%C5%BF"},
		{"fullwidth i (NFKC)", "/api/%EF%BD%89ncidents", "/api/%EF%BD%89ncidents"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			backend := newBackend(t, nil)
			s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), rateLimits: one})
			resp, body := rawRequest(t, s.proxyURL, "GET", tt.path, "X-Tenant-ID: contoso\r\n")
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", tt.path, resp.StatusCode, body)
			}
			resp, body = s.do(t, "GET", "/api/incidents", tenantHeader("contoso"), nil)
			if code, _ := errorCode(body); resp.StatusCode != 429 || code != "RateLimited" {
				t.Errorf("/api/incidents after %s: %d %s, want 429: they are one path", tt.path, resp.StatusCode, body)
			}
			reqs := backend.Requests()
			if len(reqs) != 1 {
				t.Fatalf("the upstream saw %d requests, want 1", len(reqs))
			}
			want := strings.TrimPrefix(tt.path, "/TENANTS/contoso")
			if got := escapedPath(reqs[0]); got != want {
				t.Errorf("forwarded as %q (raw %q), want %q byte for byte", reqs[0].Path, reqs[0].RawPath, want)
			}
		})
	}
}

// escapedPath is the path a backend received, as it was spelled.
func escapedPath(r backendRequest) string {
	if r.RawPath != "" {
		return r.RawPath
	}
	return (&url.URL{Path: r.Path}).EscapedPath()
}

// Routes match in any case and spelling, and the route's prefix is the
// only part of the path that changes.
func TestRoutesMatchAnySpelling(t *testing.T) {
	defender := newBackend(t, nil)
	graph := newBackend(t, nil)
	roots := defender.Roots()
	roots.AddCert(graph.server.Certificate())
	graphURL := graph.URL()
	graphURL.Path = "/g/"
	routes, err := config.ParseRoutes("/graph/=" + graphURL.String() + "|https://graph.microsoft.com/.default")
	if err != nil {
		t.Fatal(err)
	}
	lim, err := config.ParseRateLimits("/graph/v1.0/security=1/h")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, stackOptions{upstream: defender.URL(), roots: roots, routes: routes, rateLimits: lim})
	spellings := []struct{ path, forwarded string }{
		{"/GRAPH/v1.0/Security/Incidents", "/g/v1.0/Security/Incidents"},
		{"/Graph/beta/x%3Ay", "/g/beta/x%3Ay"},
		{"/%67raph/beta/users", "/g/beta/users"},
		{"/%EF%BD%87raph/beta/users", "/g/beta/users"},
		{"/tenants/contoso/GRAPH", "/g/"},
	}
	for _, sp := range spellings {
		if resp, body := rawRequest(t, s.proxyURL, "GET", sp.path, "X-Tenant-ID: contoso\r\n"); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", sp.path, resp.StatusCode, body)
		}
	}
	got := graph.Requests()
	if len(got) != len(spellings) || len(defender.Requests()) != 0 {
		t.Fatalf("graph saw %d requests, the default upstream %d; want %d and 0", len(got), len(defender.Requests()), len(spellings))
	}
	for i, sp := range spellings {
		if p := escapedPath(got[i]); p != sp.forwarded {
			t.Errorf("%s forwarded as %q, want %q", sp.path, p, sp.forwarded)
		}
	}
	// The route's limit holds whatever the case: the first request took
	// its one slot.
	resp, body := s.do(t, "GET", "/graph/V1.0/SECURITY/alerts", tenantHeader("contoso"), nil)
	if code, _ := errorCode(body); resp.StatusCode != 429 || code != "RateLimited" {
		t.Errorf("second /graph/v1.0/security request: %d %s, want 429", resp.StatusCode, body)
	}
}

// Only the contract's seven methods are forwarded. Anything else, CONNECT
// in authority form included, is 405 with an Allow header and never
// reaches the upstream; the emulated Entra ID endpoints keep their own
// Entra-shaped 405.
func TestMethods(t *testing.T) {
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), emulation: true})
	const allow = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
	refused := []struct{ method, target string }{
		{"TRACE", "/api/incidents"},
		{"TRACK", "/api/incidents"},
		{"CONNECT", "api.security.microsoft.com:443"},
		{"CONNECT", "/api/incidents"},
		{"PROPFIND", "/api/incidents"},
		{"MKCOL", "/api/x"},
		{"get", "/api/incidents"},
		{"Post", "/api/incidents"},
		{"DEBUG", "/api/incidents"},
		{"TRACE", "*"},
	}
	for _, tt := range refused {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			resp, body := rawRequest(t, s.proxyURL, tt.method, tt.target, "X-Tenant-ID: contoso\r\nMax-Forwards: 0\r\n")
			code, msg := errorCode(body)
			if resp.StatusCode != http.StatusMethodNotAllowed || code != "MethodNotAllowed" || !strings.Contains(msg, tt.method) {
				t.Fatalf("status %d code %q message %q, want 405 MethodNotAllowed naming %s", resp.StatusCode, code, msg, tt.method)
			}
			if got := resp.Header.Get("Allow"); got != allow {
				t.Errorf("Allow %q, want %q", got, allow)
			}
		})
	}
	if n := len(backend.Requests()); n != 0 {
		t.Fatalf("the upstream received %d requests with refused methods", n)
	}
	if n := s.sim.TotalTokenRequests(); n != 0 {
		t.Errorf("refused methods made %d token requests", n)
	}
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		if resp, body := rawRequest(t, s.proxyURL, m, "/api/incidents", "X-Tenant-ID: contoso\r\n"); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", m, resp.StatusCode, body)
		}
	}
	reqs := backend.Requests()
	if len(reqs) != 7 || reqs[0].Method != "GET" || reqs[6].Method != "OPTIONS" {
		t.Errorf("the upstream saw %v, want the seven methods", reqs)
	}

	// Token emulation answers as Entra ID does.
	for _, tt := range []struct{ target, allow string }{
		{"/contoso/oauth2/v2.0/token", "POST"},
		{"/contoso/oauth2/token", "POST"},
		{"/contoso/discovery/v2.0/keys", "GET, HEAD"},
		{"/contoso/v2.0/.well-known/openid-configuration", "GET, HEAD"},
	} {
		resp, body := rawRequest(t, s.proxyURL, "TRACE", tt.target, "")
		var e struct {
			Error      string `json:"error"`
			ErrorCodes []int  `json:"error_codes"`
		}
		_ = json.Unmarshal(body, &e)
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != tt.allow || e.Error != "invalid_request" || len(e.ErrorCodes) != 1 || e.ErrorCodes[0] != 900561 {
			t.Errorf("TRACE %s: %d Allow %q %s, want Entra ID's 405", tt.target, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
	if n := len(backend.Requests()); n != 7 {
		t.Errorf("the upstream received %d requests, want 7", n)
	}
}
