package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// do sends a request through the proxy and returns status, headers and body.
func (s *stack) do(t *testing.T, method, path string, header http.Header, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.proxyURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func tenantHeader(name string) http.Header { return http.Header{"X-Tenant-Id": {name}} }

func TestForwardsMethodPathQueryAndBodyIntact(t *testing.T) {
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	tests := []struct {
		name, method, path, body string
		wantPath, wantRawPath    string
		wantQuery                string
	}{
		{"GET with OData query", "GET", "/api/incidents?$top=10&$filter=severity%20eq%20'High'", "", "/api/incidents", "", "$top=10&$filter=severity%20eq%20'High'"},
		{"POST with JSON body", "POST", "/api/advancedhunting/run", `{"Query":"DeviceEvents | take 1"}`, "/api/advancedhunting/run", "", ""},
		{"PATCH", "PATCH", "/api/incidents/42", `{"status":"Resolved"}`, "/api/incidents/42", "", ""},
		{"escapes kept escaped", "GET", "/api/files/a%3Ab%41%c3%a9?x=1", "", "/api/files/a:bAé", "/api/files/a%3Ab%41%c3%a9", "x=1"},
		{"case kept", "GET", "/API/Files/X", "", "/API/Files/X", "", ""},
		{"OData nested options with ; kept byte for byte", "GET", "/api/incidents?$top=2&$expand=alerts($select=id;$top=5)&z=50%off&b=2&a=1", "", "/api/incidents", "", "$top=2&$expand=alerts($select=id;$top=5)&z=50%off&b=2&a=1"},
		{"prefix stripped, escapes kept", "GET", "/tenants/contoso/api/files/a%3Ab%41", "", "/api/files/a:bA", "/api/files/a%3Ab%41", ""},
		{"prefix in another case stripped", "GET", "/Tenants/CONTOSO/api/x%3Ay", "", "/api/x:y", "/api/x%3Ay", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			resp, got := s.do(t, tt.method, tt.path, tenantHeader("contoso"), body)
			if resp.StatusCode != 200 || string(got) != "ok" {
				t.Fatalf("status %d body %q", resp.StatusCode, got)
			}
			reqs := backend.Requests()
			if len(reqs) != i+1 {
				t.Fatalf("backend saw %d requests, want %d", len(reqs), i+1)
			}
			r := reqs[i]
			if r.Method != tt.method || r.Path != tt.wantPath || r.RawPath != tt.wantRawPath || r.RawQuery != tt.wantQuery || string(r.Body) != tt.body {
				t.Errorf("backend got %s %q (raw %q) ?%q body %q; want %s %q (raw %q) ?%q body %q",
					r.Method, r.Path, r.RawPath, r.RawQuery, r.Body, tt.method, tt.wantPath, tt.wantRawPath, tt.wantQuery, tt.body)
			}
		})
	}
}

func TestHeaderHygiene(t *testing.T) {
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	h := tenantHeader("contoso")
	h.Set("Authorization", "Bearer client-supplied-credential")
	h.Set("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0")
	h.Set("Connection", "X-Hop, Upgrade")
	h.Set("X-Hop", "must not pass")
	h.Set("Upgrade", "websocket")
	h.Set("X-Request-Marker", "passes")
	resp, _ := s.do(t, "GET", "/api/incidents", h, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := backend.Requests()[0]
	for _, name := range []string{"X-Tenant-Id", "Proxy-Authorization", "X-Hop", "Upgrade", "Connection", "X-Forwarded-For", "X-Forwarded-Host"} {
		if v, ok := r.Header[name]; ok {
			t.Errorf("upstream received %s: %q", name, v)
		}
	}
	if got := r.Header.Get("X-Request-Marker"); got != "passes" {
		t.Errorf("ordinary header lost: %q", got)
	}
	if auths := r.Header.Values("Authorization"); len(auths) != 1 || strings.Contains(auths[0], "client-supplied") {
		t.Fatalf("upstream got %d Authorization values (client's passed: %v), want only the proxy's token", len(auths), strings.Contains(strings.Join(auths, ""), "client-supplied"))
	}
	claims, err := s.sim.ParseToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if err != nil {
		t.Fatalf("upstream token does not verify: %v", err)
	}
	if claims.TenantID != simulator.ContosoTenantID {
		t.Errorf("upstream token tid = %s, want %s", claims.TenantID, simulator.ContosoTenantID)
	}
	if r.Host != backend.URL().Host {
		t.Errorf("upstream saw Host %q, want its own %q", r.Host, backend.URL().Host)
	}
}

func TestTenantSelection(t *testing.T) {
	backend := newBackend(t, nil)
	tests := []struct {
		name          string
		defaultTenant string
		header        string
		path          string
		wantTenant    string
		wantPath      string
	}{
		{"header alias", "", "contoso", "/api/incidents", simulator.ContosoTenantID, "/api/incidents"},
		{"header alias in upper case", "", "FABRIKAM", "/api/incidents", simulator.FabrikamTenantID, "/api/incidents"},
		{"header GUID in upper case", "", strings.ToUpper(simulator.FabrikamTenantID), "/api/incidents", simulator.FabrikamTenantID, "/api/incidents"},
		{"path prefix alias", "", "", "/tenants/fabrikam/api/incidents", simulator.FabrikamTenantID, "/api/incidents"},
		{"path prefix GUID", "", "", "/tenants/" + simulator.ContosoTenantID + "/api/incidents/7", simulator.ContosoTenantID, "/api/incidents/7"},
		{"path prefix alone", "", "", "/tenants/contoso", simulator.ContosoTenantID, "/"},
		{"header and prefix agree (alias vs GUID)", "", "contoso", "/tenants/" + simulator.ContosoTenantID + "/api/x", simulator.ContosoTenantID, "/api/x"},
		{"default tenant", "fabrikam", "", "/api/incidents", simulator.FabrikamTenantID, "/api/incidents"},
		{"empty header means the default", "fabrikam", " ", "/api/incidents", simulator.FabrikamTenantID, "/api/incidents"},
		{"header beats default", "fabrikam", "contoso", "/api/incidents", simulator.ContosoTenantID, "/api/incidents"},
		{"prefix beats default", "fabrikam", "", "/tenants/contoso/api/incidents", simulator.ContosoTenantID, "/api/incidents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), defaultTenant: tt.defaultTenant})
			var h http.Header
			if tt.header != "" {
				h = tenantHeader(tt.header)
			}
			before := len(backend.Requests())
			resp, body := s.do(t, "GET", tt.path, h, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			r := backend.Requests()[before]
			claims, err := s.sim.ParseToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			if err != nil {
				t.Fatal(err)
			}
			if claims.TenantID != tt.wantTenant || r.Path != tt.wantPath {
				t.Errorf("upstream got tenant %s path %q; want %s %q", claims.TenantID, r.Path, tt.wantTenant, tt.wantPath)
			}
		})
	}
}

func TestAgainstSimulatedDefenderAPI(t *testing.T) {
	s := newStack(t, stackOptions{})
	resp, body := s.do(t, "GET", "/api/incidents?$top=3", tenantHeader("contoso"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var list struct {
		Value []simulator.Incident `json:"value"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Value) != 3 {
		t.Fatalf("want 3 incidents, got %d (%v): %s", len(list.Value), err, body)
	}
	resp, body = s.do(t, "POST", "/tenants/fabrikam/api/advancedhunting/run", http.Header{"Content-Type": {"application/json"}},
		strings.NewReader(`{"Query":"DeviceProcessEvents | take 2"}`))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"Results"`) {
		t.Fatalf("advanced hunting: %d %s", resp.StatusCode, body)
	}
	reqs := s.sim.APIRequests()
	if len(reqs) != 2 || reqs[0].TenantID != simulator.ContosoTenantID || reqs[1].TenantID != simulator.FabrikamTenantID {
		t.Fatalf("the API saw %+v", reqs)
	}
}

func TestSequentialRequestsMakeOneTokenRequest(t *testing.T) {
	s := newStack(t, stackOptions{})
	for i := 0; i < 25; i++ {
		if resp, body := s.do(t, "GET", "/api/incidents?$top=1", tenantHeader("contoso"), nil); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if n := s.sim.TokenRequests(simulator.ContosoTenantID); n != 1 {
		t.Errorf("25 requests made %d token requests, want 1", n)
	}
}

func TestConcurrentFirstRequestsMakeOneTokenRequest(t *testing.T) {
	release := make(chan struct{})
	var arrived sync.Once
	tokenRequested := make(chan struct{})
	sim := &simulator.Server{BeforeToken: func(http.ResponseWriter, *http.Request, string) bool {
		arrived.Do(func() { close(tokenRequested) })
		<-release
		return false
	}}
	backend := newBackend(t, nil)
	// A herd beyond the per-tenant upstream bound, which is not under test.
	s := newStack(t, stackOptions{sim: sim, upstream: backend.URL(), roots: backend.Roots(), maxUpstream: 1000})
	const n = 200
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", s.proxyURL+"/api/incidents", nil)
			req.Header.Set("X-Tenant-ID", "fabrikam")
			resp, err := s.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	<-tokenRequested
	close(release)
	wg.Wait()
	for i, st := range statuses {
		if st != 200 {
			t.Fatalf("request %d: status %d", i, st)
		}
	}
	if got := s.sim.TokenRequests(simulator.FabrikamTenantID); got != 1 {
		t.Errorf("%d concurrent first requests made %d token requests, want 1", n, got)
	}
	if got := len(backend.Requests()); got != n {
		t.Errorf("backend saw %d requests, want %d", got, n)
	}
}

func TestTenantsNeverGetEachOthersToken(t *testing.T) {
	var mismatches sync.Map
	sim := &simulator.Server{}
	var backend *recordingBackend
	backend = newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		claims, err := sim.ParseToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil || claims.TenantID != r.URL.Query().Get("want") {
			mismatches.Store(r.URL.String(), true)
		}
	})
	s := newStack(t, stackOptions{sim: sim, upstream: backend.URL(), roots: backend.Roots(), maxUpstream: 1000})
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		tenant, id := "contoso", simulator.ContosoTenantID
		if i%2 == 1 {
			tenant, id = "fabrikam", simulator.FabrikamTenantID
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := s.client.Get(fmt.Sprintf("%s/tenants/%s/api/check?want=%s&i=%d", s.proxyURL, tenant, id, i))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	n := 0
	mismatches.Range(func(any, any) bool { n++; return true })
	if n != 0 || len(backend.Requests()) != 200 {
		t.Errorf("%d of %d requests reached the upstream with another tenant's token", n, len(backend.Requests()))
	}
}

func TestUpstreamResponsePassesBackUnchanged(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
	}{
		{"teapot with custom headers", 418, http.Header{"X-Custom": {"a", "b"}, "Set-Cookie": {"a=1", "b=2"}, "Request-Id": {"rid-1"}, "Content-Type": {"text/plain"}}, "I'm a teapot\n"},
		{"API 401 in Defender's shape", 401, http.Header{"Content-Type": {"application/json"}}, `{"error":{"code":"Unauthorized","message":"x","target":"t"}}`},
		{"API 403", 403, http.Header{"Content-Type": {"application/json"}}, `{"error":{"code":"Forbidden","message":"no role","target":"t"}}`},
		{"API 429 with Retry-After", 429, http.Header{"Retry-After": {"7"}, "Content-Type": {"application/json"}}, `{"error":{"code":"TooManyRequests","message":"slow down"}}`},
		{"500", 500, http.Header{"X-Ms-Request-Id": {"abc"}}, "boom"},
		{"204 without body", 204, http.Header{"X-Custom": {"c"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
			resp, body := s.do(t, "GET", "/api/x", tenantHeader("contoso"), nil)
			if resp.StatusCode != tt.status || string(body) != tt.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
			for k, v := range tt.header {
				if got := resp.Header.Values(k); strings.Join(got, "|") != strings.Join(v, "|") {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestDestinationCannotBeChangedByTheRequest(t *testing.T) {
	var evilHits int
	var mu sync.Mutex
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		evilHits++
		mu.Unlock()
	}))
	defer evil.Close()
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	proxyHost := strings.TrimPrefix(s.proxyURL, "http://")

	tests := []struct {
		name, requestLine, host, wantPath string
	}{
		{"Host header names another server", "GET /api/incidents HTTP/1.1", evilHost, "/api/incidents"},
		{"absolute-form URI (http)", "GET http://" + evilHost + "/api/incidents HTTP/1.1", evilHost, "/api/incidents"},
		{"absolute-form URI (https)", "GET https://" + evilHost + "/api/incidents HTTP/1.1", proxyHost, "/api/incidents"},
		{"path that looks like a host", "GET //" + evilHost + "/api/incidents HTTP/1.1", proxyHost, "//" + evilHost + "/api/incidents"},
		{"CONNECT-like absolute form with userinfo", "GET http://user@" + evilHost + "/api/x HTTP/1.1", evilHost, "/api/x"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", proxyHost)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "%s\r\nHost: %s\r\nX-Tenant-ID: contoso\r\nConnection: close\r\n\r\n", tt.requestLine, tt.host)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			reqs := backend.Requests()
			if len(reqs) != i+1 {
				t.Fatalf("backend saw %d requests, want %d", len(reqs), i+1)
			}
			if r := reqs[i]; r.Host != backend.URL().Host || r.Path != tt.wantPath {
				t.Errorf("backend saw Host %q path %q; want %q %q", r.Host, r.Path, backend.URL().Host, tt.wantPath)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if evilHits != 0 {
		t.Errorf("the other server received %d requests", evilHits)
	}
}

// errorCase is one row of the contract's error table.
type errorCase struct {
	name          string
	method, path  string
	header        http.Header
	status        int
	code          string
	golden        string   // file in testdata/errors holding the exact body, or ""
	contains      []string // substrings the message must hold
	noTokenAsked  bool     // the tenant is rejected before Entra ID is asked
	defaultTenant string
}

func TestContractErrors(t *testing.T) {
	two := http.Header{"X-Tenant-Id": {"contoso", "fabrikam"}}
	cases := []errorCase{
		{name: "missing tenant", path: "/api/incidents", status: 400, code: "MissingTenant", golden: "missing-tenant.json", noTokenAsked: true},
		{name: "malformed tenant", path: "/api/incidents", header: tenantHeader("not a tenant!"), status: 400, code: "InvalidTenant", golden: "invalid-tenant-malformed.json", noTokenAsked: true},
		{name: "unknown alias", path: "/api/incidents", header: tenantHeader("acme"), status: 400, code: "InvalidTenant", golden: "invalid-tenant-unknown-alias.json", noTokenAsked: true},
		{name: "header and prefix differ", path: "/tenants/fabrikam/api/incidents", header: tenantHeader("contoso"), status: 400, code: "InvalidTenant", golden: "invalid-tenant-conflict.json", noTokenAsked: true},
		{name: "two tenant headers", path: "/api/incidents", header: two, status: 400, code: "InvalidTenant", golden: "invalid-tenant-two-headers.json", noTokenAsked: true},
		{name: "empty prefix segment", path: "/tenants//api/incidents", status: 400, code: "InvalidTenant", noTokenAsked: true},
		{name: "unknown alias in prefix", path: "/tenants/acme/api/incidents", status: 400, code: "InvalidTenant", noTokenAsked: true},
		{name: "GUID not served", path: "/api/incidents", header: tenantHeader("44444444-4444-4444-8444-444444444444"), status: 403, code: "TenantNotAllowed", golden: "tenant-not-allowed.json", noTokenAsked: true},
		{name: "GUID not served, in prefix", path: "/tenants/44444444-4444-4444-8444-444444444444/api/incidents", status: 403, code: "TenantNotAllowed", noTokenAsked: true},
		{name: "GUID not served even with a default", path: "/api/incidents", header: tenantHeader("44444444-4444-4444-8444-444444444444"), defaultTenant: "contoso", status: 403, code: "TenantNotAllowed", noTokenAsked: true},
		{name: "dot-dot segment", path: "/tenants/contoso/../fabrikam/api/incidents", status: 400, code: "InvalidPath", golden: "invalid-path.json", noTokenAsked: true},
		{name: "escaped dot-dot segment", path: "/api/%2e%2e/incidents", header: tenantHeader("contoso"), status: 400, code: "InvalidPath", noTokenAsked: true},
		{name: "encoded backslash", path: "/api/incidents/..%5Cmachines", header: tenantHeader("contoso"), status: 400, code: "InvalidPath", golden: "invalid-path-encoded-separator.json", noTokenAsked: true},
		{name: "method not allowed", method: "TRACE", path: "/api/incidents", header: tenantHeader("contoso"), status: 405, code: "MethodNotAllowed", golden: "method-not-allowed.json", noTokenAsked: true},
		{name: "no consent", path: "/api/incidents", header: tenantHeader("northwind"), status: 502, code: "TokenAcquisitionFailed",
			contains: []string{"AADSTS700016", "northwind", "admin consent", "oauth2/authorize?client_id=" + simulator.DefaultClientID + "&prompt=consent", simulator.UnconsentedTenantID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, stackOptions{defaultTenant: tc.defaultTenant})
			checkError(t, s, tc)
			if tc.noTokenAsked {
				if n := s.sim.TotalTokenRequests(); n != 0 {
					t.Errorf("a rejected request made %d token requests, want 0", n)
				}
				if n := len(s.sim.APIRequests()); n != 0 {
					t.Errorf("a rejected request reached the API %d times", n)
				}
			}
		})
	}

	t.Run("wrong client secret", func(t *testing.T) {
		s := newStack(t, stackOptions{secret: "wrong-secret-value-123"})
		checkError(t, s, errorCase{path: "/api/incidents", header: tenantHeader("contoso"), status: 502, code: "TokenAcquisitionFailed",
			contains: []string{"AADSTS7000215", "XDRPROXY_CLIENT_SECRET"}})
	})
	for _, d := range []struct {
		name       string
		status     int
		oauthError string
		code       int
		contains   string
	}{
		{"no Defender licence", 400, "invalid_request", 650052, "no Microsoft Defender subscription"},
		{"conditional access", 400, "invalid_grant", 53003, "Conditional Access"},
		{"expired secret", 401, "invalid_client", 7000222, "rotate XDRPROXY_CLIENT_SECRET_FILE"},
		{"Entra throttling", 429, "invalid_request", 90055, "throttling"},
	} {
		t.Run("diagnosis: "+d.name, func(t *testing.T) {
			sim := &simulator.Server{}
			s := newStack(t, stackOptions{sim: sim})
			sim.FailTokens(simulator.ContosoTenantID, d.status, d.oauthError, d.code, -1)
			checkError(t, s, errorCase{path: "/api/incidents", header: tenantHeader("contoso"), status: 502, code: "TokenAcquisitionFailed",
				contains: []string{fmt.Sprintf("AADSTS%d", d.code), d.contains}})
		})
	}
	t.Run("upstream unreachable", func(t *testing.T) {
		dead, _ := url.Parse("https://127.0.0.1:1")
		s := newStack(t, stackOptions{upstream: dead})
		checkError(t, s, errorCase{path: "/api/incidents", header: tenantHeader("contoso"), status: 502, code: "UpstreamUnavailable", contains: []string{"127.0.0.1:1"}})
	})
	t.Run("upstream never completes the TLS handshake", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() { // accept and stay silent
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		silent, _ := url.Parse("https://" + ln.Addr().String())
		s := newStack(t, stackOptions{upstream: silent, tlsHandshakeTimeout: 50 * time.Millisecond})
		checkError(t, s, errorCase{path: "/api/incidents", header: tenantHeader("contoso"), status: 502, code: "UpstreamUnavailable"})
	})
	t.Run("upstream too slow", func(t *testing.T) {
		release := make(chan struct{})
		backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), responseHeaderTimeout: 50 * time.Millisecond})
		checkError(t, s, errorCase{path: "/api/incidents", header: tenantHeader("contoso"), status: 504, code: "UpstreamTimeout", contains: []string{"XDRPROXY_UPSTREAM_TIMEOUT"}})
	})
}

func checkError(t *testing.T, s *stack, tc errorCase) {
	t.Helper()
	method := tc.method
	if method == "" {
		method = "GET"
	}
	resp, body := s.do(t, method, tc.path, tc.header, nil)
	if resp.StatusCode != tc.status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	// Every error answer says its length, even one made after the
	// request was forwarded (the handler has flushed by then).
	if method != "HEAD" && (resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) > 0) {
		t.Errorf("Content-Length %d, Transfer-Encoding %q for a %d-byte error body, want its exact length", resp.ContentLength, resp.TransferEncoding, len(body))
	}
	var parsed struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&parsed); err != nil {
		t.Fatalf("body is not the contract's error shape: %v: %s", err, body)
	}
	if parsed.Error.Code != tc.code || parsed.Error.Message == "" {
		t.Errorf("code %q message %q, want code %q and a message", parsed.Error.Code, parsed.Error.Message, tc.code)
	}
	for _, want := range tc.contains {
		if !strings.Contains(parsed.Error.Message, want) {
			t.Errorf("message %q does not contain %q", parsed.Error.Message, want)
		}
	}
	if tc.golden != "" {
		testutil.Golden(t, filepath.Join("errors", tc.golden), body)
	}
}

func TestLargeResponseStreamsWithBoundedMemory(t *testing.T) {
	const total = 100 << 20
	firstChunkSeen := make(chan struct{})
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/warm" {
			return
		}
		chunk := make([]byte, 1<<20)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(chunk)
		w.(http.Flusher).Flush()
		// Hold the rest until the client has the first megabyte: a proxy
		// that buffered the response would never deliver it.
		select {
		case <-firstChunkSeen:
		case <-time.After(20 * time.Second):
			return
		}
		for sent := len(chunk); sent < total; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	// Warm the token and the connection first, so only the stream is measured.
	s.do(t, "GET", "/warm", tenantHeader("contoso"), nil)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	req, _ := http.NewRequest("GET", s.proxyURL+"/api/big", nil)
	req.Header.Set("X-Tenant-ID", "contoso")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 1<<20)); err != nil {
		t.Fatalf("first megabyte: %v", err)
	}
	close(firstChunkSeen)
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := n + 1<<20; got != total {
		t.Fatalf("received %d bytes, want %d", got, total)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Everything in this process (backend, proxy, client) allocated less
	// than a sixth of the body: nothing held the body whole.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("streaming 100 MiB allocated %.1f MiB in the whole process", float64(alloc)/(1<<20))
	if alloc > total/6 {
		t.Errorf("streaming 100 MiB allocated %d MiB", alloc>>20)
	}
}

func TestRequestBodyStreamsUpstream(t *testing.T) {
	firstChunkArrived := make(chan struct{})
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/warm" {
			return
		}
		h := sha256.New()
		first := make([]byte, 64<<10)
		if _, err := io.ReadFull(r.Body, first); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		h.Write(first)
		close(firstChunkArrived)
		n, _ := io.Copy(h, r.Body)
		fmt.Fprintf(w, "%d %s", n+int64(len(first)), hex.EncodeToString(h.Sum(nil)))
	})
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	s.do(t, "GET", "/warm", tenantHeader("contoso"), nil)

	pr, pw := io.Pipe()
	want := sha256.New()
	go func() {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		pw.Write(chunk)
		want.Write(chunk)
		// The rest is only sent once the upstream has the first chunk.
		select {
		case <-firstChunkArrived:
		case <-time.After(20 * time.Second):
			pw.CloseWithError(errors.New("upstream never got the first chunk"))
			return
		}
		for i := 0; i < 127; i++ {
			pw.Write(chunk)
			want.Write(chunk)
		}
		pw.Close()
	}()
	resp, body := s.do(t, "PUT", "/api/upload", tenantHeader("contoso"), pr)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if wantBody := fmt.Sprintf("%d %s", 128*64<<10, hex.EncodeToString(want.Sum(nil))); string(body) != wantBody {
		t.Errorf("upstream received %q, want %q", body, wantBody)
	}
}

func TestAccessLogLine(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.do(t, "GET", "/api/incidents?$top=1", tenantHeader("contoso"), nil)
	s.do(t, "GET", "/api/incidents", tenantHeader("acme"), nil)
	hunt := `{"Query":"DeviceProcessEvents | take 1"}`
	s.do(t, "POST", "/api/advancedhunting/run", tenantHeader("contoso"), strings.NewReader(hunt))
	// A line is written once its answer has gone: wait for the three.
	s.logs.WaitFor(`"logger":"access"`, 3, 5*time.Second)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["logger"] == "access" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("want 3 access-log lines, got %d: %s", len(lines), s.logs.String())
	}
	ok, bad := lines[0], lines[1]
	if post := lines[2]; post["bytes_in"] != float64(len(hunt)) || post["bytes_in"] == ok["bytes_in"] {
		t.Errorf("a forwarded body of %d bytes logs bytes_in %v", len(hunt), post["bytes_in"])
	}
	if ok["tenant"] != "contoso" || ok["method"] != "GET" || ok["path"] != "/api/incidents" || ok["status"] != float64(200) {
		t.Errorf("access line: %v", ok)
	}
	for _, k := range []string{"bytes_in", "bytes_out", "duration", "token_wait", "upstream_request_id"} {
		if _, present := ok[k]; !present {
			t.Errorf("access line lacks %s: %v", k, ok)
		}
	}
	if ok["bytes_out"].(float64) <= 0 {
		t.Errorf("bytes_out = %v", ok["bytes_out"])
	}
	if _, has := bad["tenant"]; has {
		t.Errorf("a request with no resolved tenant logs a tenant: %v", bad)
	}
	if bad["status"] != float64(400) || !strings.Contains(fmt.Sprint(bad["error"]), "InvalidTenant") {
		t.Errorf("rejected request's line: %v", bad)
	}
}

func TestSecretsAndTokensNeverLeak(t *testing.T) {
	const wrongSecret = "wrong-secret-never-print-me"
	const clientCredential = "client-sent-credential-never-print-me"
	var tokensSeen sync.Map
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		tokensSeen.Store(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), true)
		w.Write([]byte("ok"))
	})
	const leakedToken = "eyJhbGciOiJSUzI1NiJ9.truncated-token-never-print-me"
	good := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	bad := newStack(t, stackOptions{secret: wrongSecret})
	hostile := newStack(t, stackOptions{sim: &simulator.Server{BeforeToken: func(w http.ResponseWriter, r *http.Request, _ string) bool {
		// A 200 whose body breaks off inside the token.
		io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"`+leakedToken)
		return true
	}}})
	var responses bytes.Buffer
	hdr := func(tenant string) http.Header {
		h := tenantHeader(tenant)
		h.Set("Authorization", "Bearer "+clientCredential)
		return h
	}
	for _, s := range []*stack{good, bad, hostile} {
		for _, tenant := range []string{"contoso", "fabrikam", "northwind", "acme", "44444444-4444-4444-8444-444444444444"} {
			for _, path := range []string{"/api/incidents", "/tenants/contoso/api/x", "/api/../x"} {
				resp, body := s.do(t, "GET", path, hdr(tenant), nil)
				fmt.Fprintf(&responses, "%d %v %s\n", resp.StatusCode, resp.Header, body)
			}
		}
	}
	secrets := []string{simulator.DefaultClientSecret, wrongSecret, clientCredential, leakedToken}
	n := 0
	tokensSeen.Range(func(k, _ any) bool {
		if k.(string) != "" {
			secrets = append(secrets, k.(string))
			n++
		}
		return true
	})
	if n < 2 {
		t.Fatalf("the upstream saw %d distinct tokens, want at least 2 (one per tenant)", n)
	}
	for name, text := range map[string]string{"responses": responses.String(), "good logs": good.logs.String(), "bad logs": bad.logs.String(), "hostile logs": hostile.logs.String()} {
		if text == "" {
			t.Fatalf("%s are empty: the check would prove nothing", name)
		}
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s contain a secret or token (%.12s…)", name, secret)
			}
		}
	}
}

func TestClientGoneWhileWaitingForToken(t *testing.T) {
	release := make(chan struct{})
	sim := &simulator.Server{BeforeToken: func(http.ResponseWriter, *http.Request, string) bool { <-release; return false }}
	s := newStack(t, stackOptions{sim: sim})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.proxyURL+"/api/incidents", nil)
	req.Header.Set("X-Tenant-ID", "contoso")
	done := make(chan error, 1)
	go func() {
		resp, err := s.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for s.sim.TokenRequests(simulator.ContosoTenantID) == 0 {
		runtime.Gosched()
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client got %v, want its own cancellation", err)
	}
}

func TestResponseCutOffMidBodyIsLoggedAsFailure(t *testing.T) {
	// A response of known length goes out as the proxy's write buffer
	// fills: a short start is still held when the upstream dies, and the
	// client sees its connection close before any header; a long one has
	// reached the client, which sees the body end early.
	for _, tc := range []struct {
		name        string
		sent        int
		wantHeaders bool
	}{
		{"short start", 1000, false},
		{"long start", 64 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100000")
				w.WriteHeader(200)
				w.Write(make([]byte, tc.sent))
				w.(http.Flusher).Flush()
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close() // the upstream dies mid-body
				}
			})
			s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
			req, _ := http.NewRequest("GET", s.proxyURL+"/api/big", nil)
			req.Header.Set("X-Tenant-ID", "contoso")
			resp, err := s.client.Do(req)
			if tc.wantHeaders && err != nil {
				t.Fatalf("no response headers although %d bytes were sent: %v", tc.sent, err)
			}
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				t.Fatal("the client read a complete body from a response the upstream cut off")
			}
			var line map[string]any
			for _, l := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(l), &m) == nil && m["logger"] == "access" {
					line = m
				}
			}
			if line == nil || line["level"] != "warn" || !strings.Contains(fmt.Sprint(line["error"]), "cut off") {
				t.Errorf("access line for a cut-off response = %v, want a warn line saying so", line)
			}
		})
	}
}

func TestRememberedFailureSaysWhenItRetries(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.do(t, "GET", "/api/incidents", tenantHeader("northwind"), nil)
	resp, body := s.do(t, "GET", "/api/incidents", tenantHeader("northwind"), nil)
	if resp.StatusCode != 502 || !strings.Contains(string(body), "next attempt in") {
		t.Errorf("second request within the backoff: %d %s", resp.StatusCode, body)
	}
	if n := s.sim.TokenRequests(simulator.UnconsentedTenantID); n != 1 {
		t.Errorf("two requests within the backoff made %d token requests, want 1", n)
	}
}

func TestRoutesGetTheirOwnUpstreamAndScope(t *testing.T) {
	defender := newBackend(t, nil)
	graph := newBackend(t, nil)
	// One transport trusts both backends' certificates.
	roots := defender.Roots()
	roots.AddCert(graph.server.Certificate())
	graphURL := graph.URL()
	graphURL.Path = "/v1.0/"
	routes, err := config.ParseRoutes("/graph/=" + graphURL.String() + "|https://graph.microsoft.com/.default")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, stackOptions{upstream: defender.URL(), roots: roots, routes: routes})

	for _, path := range []string{"/graph/security/incidents?$top=1", "/tenants/fabrikam/graph/security/runHuntingQuery", "/api/incidents"} {
		h := http.Header{}
		if !strings.HasPrefix(path, "/tenants/") {
			h = tenantHeader("fabrikam")
		}
		if resp, body := s.do(t, "GET", path, h, nil); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	g, d := graph.Requests(), defender.Requests()
	if len(g) != 2 || len(d) != 1 {
		t.Fatalf("graph got %d requests, defender %d; want 2 and 1", len(g), len(d))
	}
	if g[0].Path != "/v1.0/security/incidents" || g[0].RawQuery != "$top=1" || g[1].Path != "/v1.0/security/runHuntingQuery" || d[0].Path != "/api/incidents" {
		t.Errorf("paths: graph %q %q, defender %q", g[0].Path, g[1].Path, d[0].Path)
	}
	audience := func(r backendRequest) string {
		claims, err := s.sim.ParseToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			t.Fatal(err)
		}
		if claims.TenantID != simulator.FabrikamTenantID {
			t.Errorf("token for tenant %s, want fabrikam", claims.TenantID)
		}
		return strings.Join(claims.Audience, ",")
	}
	if got := audience(g[0]); got != "https://graph.microsoft.com" {
		t.Errorf("graph route token audience %q", got)
	}
	if got := audience(d[0]); got != "https://api.security.microsoft.com" {
		t.Errorf("default route token audience %q", got)
	}
	if n := s.sim.TokenRequests(simulator.FabrikamTenantID); n != 2 {
		t.Errorf("token requests = %d, want 2 (one per scope)", n)
	}
}

// A route rewrites the path's prefix and keeps its escapes: a %3A stays
// one, also under a /tenants/ prefix. (An encoded / is refused: see
// TestPathSpellings.)
func TestRouteKeepsEscapes(t *testing.T) {
	graph := newBackend(t, nil)
	graphURL := graph.URL()
	graphURL.Path = "/v1.0/"
	routes, err := config.ParseRoutes("/graph/=" + graphURL.String() + "|https://graph.microsoft.com/.default")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, stackOptions{upstream: graph.URL(), roots: graph.Roots(), routes: routes})
	for _, path := range []string{"/graph/drives/a%3Ab/items", "/tenants/fabrikam/graph/drives/a%3Ab/items"} {
		h := http.Header{}
		if !strings.HasPrefix(path, "/tenants/") {
			h = tenantHeader("fabrikam")
		}
		if resp, body := s.do(t, "GET", path, h, nil); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	for i, r := range graph.Requests() {
		if r.Path != "/v1.0/drives/a:b/items" || r.RawPath != "/v1.0/drives/a%3Ab/items" {
			t.Errorf("request %d reached the route as %q (raw %q), want the escape kept", i, r.Path, r.RawPath)
		}
	}
}

func TestGraphRouteAgainstSimulatedGraph(t *testing.T) {
	s := newStack(t, stackOptions{routesFor: func(simURL string) []config.Route {
		routes, err := config.ParseRoutes("/graph/=" + simURL + "|https://graph.microsoft.com/.default")
		if err != nil {
			t.Fatal(err)
		}
		return routes
	}})

	resp, body := s.do(t, "GET", "/graph/v1.0/security/incidents?$top=2", tenantHeader("contoso"), nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"displayName"`) {
		t.Fatalf("Graph incidents through the route: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "POST", "/graph/v1.0/security/runHuntingQuery", http.Header{"X-Tenant-Id": {"contoso"}, "Content-Type": {"application/json"}},
		strings.NewReader(`{"Query":"DeviceProcessEvents | take 1"}`))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"results"`) {
		t.Fatalf("Graph hunting through the route: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "GET", "/api/incidents?$top=1", tenantHeader("contoso"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("Defender incidents for the same tenant: %d %s", resp.StatusCode, body)
	}
	auds := map[string]int{}
	for _, r := range s.sim.APIRequests() {
		claims, err := s.sim.ParseToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			t.Fatal(err)
		}
		auds[strings.Join(claims.Audience, ",")+" "+r.Path]++
	}
	for _, want := range []string{
		"https://graph.microsoft.com /v1.0/security/incidents",
		"https://graph.microsoft.com /v1.0/security/runHuntingQuery",
		"https://api.security.microsoft.com /api/incidents",
	} {
		if auds[want] != 1 {
			t.Errorf("no request with %q; saw %v", want, auds)
		}
	}
}

func TestTenantRemovedWhileRequestWaitsForToken(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{})
	var once sync.Once
	sim := &simulator.Server{BeforeToken: func(http.ResponseWriter, *http.Request, string) bool {
		once.Do(func() { close(arrived) })
		<-release
		return false
	}}
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{sim: sim, upstream: backend.URL(), roots: backend.Roots()})
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", s.proxyURL+"/api/incidents", nil)
		req.Header.Set("X-Tenant-ID", "contoso")
		resp, err := s.client.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	<-arrived
	// contoso is offboarded while its request waits on Entra ID.
	rest, err := config.NewTenantSet(testTenants[1:])
	if err != nil {
		t.Fatal(err)
	}
	s.handler.SetTenants(rest)
	s.cache.SetTenants([]string{simulator.FabrikamTenantID, simulator.UnconsentedTenantID})
	close(release)
	r := <-done
	if r.err != nil || r.status != 403 {
		t.Fatalf("the waiting request got %d %v, want 403", r.status, r.err)
	}
	if n := len(backend.Requests()); n != 0 {
		t.Errorf("the upstream received %d requests for a removed tenant", n)
	}
}
