package check_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/check"
	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/server"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// runCheck checks against sim as `xdrproxy check [--tenant T] [--json]`
// does, and returns what it printed and the exit status it gives.
func runCheck(t *testing.T, sim *simulator.Server, tenant string, asJSON bool) (string, int) {
	t.Helper()
	roots, err := sim.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	tenants, err := check.Select(cfg, tenant)
	if err != nil {
		t.Fatal(err)
	}
	src, err := server.NewTokenSource(cfg, roots)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = check.Run(context.Background(), cfg, src, &out, check.Options{Tenants: tenants, JSON: asJSON})
	code := 0
	if errors.Is(err, check.ErrFailed) {
		code = 1
	} else if err != nil {
		t.Fatalf("check: %v", err)
	}
	text := out.String()
	if strings.Contains(text, "eyJ") || strings.Contains(text, simulator.DefaultClientSecret) {
		t.Fatalf("check printed a token or the secret:\n%s", text)
	}
	return text, code
}

func TestCheckTable(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	testutil.SimulatorEnv(t, sim, nil)
	out, code := runCheck(t, sim, "", false)
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
	sim := testutil.StartSimulator(t, nil)
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
			testutil.SimulatorEnv(t, sim, map[string]string{"XDRPROXY_REQUIRED_ROLES": tt.required})
			out, code := runCheck(t, sim, "CONTOSO", true)
			if code != tt.code {
				t.Errorf("exit status %d, want %d", code, tt.code)
			}
			var results []check.Result
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
	sim := testutil.StartSimulator(t, nil)
	testutil.SimulatorEnv(t, sim, nil)
	out, code := runCheck(t, sim, "northwind", true)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	var results []check.Result
	if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != 1 || results[0].Error == nil {
		t.Fatalf("results = %s (%v)", out, err)
	}
	e := results[0].Error
	if e.Class != "consent_required" || e.Code != 700016 || e.OAuthError != "unauthorized_client" || e.Hint == "" ||
		!strings.Contains(e.AdminConsentURL, simulator.UnconsentedTenantID) {
		t.Errorf("diagnosis = %+v", e)
	}
}
