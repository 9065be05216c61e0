package simulator_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/simulator"
)

func TestAdminConsentV2(t *testing.T) {
	const wrongClient = "99999999-9999-4999-8999-999999999999"
	consentURL := func(sim *simulator.Server, tenant, clientID, redirect string) string {
		q := url.Values{"client_id": {clientID}, "scope": {"https://graph.microsoft.com/.default"}, "state": {"st-42"}}
		if redirect != "" {
			q.Set("redirect_uri", redirect)
		}
		return sim.URL() + "/" + tenant + "/v2.0/adminconsent?" + q.Encode()
	}
	// get does not follow redirects, so the test sees where Entra ID sends
	// the browser.
	get := func(t *testing.T, c *http.Client, rawURL string) (*http.Response, string) {
		t.Helper()
		nc := *c
		nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := nc.Get(rawURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	tokenStatus := func(t *testing.T, c *http.Client, sim *simulator.Server) int {
		t.Helper()
		resp, _ := postForm(t, c, sim, "/"+simulator.UnconsentedTenantID+"/oauth2/v2.0/token", credForm(graphScope))
		return resp.StatusCode
	}

	t.Run("success redirects back", func(t *testing.T) {
		sim := &simulator.Server{}
		c := startSim(t, sim)
		if st := tokenStatus(t, c, sim); st != http.StatusBadRequest {
			t.Fatalf("before consent: token status %d, want 400", st)
		}
		resp, body := get(t, c, consentURL(sim, simulator.UnconsentedTenantID, simulator.DefaultClientID, "https://app.example/consented?keep=1"))
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("status %d, want 302: %s", resp.StatusCode, body)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if loc.Scheme != "https" || loc.Host != "app.example" || loc.Path != "/consented" {
			t.Errorf("redirected to %s, want https://app.example/consented", loc)
		}
		q := loc.Query()
		want := map[string]string{
			"admin_consent": "True",
			"tenant":        simulator.UnconsentedTenantID,
			"state":         "st-42",
			"scope":         "https://graph.microsoft.com/.default",
			"keep":          "1",
		}
		for k, v := range want {
			if q.Get(k) != v {
				t.Errorf("redirect %s = %q, want %q (Location %s)", k, q.Get(k), v, loc)
			}
		}
		if q.Has("error") {
			t.Errorf("success redirect carries error=%q", q.Get("error"))
		}
		if st := tokenStatus(t, c, sim); st != http.StatusOK {
			t.Fatalf("after consent: token status %d, want 200", st)
		}
		claims, err := sim.ParseToken(token(t, c, sim, simulator.UnconsentedTenantID, graphScope))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(claims.Roles, simulator.DefaultGraphRoles) {
			t.Errorf("Graph roles after consent = %q, want %q", claims.Roles, simulator.DefaultGraphRoles)
		}
		claims, err = sim.ParseToken(token(t, c, sim, simulator.UnconsentedTenantID, defenderScope))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(claims.Roles, simulator.DefaultRoles) {
			t.Errorf("Defender roles after consent = %q, want %q", claims.Roles, simulator.DefaultRoles)
		}
	})

	t.Run("success without redirect_uri", func(t *testing.T) {
		sim := &simulator.Server{}
		c := startSim(t, sim)
		resp, body := get(t, c, consentURL(sim, simulator.UnconsentedTenantID, simulator.DefaultClientID, ""))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "consent granted") {
			t.Errorf("status %d body %q, want 200 and a granted page", resp.StatusCode, body)
		}
		if st := tokenStatus(t, c, sim); st != http.StatusOK {
			t.Errorf("after consent: token status %d, want 200", st)
		}
	})

	refusals := []struct {
		name, tenant, clientID, redirect string
		status                           int
		code                             string // in the page, or error_description of the redirect
	}{
		{"unknown application redirects with error", simulator.UnconsentedTenantID, wrongClient, "https://app.example/cb", http.StatusFound, "AADSTS700016"},
		{"unknown application without redirect_uri", simulator.UnconsentedTenantID, wrongClient, "", http.StatusBadRequest, "AADSTS700016"},
		{"unknown tenant", "44444444-4444-4444-8444-444444444444", simulator.DefaultClientID, "https://app.example/cb", http.StatusBadRequest, "AADSTS90002"},
		{"organizations", "organizations", simulator.DefaultClientID, "https://app.example/cb", http.StatusBadRequest, "AADSTS90002"},
		{"relative redirect_uri", simulator.UnconsentedTenantID, simulator.DefaultClientID, "/cb", http.StatusBadRequest, "AADSTS90102"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			sim := &simulator.Server{}
			c := startSim(t, sim)
			resp, body := get(t, c, consentURL(sim, tt.tenant, tt.clientID, tt.redirect))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == http.StatusFound {
				loc, err := url.Parse(resp.Header.Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				q := loc.Query()
				if loc.Host != "app.example" || q.Get("error") != "unauthorized_client" || !strings.HasPrefix(q.Get("error_description"), tt.code+":") || q.Get("state") != "st-42" {
					t.Errorf("redirect %s, want error=unauthorized_client, %s and state", loc, tt.code)
				}
				if q.Has("admin_consent") {
					t.Error("refusal redirect says admin_consent")
				}
			} else if !strings.Contains(body, tt.code) {
				t.Errorf("page %q lacks %s", body, tt.code)
			}
			if st := tokenStatus(t, c, sim); st != http.StatusBadRequest {
				t.Errorf("a refused consent granted consent: token status %d", st)
			}
		})
	}
}

func TestAdminConsentGrantsGraphRoles(t *testing.T) {
	// A tenant stored with no Graph roles at all (not nil) gets the
	// defaults from either consent page.
	const tenant = "88888888-8888-4888-8888-888888888888"
	pages := []struct{ name, path string }{
		{"v1 authorize", "/" + tenant + "/oauth2/authorize?prompt=consent&client_id=" + simulator.DefaultClientID},
		{"v2.0 adminconsent", "/" + tenant + "/v2.0/adminconsent?client_id=" + simulator.DefaultClientID},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			sim := &simulator.Server{}
			c := startSim(t, sim)
			if err := sim.SetTenant(simulator.Tenant{ID: tenant, Name: "Empty", GraphRoles: []string{}}); err != nil {
				t.Fatal(err)
			}
			resp, body := do(t, c, http.MethodGet, sim.URL()+p.path, "", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("consent page: %d %s", resp.StatusCode, body)
			}
			claims, err := sim.ParseToken(token(t, c, sim, tenant, graphScope))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(claims.Roles, simulator.DefaultGraphRoles) {
				t.Errorf("Graph roles = %q, want %q", claims.Roles, simulator.DefaultGraphRoles)
			}
		})
	}
}
