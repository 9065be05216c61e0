package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// checkEnv points the configuration at a started simulator.
func checkEnv(t *testing.T, sim *simulator.Server, extra map[string]string) {
	t.Helper()
	for _, v := range []string{"AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "XDRPROXY_CLIENT_SECRET_FILE", "XDRPROXY_ROUTES", "XDRPROXY_REQUIRED_ROLES", "XDRPROXY_TENANTS_FILE", "XDRPROXY_DEFAULT_TENANT"} {
		t.Setenv(v, "")
	}
	env := map[string]string{
		"XDRPROXY_AUTHORITY_HOST":     sim.URL(),
		"XDRPROXY_INSTANCE_DISCOVERY": "false",
		"XDRPROXY_UPSTREAM_URL":       sim.URL(),
		"XDRPROXY_CLIENT_ID":          simulator.DefaultClientID,
		"XDRPROXY_CLIENT_SECRET":      simulator.DefaultClientSecret,
		"XDRPROXY_TENANTS": "contoso=" + simulator.ContosoTenantID + ",fabrikam=" + simulator.FabrikamTenantID +
			",northwind=" + simulator.UnconsentedTenantID,
	}
	for k, v := range extra {
		env[k] = v
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func startTestSim(t *testing.T) *simulator.Server {
	t.Helper()
	sim := &simulator.Server{}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func check(t *testing.T, sim *simulator.Server, args ...string) (string, int) {
	t.Helper()
	roots, err := sim.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = runCheck(context.Background(), args, &out, &errOut, roots)
	code := 0
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.Code
	} else if err != nil {
		t.Fatalf("check: %v", err)
	}
	text := out.String() + errOut.String()
	if strings.Contains(text, "eyJ") || strings.Contains(text, simulator.DefaultClientSecret) {
		t.Fatalf("check printed a token or the secret:\n%s", text)
	}
	return out.String(), code
}

func TestCheckTable(t *testing.T) {
	sim := startTestSim(t)
	checkEnv(t, sim, nil)
	out, code := check(t, sim)
	if code != 1 {
		t.Errorf("exit status %d, want 1 (northwind has not consented)", code)
	}
	for _, want := range []string{
		"TENANT", "ALIAS", "AUDIENCE", "EXPIRES", "ROLES", "STATUS",
		simulator.ContosoTenantID, "contoso", "https://api.security.microsoft.com", "AdvancedHunting.Read.All,Alert.Read.All,Incident.Read.All",
		"northwind", "FAILED: consent_required", "AADSTS700016", "admin-consent link: " + sim.URL() + "/" + simulator.UnconsentedTenantID + "/oauth2/authorize",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, " ok\n"); n != 2 {
		t.Errorf("%d tenants ok, want 2:\n%s", n, out)
	}
}

func TestCheckJSONAndRoles(t *testing.T) {
	sim := startTestSim(t)
	tests := []struct {
		name     string
		required string
		code     int
		missing  []string
	}{
		{"roles present", "Incident.Read.All,AdvancedHunting.Read.All", 0, nil},
		{"role missing", "Incident.Read.All,Machine.Isolate", 1, []string{"Machine.Isolate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkEnv(t, sim, map[string]string{"XDRPROXY_REQUIRED_ROLES": tt.required})
			out, code := check(t, sim, "--tenant", "CONTOSO", "--json")
			if code != tt.code {
				t.Errorf("exit status %d, want %d", code, tt.code)
			}
			var results []checkResult
			if err := json.Unmarshal([]byte(out), &results); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if len(results) != 1 || results[0].TenantID != simulator.ContosoTenantID || results[0].Alias != "contoso" {
				t.Fatalf("results = %+v", results)
			}
			r := results[0]
			if r.Audience != "https://api.security.microsoft.com" || r.Expires == nil || len(r.Roles) != 3 {
				t.Errorf("result = %+v", r)
			}
			if strings.Join(r.MissingRoles, ",") != strings.Join(tt.missing, ",") || r.OK != (tt.code == 0) {
				t.Errorf("missing roles %v ok %v; want %v", r.MissingRoles, r.OK, tt.missing)
			}
		})
	}
}

func TestCheckDiagnosisInJSON(t *testing.T) {
	sim := startTestSim(t)
	checkEnv(t, sim, nil)
	out, code := check(t, sim, "--json", "--tenant", "northwind")
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	var results []checkResult
	if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != 1 || results[0].Error == nil {
		t.Fatalf("results = %s (%v)", out, err)
	}
	e := results[0].Error
	if e.Class != "consent_required" || e.Code != 700016 || e.OAuthError != "unauthorized_client" || e.Hint == "" ||
		!strings.Contains(e.AdminConsentURL, simulator.UnconsentedTenantID) {
		t.Errorf("diagnosis = %+v", e)
	}
}

func TestCheckRefusesUnknownTenant(t *testing.T) {
	sim := startTestSim(t)
	checkEnv(t, sim, nil)
	roots, _ := sim.CertPool()
	var out, errOut bytes.Buffer
	err := runCheck(context.Background(), []string{"--tenant", "acme"}, &out, &errOut, roots)
	var ee *exitError
	if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), "acme") {
		t.Fatalf("err = %v, want exit 2 naming acme", err)
	}
	if sim.TotalTokenRequests() != 0 {
		t.Error("an unknown tenant made token requests")
	}
}

func TestConsentURL(t *testing.T) {
	const clientID = "00000000-5eed-4a11-b0b0-00000000c11e"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"any tenant", nil, nil, 0, []string{
			"https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id=" + clientID + "&response_type=code&sso_reload=true",
			"https://login.microsoftonline.com/organizations/v2.0/adminconsent?client_id=" + clientID + "&redirect_uri=https%3A%2F%2Fportal.azure.com&scope=https%3A%2F%2Fapi.security.microsoft.com%2F.default",
		}},
		{"tenant by alias, own redirect", map[string]string{"XDRPROXY_TENANTS": "contoso=11111111-1111-4111-8111-111111111111"},
			[]string{"--tenant", "contoso", "--redirect-uri", "https://mssp.example/onboarded"}, 0, []string{
				"https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/oauth2/authorize?client_id=" + clientID,
				"https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0/adminconsent?client_id=" + clientID + "&redirect_uri=https%3A%2F%2Fmssp.example%2Fonboarded",
			}},
		{"tenant by domain", nil, []string{"--tenant", "contoso.onmicrosoft.com"}, 0, []string{"/contoso.onmicrosoft.com/v2.0/adminconsent?"}},
		{"dotted alias from the tenants file", map[string]string{"XDRPROXY_TENANTS_FILE": tenantsFileFor(t, "contoso.prod=11111111-1111-4111-8111-111111111111\n")},
			[]string{"--tenant", "contoso.prod"}, 0, []string{"/11111111-1111-4111-8111-111111111111/v2.0/adminconsent?"}},
		{"GCC High cloud", map[string]string{"XDRPROXY_CLOUD": "usgovhigh"}, nil, 0, []string{
			"https://login.microsoftonline.us/common/oauth2/authorize?", "scope=https%3A%2F%2Fapi-gov.security.microsoft.us%2F.default",
		}},
		{"common refused", nil, []string{"--tenant", "common"}, 2, nil},
		{"unknown alias", nil, []string{"--tenant", "acme"}, 2, nil},
		{"relative redirect", nil, []string{"--redirect-uri", "/back"}, 2, nil},
		{"no client ID", map[string]string{"XDRPROXY_CLIENT_ID": ""}, nil, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []string{"AZURE_CLIENT_ID", "AZURE_AUTHORITY_HOST", "XDRPROXY_AUTHORITY_HOST", "XDRPROXY_CLOUD", "XDRPROXY_TENANTS", "XDRPROXY_TENANTS_FILE", "XDRPROXY_SCOPE", "XDRPROXY_ROUTES", "XDRPROXY_UPSTREAM_URL"} {
				t.Setenv(v, "")
			}
			t.Setenv("XDRPROXY_CLIENT_ID", clientID)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			err := execute(append([]string{"consent-url"}, tt.args...), &out, &errOut)
			code := 0
			var ee *exitError
			if errors.As(err, &ee) {
				code = ee.Code
			}
			if code != tt.code {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.code)
			}
			for _, want := range tt.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func tenantsFileFor(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tenants")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
