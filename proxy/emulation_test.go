package proxy_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
	"github.com/xdrproxy/xdrproxy/simulator"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

const (
	toolKey     = "tool-key-contoso-5f1e"
	gatewayKey  = "gateway-key-all-0c2d"
	defenderAPI = "https://api.security.microsoft.com"
)

// settableClock is a test clock that starts at the real time, so that
// tokens from the simulator are valid, and can be moved on.
type settableClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *settableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *settableClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// post sends a token request form and decodes the JSON answer.
func (s *stack) post(t *testing.T, base, path string, form url.Values, header http.Header) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return s.sendJSON(t, req)
}

func (s *stack) sendJSON(t *testing.T, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s %s: %d, body is not JSON: %q", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, body
}

// call sends GET path with the given bearer and tenant header.
func (s *stack) call(t *testing.T, base, path, bearer, tenant string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if tenant != "" {
		req.Header.Set("X-Tenant-ID", tenant)
	}
	status, _, body := s.sendJSON(t, req)
	return status, body
}

func v1Form(secret string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {simulator.DefaultClientID}, "client_secret": {secret}, "resource": {defenderAPI}}
}

// realToken is the proxy's own token for the tenant and default scope.
func (s *stack) realToken(t *testing.T, tenantID string) (string, tokencache.Claims) {
	t.Helper()
	tok, err := s.cache.Token(context.Background(), tenantID, scope)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := tokencache.DecodeClaims(tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Value, claims
}

// lastUpstreamAuthorization is the Authorization header of the last
// request the simulator's API received, and the tenant its token was for.
func lastUpstreamAuthorization(t *testing.T, sim *simulator.Server) (string, string) {
	t.Helper()
	reqs := sim.APIRequests()
	if len(reqs) == 0 {
		t.Fatal("no request reached the API")
	}
	last := reqs[len(reqs)-1]
	return last.Header.Get("Authorization"), last.TenantID
}

func emulationStack(t *testing.T, clk *settableClock) *stack {
	t.Helper()
	keys := keysFile(t, map[string]string{toolKey: "contoso", gatewayKey: "*"})
	return newStack(t, stackOptions{emulation: true, clientKeys: keys, now: clk.now, pins: []string{"contoso"}})
}

func TestTokenEmulationV1(t *testing.T) {
	clk := &settableClock{}
	s := emulationStack(t, clk)

	status, hdr, body := s.post(t, s.proxyURL, "/contoso/oauth2/token", v1Form(toolKey), nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	// The access log counts the form's bytes.
	if want := fmt.Sprintf(`"route":"token-emulation","method":"POST","path":"/contoso/oauth2/token","status":200,"bytes_in":%d,`, len(v1Form(toolKey).Encode())); !s.logs.WaitFor(want, 1, 5*time.Second) {
		t.Errorf("no access-log line with %s in:\n%s", want, s.logs.String())
	}
	if hdr.Get("Cache-Control") != "no-store, no-cache" || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Errorf("headers: %v", hdr)
	}
	// The v1 endpoint's shape: every value a string.
	for _, k := range []string{"token_type", "expires_in", "ext_expires_in", "expires_on", "not_before", "resource", "access_token"} {
		if _, ok := body[k].(string); !ok {
			t.Errorf("%s = %#v, want a string", k, body[k])
		}
	}
	if body["resource"] != defenderAPI || body["token_type"] != "Bearer" {
		t.Errorf("body = %v", body)
	}
	ph := body["access_token"].(string)
	real, realClaims := s.realToken(t, simulator.ContosoTenantID)
	if ph == real || strings.Contains(ph, strings.Split(real, ".")[1]) {
		t.Fatal("the tool was given the real token")
	}
	c, err := s.signer.Verify(ph)
	if err != nil {
		t.Fatal(err)
	}
	want := placeholder.Claims{TenantID: simulator.ContosoTenantID, Audience: realClaims.Audience, Roles: realClaims.Roles, AppID: simulator.DefaultClientID}
	got := c
	got.ExpiresAt, got.IssuedAt, got.ClientKey, got.HasClientKey = time.Time{}, time.Time{}, [32]byte{}, false
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("placeholder claims (-want +got):\n%s", diff)
	}
	if c.ExpiresAt.After(realClaims.ExpiresAt) || realClaims.ExpiresAt.Sub(c.ExpiresAt) > 2*time.Second {
		t.Errorf("placeholder exp %v, real exp %v: want at most, and about, the real one", c.ExpiresAt, realClaims.ExpiresAt)
	}
	// Bound to its key, without the key's hash: a tool that logs the
	// token gives nothing away to guess the key from.
	sum := sha256.Sum256([]byte(toolKey))
	if !c.HasClientKey || c.ClientKey != s.signer.Bind(sum) {
		t.Error("the placeholder is not bound to its client key")
	}
	if payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(ph, ".")[1]); strings.Contains(string(payload), hex.EncodeToString(sum[:])) {
		t.Error("the placeholder carries the client key's SHA-256")
	}

	// The tool calls the API with it, naming no tenant: the upstream gets
	// contoso's real token.
	status, body = s.call(t, s.proxyURL, "/api/incidents", ph, "")
	if status != http.StatusOK {
		t.Fatalf("API call with the placeholder: %d %v", status, body)
	}
	auth, tid := lastUpstreamAuthorization(t, s.sim)
	if auth != "Bearer "+real || tid != simulator.ContosoTenantID {
		t.Errorf("upstream got tenant %q and not the real token", tid)
	}
	if strings.Contains(s.logs.String(), ph) || strings.Contains(s.logs.String(), toolKey) {
		t.Error("the logs hold the placeholder or the client key")
	}
	fp := hex.EncodeToString(sum[:4])
	if !regexp.MustCompile(`"client_key":"` + fp + `","placeholder":true,"route":"default"`).MatchString(s.logs.String()) {
		t.Errorf("no access line names the key %s and the placeholder:\n%s", fp, s.logs.String())
	}
}

func TestTokenEmulationV2MapsAnyResourceToTheRouteScope(t *testing.T) {
	clk := &settableClock{}
	s := newStack(t, stackOptions{emulation: true, now: clk.now, routesFor: func(simURL string) []config.Route {
		return []config.Route{{Prefix: "/graph/", URL: testutil.ParseURL(t, simURL), Scope: "https://graph.microsoft.com/.default"}}
	}})
	// No client keys: any secret is taken; the curl sample's scope.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {simulator.DefaultClientID}, "client_secret": {"anything"},
		"scope": {"https://securitycenter.onmicrosoft.com/windowsatpservice/.default"}}
	status, _, body := s.post(t, s.proxyURL, "/"+simulator.FabrikamTenantID+"/oauth2/v2.0/token", form, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	if _, ok := body["expires_in"].(float64); !ok {
		t.Errorf("v2 expires_in = %#v, want a number", body["expires_in"])
	}
	if n := body["expires_in"].(float64); n < 3000 || n > 3600 {
		t.Errorf("expires_in = %v", n)
	}
	c, err := s.signer.Verify(body["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if c.TenantID != simulator.FabrikamTenantID || c.HasClientKey || len(c.Audience) != 1 || c.Audience[0] != defenderAPI {
		t.Errorf("claims = %+v, want fabrikam with the Defender API's aud", c)
	}

	// Asked for Graph: the placeholder mirrors the Graph token.
	form.Set("scope", "https://graph.microsoft.com/.default")
	_, _, body = s.post(t, s.proxyURL, "/fabrikam/oauth2/v2.0/token", form, nil)
	g, err := s.signer.Verify(body["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Audience) != 1 || g.Audience[0] != "https://graph.microsoft.com" {
		t.Errorf("Graph placeholder aud = %v", g.Audience)
	}
	// Whatever it was minted for, a placeholder stands for its tenant:
	// the Graph route gets the Graph token.
	status, resp := s.call(t, s.proxyURL, "/graph/v1.0/security/incidents", body["access_token"].(string), "")
	if status != http.StatusOK {
		t.Fatalf("Graph call: %d %v", status, resp)
	}
	status, resp = s.call(t, s.proxyURL, "/api/incidents", body["access_token"].(string), "")
	if status != http.StatusOK {
		t.Fatalf("Defender call with the Graph placeholder: %d %v", status, resp)
	}
	if _, tid := lastUpstreamAuthorization(t, s.sim); tid != simulator.FabrikamTenantID {
		t.Errorf("upstream tenant %q", tid)
	}
}

// entraErrorShape checks an answer is in Entra ID's error shape with the
// given error and AADSTS code, and returns its description's first line.
func entraErrorShape(t *testing.T, body map[string]any, oauth string, code int) string {
	t.Helper()
	if body["error"] != oauth {
		t.Errorf("error = %v, want %s (body %v)", body["error"], oauth, body)
	}
	codes, _ := body["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != float64(code) {
		t.Errorf("error_codes = %v, want [%d]", body["error_codes"], code)
	}
	desc, _ := body["error_description"].(string)
	if !regexp.MustCompile(`^AADSTS` + itoa(code) + `: \S`).MatchString(desc) {
		t.Errorf("error_description %q does not start with AADSTS%d", desc, code)
	}
	first, _, _ := strings.Cut(desc, "\r\n")
	return first
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestTokenEmulationRefusesAResourceNoRouteServes(t *testing.T) {
	clk := &settableClock{}
	s := newStack(t, stackOptions{emulation: true, now: clk.now, routesFor: func(simURL string) []config.Route {
		return []config.Route{{Prefix: "/graph/", URL: testutil.ParseURL(t, simURL), Scope: "https://graph.microsoft.com/.default"}}
	}})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {simulator.DefaultClientID}, "client_secret": {"anything"}}

	// Graph by application ID gets a Graph placeholder.
	form.Set("scope", "00000003-0000-0000-c000-000000000000/.default")
	status, _, body := s.post(t, s.proxyURL, "/contoso/oauth2/v2.0/token", form, nil)
	if status != http.StatusOK {
		t.Fatalf("Graph by application ID: %d %v", status, body)
	}
	c, err := s.signer.Verify(body["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Audience) != 1 || c.Audience[0] != "https://graph.microsoft.com" {
		t.Errorf("Graph by application ID: placeholder aud %v, want Graph's", c.Audience)
	}

	// A resource nothing here serves: Entra ID's answer, naming the routes.
	form.Set("scope", "https://management.azure.com/.default")
	status, _, body = s.post(t, s.proxyURL, "/contoso/oauth2/v2.0/token", form, nil)
	if status != http.StatusBadRequest {
		t.Fatalf("unknown resource: %d %v", status, body)
	}
	desc := entraErrorShape(t, body, "invalid_resource", 500011)
	for _, want := range []string{"https://management.azure.com", "https://api.security.microsoft.com (every path", "https://graph.microsoft.com (paths under /graph/)", "XDRPROXY_ROUTES"} {
		if !strings.Contains(desc, want) {
			t.Errorf("description %q does not mention %q", desc, want)
		}
	}
	// The client's input is quoted, never with control characters.
	form.Set("scope", "https://a\x1b[31m/User.Read")
	status, _, body = s.post(t, s.proxyURL, "/contoso/oauth2/v2.0/token", form, nil)
	if desc := entraErrorShape(t, body, "invalid_scope", 1002012); status != http.StatusBadRequest || strings.ContainsRune(desc, 0x1b) || !strings.Contains(desc, "https://a[31m/User.Read") {
		t.Errorf("scope with a control character: %d %q", status, desc)
	}
	// v1 alike.
	v1 := url.Values{"grant_type": {"client_credentials"}, "client_id": {simulator.DefaultClientID}, "client_secret": {"anything"}, "resource": {"https://vault.azure.net"}}
	if status, _, body = s.post(t, s.proxyURL, "/contoso/oauth2/token", v1, nil); status != http.StatusBadRequest {
		t.Errorf("v1 unknown resource: %d %v", status, body)
	}
	entraErrorShape(t, body, "invalid_resource", 500011)
}

func TestTokenEmulationRefusals(t *testing.T) {
	clk := &settableClock{}
	s := emulationStack(t, clk)
	form := func(change func(url.Values)) url.Values {
		f := v1Form(toolKey)
		if change != nil {
			change(f)
		}
		return f
	}
	tests := []struct {
		name   string
		method string
		path   string
		form   url.Values
		status int
		oauth  string
		code   int
	}{
		{"wrong key", "POST", "/contoso/oauth2/token", form(func(f url.Values) { f.Set("client_secret", "the-real-secret?") }), 401, "invalid_client", 7000215},
		{"no key", "POST", "/contoso/oauth2/token", form(func(f url.Values) { f.Del("client_secret") }), 401, "invalid_client", 7000218},
		{"tenant not served", "POST", "/99999999-0000-4000-8000-000000000000/oauth2/token", form(nil), 400, "unauthorized_client", 700016},
		{"tenant not allowed for the key", "POST", "/fabrikam/oauth2/token", form(nil), 400, "unauthorized_client", 700016},
		{"unknown alias", "POST", "/tailspin/oauth2/token", form(nil), 400, "unauthorized_client", 700016},
		{"GET", "GET", "/contoso/oauth2/token", nil, 405, "invalid_request", 900561},
		{"password grant", "POST", "/contoso/oauth2/token", form(func(f url.Values) { f.Set("grant_type", "password") }), 400, "unsupported_grant_type", 70003},
		{"no grant type", "POST", "/contoso/oauth2/token", form(func(f url.Values) { f.Del("grant_type") }), 400, "invalid_request", 900144},
		{"no client_id", "POST", "/contoso/oauth2/token", form(func(f url.Values) { f.Del("client_id") }), 400, "invalid_request", 900144},
		{"v1 without resource", "POST", "/contoso/oauth2/token", form(func(f url.Values) { f.Del("resource") }), 400, "invalid_request", 900144},
		{"v2 scope without /.default", "POST", "/contoso/oauth2/v2.0/token", form(func(f url.Values) { f.Set("scope", defenderAPI+"/Incident.Read.All") }), 400, "invalid_scope", 1002012},
		{"v2 two resources", "POST", "/contoso/oauth2/v2.0/token", form(func(f url.Values) { f.Set("scope", defenderAPI+"/.default https://graph.microsoft.com/.default") }), 400, "invalid_scope", 700022},
		{"v2 without scope", "POST", "/contoso/oauth2/v2.0/token", form(nil), 400, "invalid_request", 900144},
	}
	descriptions := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.proxyURL+tt.path, strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			status, _, body := s.sendJSON(t, req)
			if status != tt.status {
				t.Errorf("status = %d, want %d (%v)", status, tt.status, body)
			}
			descriptions[tt.name] = entraErrorShape(t, body, tt.oauth, tt.code)
			raw, _ := json.Marshal(body)
			if strings.Contains(string(raw), toolKey) || strings.Contains(string(raw), simulator.DefaultClientSecret) {
				t.Error("the answer quotes a key or the secret")
			}
		})
	}
	// A limited key learns nothing about other tenants: the same answer,
	// but for the name it sent.
	norm := func(name, tenant string) string { return strings.ReplaceAll(descriptions[name], tenant, "T") }
	if a, b := norm("tenant not allowed for the key", "fabrikam"), norm("unknown alias", "tailspin"); a != b {
		t.Errorf("not allowed and unknown differ:\n%s\n%s", a, b)
	}
	if s.sim.TotalTokenRequests() != 0 {
		t.Errorf("refused requests reached Entra ID: %d token requests", s.sim.TotalTokenRequests())
	}

	// Two X-Tenant-ID headers are refused, as on the data plane.
	status, _, body := s.post(t, s.proxyURL, "/contoso/oauth2/token", v1Form(gatewayKey), http.Header{"X-Tenant-Id": {"contoso", "fabrikam"}})
	if status != 400 {
		t.Errorf("two X-Tenant-ID headers: %d %v", status, body)
	}
	// A header naming another tenant than the path conflicts.
	status, _, body = s.post(t, s.proxyURL, "/contoso/oauth2/token", v1Form(gatewayKey), http.Header{"X-Tenant-Id": {"fabrikam"}})
	if status != 400 {
		t.Errorf("conflicting X-Tenant-ID: %d %v", status, body)
	}
	entraErrorShape(t, body, "unauthorized_client", 700016)

	// The key also works as HTTP Basic (client_secret_basic) and as a bearer.
	f := v1Form("")
	f.Del("client_secret")
	basic := http.Header{"Authorization": {"Basic " + basicAuth(simulator.DefaultClientID, toolKey)}}
	if status, hdr, body := s.post(t, s.proxyURL, "/contoso/oauth2/token", f, basic); status != 200 || hdr.Get("WWW-Authenticate") != "" {
		t.Errorf("Basic: %d %v, WWW-Authenticate %q", status, body, hdr.Get("WWW-Authenticate"))
	}
	bearer := http.Header{"Authorization": {"Bearer " + toolKey}}
	if status, _, body := s.post(t, s.proxyURL, "/contoso/oauth2/token", f, bearer); status != 200 {
		t.Errorf("Bearer: %d %v", status, body)
	}
	wrongBasic := http.Header{"Authorization": {"Basic " + basicAuth(simulator.DefaultClientID, "nope")}}
	status, hdr, body := s.post(t, s.proxyURL, "/contoso/oauth2/token", f, wrongBasic)
	if status != 401 || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("wrong Basic: %d, WWW-Authenticate %q", status, hdr.Get("WWW-Authenticate"))
	}
	entraErrorShape(t, body, "invalid_client", 7000215)
}

func TestTokenEmulationWhenEntraIDRefuses(t *testing.T) {
	// The proxy's own secret is refused: its fault, not the tool's key.
	bad := newStack(t, stackOptions{emulation: true, secret: "not-the-secret"})
	status, _, body := bad.post(t, bad.proxyURL, "/contoso/oauth2/token", v1Form("x"), nil)
	if status != http.StatusInternalServerError {
		t.Errorf("proxy credential refused: status %d", status)
	}
	if desc := entraErrorShape(t, body, "server_error", 50000); !strings.Contains(desc, "AADSTS7000215") {
		t.Errorf("description lacks Entra ID's code: %s", desc)
	}

	s := newStack(t, stackOptions{emulation: true})
	// An unknown resource: echoed, as Entra ID does (tools key caches on
	// it), while the placeholder's aud says which token it mirrors.
	f := v1Form("x")
	f.Set("resource", "https://api.securitycenter.microsoft.com")
	_, _, body = s.post(t, s.proxyURL, "/fabrikam/oauth2/token", f, nil)
	if body["resource"] != "https://api.securitycenter.microsoft.com" {
		t.Errorf("resource = %v, want the one asked for", body["resource"])
	}
	if c, err := s.signer.Verify(body["access_token"].(string)); err != nil || len(c.Audience) != 1 || c.Audience[0] != defenderAPI {
		t.Errorf("placeholder aud %v (%v), want the default scope's %s", c.Audience, err, defenderAPI)
	}
	form := v1Form("x")
	// No consent in northwind: the tool sees Entra ID's code and the link.
	status, _, body = s.post(t, s.proxyURL, "/northwind/oauth2/token", form, nil)
	if status != http.StatusBadRequest {
		t.Errorf("status %d", status)
	}
	if desc := entraErrorShape(t, body, "unauthorized_client", 700016); !strings.Contains(desc, "adminconsent") && !strings.Contains(desc, "prompt=consent") {
		t.Errorf("description has no consent link: %s", desc)
	}
	// Entra ID unavailable: retry later.
	s.sim.FailTokens(simulator.ContosoTenantID, http.StatusServiceUnavailable, "temporarily_unavailable", 90033, 1)
	status, hdr, body := s.post(t, s.proxyURL, "/contoso/oauth2/token", form, nil)
	if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q", status, hdr.Get("Retry-After"))
	}
	entraErrorShape(t, body, "temporarily_unavailable", 90033)
}

func TestPlaceholderBearer(t *testing.T) {
	clk := &settableClock{}
	s := emulationStack(t, clk)
	_, _, body := s.post(t, s.proxyURL, "/contoso/oauth2/token", v1Form(toolKey), nil)
	ph := body["access_token"].(string)
	_, _, body = s.post(t, s.proxyURL, "/contoso/oauth2/token", v1Form(gatewayKey), nil)
	phAll := body["access_token"].(string) // obtained with a key for every tenant
	other, _ := placeholder.NewSigner(nil, clk.now)
	forged, err := other.Mint(placeholder.Claims{TenantID: simulator.ContosoTenantID, ExpiresAt: clk.now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, path, bearer, tenant string
		status                     int
		code                       string
	}{
		{"placeholder alone", "/api/incidents", ph, "", 200, ""},
		{"agreeing header", "/api/incidents", ph, "contoso", 200, ""},
		{"agreeing prefix", "/tenants/" + simulator.ContosoTenantID + "/api/incidents", ph, "", 200, ""},
		{"conflicting header", "/api/incidents", phAll, "fabrikam", 400, "InvalidTenant"},
		{"conflicting prefix", "/tenants/fabrikam/api/incidents", phAll, "", 400, "InvalidTenant"},
		// A key limited to contoso learns nothing about other tenants.
		{"conflicting header, limited key", "/api/incidents", ph, "fabrikam", 403, "TenantNotAllowed"},
		{"another proxy's placeholder", "/api/incidents", forged, "", 401, "Unauthenticated"},
		{"the gateway key still works", "/api/incidents", gatewayKey, "fabrikam", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.sim.APIRequests())
			status, body := s.call(t, s.proxyURL, tt.path, tt.bearer, tt.tenant)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, body)
			}
			if tt.code != "" {
				if code := body["error"].(map[string]any)["code"]; code != tt.code {
					t.Errorf("code %v, want %s", code, tt.code)
				}
				if len(s.sim.APIRequests()) != before {
					t.Error("a refused request reached the API")
				}
			}
		})
	}

	// A placeholder minted without a key (by a replica with no keys file)
	// is not enough where keys are required.
	keyless, err := s.signer.Mint(placeholder.Claims{TenantID: simulator.ContosoTenantID, ExpiresAt: clk.now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := s.call(t, s.proxyURL, "/api/incidents", keyless, ""); status != http.StatusUnauthorized ||
		!strings.Contains(body["error"].(map[string]any)["message"].(string), "without a client key") {
		t.Errorf("keyless placeholder: %d %v", status, body)
	}
	// A limited key naming no tenant, or a bad path, learns nothing about
	// tenants either way: it gets the same answers as anyone.
	if status, body := s.call(t, s.proxyURL, "/api/incidents", toolKey, ""); status != http.StatusBadRequest || body["error"].(map[string]any)["code"] != "MissingTenant" {
		t.Errorf("limited key, no tenant: %d %v", status, body)
	}
	if status, body := s.call(t, s.proxyURL, "/api/%2e%2e/incidents", toolKey, "contoso"); status != http.StatusBadRequest || body["error"].(map[string]any)["code"] != "InvalidPath" {
		t.Errorf("limited key, dot segment: %d %v", status, body)
	}

	// The key's tenants change: the placeholder follows.
	s.handler.SetClientKeys(keysFile(t, map[string]string{toolKey: "fabrikam", gatewayKey: "*"}))
	if status, body := s.call(t, s.proxyURL, "/api/incidents", ph, ""); status != http.StatusForbidden {
		t.Errorf("key no longer allowed contoso: %d %v", status, body)
	}
	// The key is removed: its placeholders are revoked.
	s.handler.SetClientKeys(keysFile(t, map[string]string{gatewayKey: "*"}))
	status, body := s.call(t, s.proxyURL, "/api/incidents", ph, "")
	if status != http.StatusUnauthorized || !strings.Contains(body["error"].(map[string]any)["message"].(string), "no longer valid") {
		t.Errorf("key removed: %d %v", status, body)
	}
	s.handler.SetClientKeys(keysFile(t, map[string]string{toolKey: "contoso", gatewayKey: "*"}))
	if status, _ := s.call(t, s.proxyURL, "/api/incidents", ph, ""); status != http.StatusOK {
		t.Errorf("key restored: %d", status)
	}
	// The tenant is removed.
	tenants, _ := config.NewTenantSet(testTenants[1:])
	s.handler.SetTenants(tenants)
	if status, body := s.call(t, s.proxyURL, "/api/incidents", ph, ""); status != http.StatusForbidden {
		t.Errorf("tenant removed: %d %v", status, body)
	}
	all, _ := config.NewTenantSet(testTenants)
	s.handler.SetTenants(all)

	// Expiry, with no leeway: valid a second before exp, refused at exp.
	c, _ := s.signer.Verify(ph)
	clk.advance(time.Until(c.ExpiresAt) - time.Second)
	if status, body := s.call(t, s.proxyURL, "/api/incidents", ph, ""); status != http.StatusOK {
		t.Errorf("a second before exp: %d %v", status, body)
	}
	clk.advance(time.Second)
	if status, body := s.call(t, s.proxyURL, "/api/incidents", ph, ""); status != http.StatusUnauthorized {
		t.Errorf("at exp: %d %v", status, body)
	}
	// The 401 tells an SDK its token is refused, so it gets a new one
	// (RFC 6750 §3.1); a request with no token gets no error code.
	challenge := func(bearer string) string {
		req, _ := http.NewRequest(http.MethodGet, s.proxyURL+"/api/incidents", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		status, hdr, _ := s.sendJSON(t, req)
		if status != http.StatusUnauthorized {
			t.Errorf("bearer %.8q…: status %d, want 401", bearer, status)
		}
		return hdr.Get("WWW-Authenticate")
	}
	for name, bearer := range map[string]string{"expired": ph, "forged": forged, "unknown key": "not-a-key"} {
		if got := challenge(bearer); !strings.HasPrefix(got, `Bearer realm="xdrproxy", error="invalid_token", error_description="`) || strings.Count(got, `"`) != 6 {
			t.Errorf("%s: WWW-Authenticate %q, want error=\"invalid_token\" with a description", name, got)
		}
	}
	if got := challenge(""); got != `Bearer realm="xdrproxy"` {
		t.Errorf("no token: WWW-Authenticate %q", got)
	}
}

func TestTenantListener(t *testing.T) {
	clk := &settableClock{}
	s := emulationStack(t, clk)
	pinned := s.pinnedURL["contoso"]
	tests := []struct {
		name, path, bearer, tenant string
		status                     int
		code, message              string
	}{
		{"no tenant named", "/api/incidents", gatewayKey, "", 200, "", ""},
		{"same tenant in the header", "/api/incidents", gatewayKey, simulator.ContosoTenantID, 200, "", ""},
		{"same tenant in the prefix", "/tenants/contoso/api/incidents", gatewayKey, "", 200, "", ""},
		{"another tenant in the header", "/api/incidents", gatewayKey, "fabrikam", 400, "InvalidTenant", "the X-Tenant-ID header names tenant fabrikam but this listener serves tenant contoso only"},
		{"another tenant in the prefix", "/tenants/fabrikam/api/incidents", gatewayKey, "", 400, "InvalidTenant", "the path names tenant fabrikam but this listener serves tenant contoso only"},
		{"no key", "/api/incidents", "", "", 401, "Unauthenticated", ""},
		{"an unknown key", "/api/incidents", toolKey + "-x", "", 401, "Unauthenticated", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := s.call(t, pinned, tt.path, tt.bearer, tt.tenant)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, body)
			}
			if tt.status == 200 {
				if _, tid := lastUpstreamAuthorization(t, s.sim); tid != simulator.ContosoTenantID {
					t.Errorf("went out for tenant %q", tid)
				}
				return
			}
			e := body["error"].(map[string]any)
			if e["code"] != tt.code || tt.message != "" && e["message"] != tt.message {
				t.Errorf("error = %v", e)
			}
		})
	}

	// A key allowed both tenants is told of the conflict.
	s.handler.SetClientKeys(keysFile(t, map[string]string{toolKey: "contoso,fabrikam", gatewayKey: "*"}))
	if status, body := s.call(t, pinned, "/api/incidents", toolKey, "fabrikam"); status != http.StatusBadRequest || body["error"].(map[string]any)["code"] != "InvalidTenant" {
		t.Errorf("conflict with a key for both tenants: %d %v", status, body)
	}
	// A key limited to fabrikam gets the limited key's 403 here.
	s.handler.SetClientKeys(keysFile(t, map[string]string{toolKey: "fabrikam", gatewayKey: "*"}))
	if status, body := s.call(t, pinned, "/api/incidents", toolKey, ""); status != http.StatusForbidden {
		t.Errorf("limited key: %d %v", status, body)
	}
	s.handler.SetClientKeys(keysFile(t, map[string]string{toolKey: "contoso", gatewayKey: "*"}))

	// Token emulation on the listener serves its tenant only.
	if status, _, body := s.post(t, pinned, "/fabrikam/oauth2/token", v1Form(gatewayKey), nil); status != 400 {
		t.Errorf("another tenant's token on the listener: %d %v", status, body)
	} else {
		entraErrorShape(t, body, "unauthorized_client", 700016)
	}
	status, _, body := s.post(t, pinned, "/contoso/oauth2/token", v1Form(toolKey), nil)
	if status != 200 {
		t.Fatalf("token on the listener: %d %v", status, body)
	}
	if status, body := s.call(t, pinned, "/api/incidents", body["access_token"].(string), ""); status != 200 {
		t.Errorf("placeholder on the listener: %d %v", status, body)
	}

	// A placeholder for another tenant conflicts with the listener.
	_, _, body = s.post(t, s.proxyURL, "/fabrikam/oauth2/token", v1Form(gatewayKey), nil)
	status, resp := s.call(t, pinned, "/api/incidents", body["access_token"].(string), "")
	if status != 400 || resp["error"].(map[string]any)["message"] != "the placeholder token is for tenant fabrikam but this listener serves tenant contoso only" {
		t.Errorf("fabrikam placeholder on contoso's listener: %d %v", status, resp)
	}

	// The listener's tenant is removed from the tenants: refused.
	tenants, _ := config.NewTenantSet(testTenants[1:])
	s.handler.SetTenants(tenants)
	if status, body := s.call(t, pinned, "/api/incidents", gatewayKey, ""); status != http.StatusForbidden {
		t.Errorf("listener's tenant removed: %d %v", status, body)
	}
}

func TestDiscoveryAndKeys(t *testing.T) {
	s := newStack(t, stackOptions{emulation: true})
	for _, tc := range []struct{ path, issuer, token string }{
		{"/contoso/v2.0/.well-known/openid-configuration", "/contoso/v2.0", "/contoso/oauth2/v2.0/token"},
		{"/contoso/.well-known/openid-configuration", "/contoso/", "/contoso/oauth2/token"},
		// A tenant not served still gets a document: answering only for
		// served tenants would list them to anyone who asks.
		{"/tailspin/v2.0/.well-known/openid-configuration", "/tailspin/v2.0", "/tailspin/oauth2/v2.0/token"},
	} {
		req, _ := http.NewRequest(http.MethodGet, s.proxyURL+tc.path, nil)
		status, _, doc := s.sendJSON(t, req)
		if status != 200 || doc["issuer"] != s.proxyURL+tc.issuer || doc["token_endpoint"] != s.proxyURL+tc.token || doc["authorization_endpoint"] == "" {
			t.Errorf("%s: %d %v", tc.path, status, doc)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.proxyURL+"/not%20a%20tenant/v2.0/.well-known/openid-configuration", nil)
	status, _, body := s.sendJSON(t, req)
	if status != 400 {
		t.Errorf("bad tenant: %d", status)
	}
	entraErrorShape(t, body, "invalid_tenant", 90002)

	// Behind a front that terminates TLS, the public URL is the origin,
	// whatever the request says of itself.
	front := newStack(t, stackOptions{emulation: true, publicURL: testutil.ParseURL(t, "https://xdrproxy.soc.example")})
	req, _ = http.NewRequest(http.MethodGet, front.proxyURL+"/contoso/v2.0/.well-known/openid-configuration", nil)
	req.Header.Set("X-Forwarded-Proto", "http")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("Forwarded", "proto=http;host=evil.example")
	status, _, doc := front.sendJSON(t, req)
	if status != 200 || doc["issuer"] != "https://xdrproxy.soc.example/contoso/v2.0" ||
		doc["token_endpoint"] != "https://xdrproxy.soc.example/contoso/oauth2/v2.0/token" ||
		doc["jwks_uri"] != "https://xdrproxy.soc.example/contoso/discovery/v2.0/keys" {
		t.Errorf("behind a front: %d %v", status, doc)
	}

	// GET endpoints refuse other methods as Entra ID does.
	for _, path := range []string{"/contoso/v2.0/.well-known/openid-configuration", "/contoso/discovery/v2.0/keys"} {
		req, _ = http.NewRequest(http.MethodPost, s.proxyURL+path, nil)
		status, hdr, body := s.sendJSON(t, req)
		if status != http.StatusMethodNotAllowed || hdr.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: %d, Allow %q", path, status, hdr.Get("Allow"))
		}
		entraErrorShape(t, body, "invalid_request", 900561)
	}

	req, _ = http.NewRequest(http.MethodGet, s.proxyURL+"/contoso/discovery/v2.0/keys", nil)
	status, _, set := s.sendJSON(t, req)
	keys, _ := set["keys"].([]any)
	if status != 200 || len(keys) != 1 || keys[0].(map[string]any)["kid"] != s.signer.KeyID() {
		t.Errorf("keys: %d %v", status, set)
	}

	// Without emulation these paths are forwarded like any other.
	backend := newBackend(t, nil)
	plain := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	req, _ = http.NewRequest(http.MethodPost, plain.proxyURL+"/contoso/oauth2/token", strings.NewReader(v1Form("x").Encode()))
	req.Header.Set("X-Tenant-ID", "contoso")
	resp, err := plain.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if reqs := backend.Requests(); resp.StatusCode != 200 || len(reqs) != 1 || reqs[0].Path != "/contoso/oauth2/token" {
		t.Errorf("without emulation: %d, upstream saw %v", resp.StatusCode, reqs)
	}
}

func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
