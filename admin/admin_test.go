package admin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrproxy/xdrproxy/admin"
	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

const (
	defender = "https://api.security.microsoft.com/.default"
	graph    = "https://graph.microsoft.com/.default"
	contoso  = "11111111-1111-4111-8111-111111111111"
	fabrikam = "22222222-2222-4222-8222-222222222222"
)

// tenantList is a fixed set of tenants.
type tenantList struct{ set *config.TenantSet }

func (l tenantList) Tenants() *config.TenantSet { return l.set }

// tokenStates is a fixed table of token states; a key not in it was never
// asked for.
type tokenStates map[tokencache.Key]tokencache.Status

func (s tokenStates) Status(k tokencache.Key) (tokencache.Status, bool) {
	st, ok := s[k]
	return st, ok
}

// newAdmin serves the admin endpoints for contoso and fabrikam, with the
// Defender API and a Graph route, and the token states given.
func newAdmin(t *testing.T, required []string, pprof bool, states tokenStates, ready *admin.Readiness) *httptest.Server {
	t.Helper()
	return serveAdmin(t, adminOptions(t, required, pprof, states, ready))
}

// adminOptions are the collaborators newAdmin serves with.
func adminOptions(t *testing.T, required []string, pprof bool, states tokenStates, ready *admin.Readiness) admin.Options {
	t.Helper()
	tenants, err := config.NewTenantSet([]config.Tenant{{ID: contoso, Alias: "contoso"}, {ID: fabrikam}})
	if err != nil {
		t.Fatal(err)
	}
	authority, _ := url.Parse("https://login.microsoftonline.com")
	cfg := &config.Config{
		ClientID:      "00000000-5eed-4a11-b0b0-00000000c11e",
		AuthorityHost: authority,
		Scope:         defender,
		Routes:        []config.Route{{Prefix: "/graph/", Scope: graph}},
		RequiredRoles: required,
		Pprof:         pprof,
	}
	return admin.Options{
		Config:    cfg,
		Tenants:   tenantList{tenants},
		Tokens:    states,
		Registry:  prometheus.NewRegistry(),
		Readiness: ready,
	}
}

// serveAdmin serves the admin handler of o on a real server, closed when
// the test ends.
func serveAdmin(t *testing.T, o admin.Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(admin.NewHandler(o))
	t.Cleanup(srv.Close)
	return srv
}

func withRoles(roles ...string) tokencache.Status {
	return tokencache.Status{HasToken: true, ExpiresOn: time.Now().Add(time.Hour), Roles: roles}
}

func TestReadyz(t *testing.T) {
	consent := &tokencache.AcquisitionError{TenantID: fabrikam, Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016},
		Description: "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'."}
	refused := &tokencache.AcquisitionError{TenantID: contoso, Status: 401, OAuthError: "invalid_client", Codes: []int{7000215},
		Description: "AADSTS7000215: Invalid client secret provided."}
	failed := func(err error) tokencache.Status { return tokencache.Status{LastError: err} }
	both := tokenStates{
		{TenantID: contoso, Scope: defender}:  withRoles("Incident.Read.All"),
		{TenantID: contoso, Scope: graph}:     withRoles("SecurityIncident.Read.All"),
		{TenantID: fabrikam, Scope: defender}: withRoles("Incident.Read.All"),
		{TenantID: fabrikam, Scope: graph}:    failed(consent),
	}
	noneServed := tokenStates{
		{TenantID: contoso, Scope: defender}:  failed(refused),
		{TenantID: contoso, Scope: graph}:     failed(refused),
		{TenantID: fabrikam, Scope: defender}: failed(refused),
		{TenantID: fabrikam, Scope: graph}:    failed(refused),
	}
	tests := []struct {
		name       string
		query      string
		warm       bool
		draining   bool
		required   []string
		states     tokenStates
		wantCode   int
		wantInBody string
	}{
		{"warming up", "", false, false, nil, both, 503, "warming up"},
		{"draining", "", true, true, nil, both, 503, "draining"},
		{"draining before the warm-up ended", "", false, true, nil, both, 503, "draining"},
		{"warm", "", true, false, nil, both, 200, "ready"},
		{"one tenant without consent or roles is not the pod's problem", "", true, false, []string{"SecurityIncident.Read.All"}, both, 200, "ready"},
		{"no tenant can be served", "", true, false, nil, noneServed, 503, "AADSTS7000215"},
		{"nothing tried yet is not a failure", "", true, false, nil, tokenStates{}, 200, "ready"},
		{"strict: a tenant with every token", "?tenant=contoso", true, false, []string{"SecurityIncident.Read.All"}, both, 200, "contoso ready"},
		{"strict: by GUID", "?tenant=" + strings.ToUpper(contoso), true, false, nil, both, 200, "contoso ready"},
		{"strict: a scope without consent", "?tenant=" + fabrikam, true, false, nil, both, 503, "AADSTS700016"},
		{"strict: a role missing", "?tenant=" + fabrikam, true, false, []string{"SecurityIncident.Read.All"}, both, 503, "SecurityIncident.Read.All (XDRPROXY_REQUIRED_ROLES)"},
		{"strict: while warming up, by its own state", "?tenant=contoso", false, false, nil, both, 200, "contoso ready"},
		{"strict: not yet tried", "?tenant=contoso", true, false, nil, tokenStates{}, 503, "yet"},
		{"strict: a tenant not served", "?tenant=northwind", true, false, nil, both, 404, "not served"},
		{"strict: draining", "?tenant=contoso", true, true, nil, both, 503, "draining"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ready admin.Readiness
			if tt.warm {
				ready.MarkWarm()
			}
			if tt.draining {
				ready.MarkDraining()
			}
			srv := newAdmin(t, tt.required, false, tt.states, &ready)
			code, body := testutil.Get(t, srv.URL+"/readyz"+tt.query)
			if code != tt.wantCode || !strings.Contains(body, tt.wantInBody) {
				t.Errorf("/readyz%s = %d %q, want %d with %q", tt.query, code, body, tt.wantCode, tt.wantInBody)
			}
		})
	}
}
func TestEndpointsServed(t *testing.T) {
	var ready admin.Readiness
	tests := []struct {
		path  string
		pprof bool
		want  int
	}{
		{"/healthz", false, 200},
		{"/metrics", false, 200},
		{"/", false, 200},
		{"/debug/pprof/", false, 404},
		{"/debug/pprof/", true, 200},
		{"/elsewhere", false, 404},
		{"/index.html", false, 404}, // only / itself is the status page
	}
	for _, tt := range tests {
		srv := newAdmin(t, nil, tt.pprof, tokenStates{}, &ready)
		if code, _ := testutil.Get(t, srv.URL+tt.path); code != tt.want {
			t.Errorf("%s with pprof=%v: %d, want %d", tt.path, tt.pprof, code, tt.want)
		}
	}
}

func TestTenantsReport(t *testing.T) {
	consent := &tokencache.AcquisitionError{TenantID: fabrikam, Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016},
		Description: "AADSTS700016: Application not found in the directory"}
	states := tokenStates{
		{TenantID: contoso, Scope: defender}: withRoles("Incident.Read.All", "Alert.Read.All"),
		{TenantID: contoso, Scope: graph}: {HasToken: true, ExpiresOn: time.Now().Add(time.Minute), Roles: []string{"x"},
			LastError: errors.New("Entra ID unreachable"), RetryAt: time.Now().Add(time.Hour)},
		{TenantID: fabrikam, Scope: defender}: {LastError: consent, RetryAt: time.Now().Add(-time.Second)},
	}
	srv := newAdmin(t, nil, false, states, &admin.Readiness{})
	resp, err := http.Get(srv.URL + "/tenants")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Tenants []struct {
			TenantID string `json:"tenant_id"`
			Alias    string `json:"alias"`
			Scopes   []struct {
				Scope     string     `json:"scope"`
				State     string     `json:"state"`
				Roles     []string   `json:"roles"`
				RetryAt   *time.Time `json:"retry_at"`
				LastError *struct {
					Class           string `json:"class"`
					Code            int    `json:"aadsts"`
					AdminConsentURL string `json:"admin_consent_url"`
				} `json:"last_error"`
			} `json:"scopes"`
		} `json:"tenants"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("not JSON: %v (%s)", err, resp.Header.Get("Content-Type"))
	}
	if len(out.Tenants) != 2 || out.Tenants[0].Alias != "contoso" || len(out.Tenants[0].Scopes) != 2 || len(out.Tenants[1].Scopes) != 2 {
		t.Fatalf("tenants = %+v", out.Tenants)
	}
	valid, failing := out.Tenants[0].Scopes[0], out.Tenants[0].Scopes[1]
	if valid.State != "valid" || strings.Join(valid.Roles, ",") != "Alert.Read.All,Incident.Read.All" || valid.LastError != nil {
		t.Errorf("contoso's Defender token: %+v", valid)
	}
	if failing.State != "failing" || failing.RetryAt == nil || failing.LastError == nil || failing.LastError.Class != "unknown" {
		t.Errorf("contoso's Graph token, still valid while refreshes fail: %+v", failing)
	}
	failed, none := out.Tenants[1].Scopes[0], out.Tenants[1].Scopes[1]
	if failed.State != "failed" || failed.RetryAt != nil || failed.LastError == nil || failed.LastError.Class != "consent_required" ||
		failed.LastError.Code != 700016 || !strings.Contains(failed.LastError.AdminConsentURL, fabrikam) {
		t.Errorf("fabrikam without consent: %+v %+v", failed, failed.LastError)
	}
	if none.State != "none" || none.LastError != nil {
		t.Errorf("a token never asked for: %+v", none)
	}
}
