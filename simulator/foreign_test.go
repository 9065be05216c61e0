package simulator_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// TestForeignCredentials sends the API every kind of Authorization a
// leaking proxy could pass on, and the simulator's own tokens, and checks
// that exactly the foreign ones are counted and described (never with the
// credential), while the answers stay what they were.
func TestForeignCredentials(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	sim := &simulator.Server{Now: clock.Now}
	c := startSim(t, sim)
	defender := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	graph := token(t, c, sim, simulator.ContosoTenantID, graphScope)
	expiring := token(t, c, sim, simulator.FabrikamTenantID, defenderScope)
	// A token another simulator signed stands for any JWT the upstream did
	// not issue: an xdrproxy placeholder, another tenant's or cloud's token.
	other := &simulator.Server{}
	oc := startSim(t, other)
	otherToken := token(t, oc, other, simulator.ContosoTenantID, defenderScope)

	const clientKey = "xdrk_0123456789abcdef-client-key"
	incidents, graphIncidents := sim.URL()+"/api/incidents", sim.URL()+"/v1.0/security/incidents"
	tests := []struct {
		name, url string
		auth      []string
		status    int
		kind      string // "" when the credential is the simulator's own
	}{
		{"own token", incidents, []string{"Bearer " + defender}, 200, ""},
		{"own Graph token", graphIncidents, []string{"Bearer " + graph}, 200, ""},
		{"own token for the other API", graphIncidents, []string{"Bearer " + defender}, 401, ""},
		{"missing", incidents, nil, 401, simulator.ForeignMissing},
		{"missing on Graph", graphIncidents, nil, 401, simulator.ForeignMissing},
		{"client key", incidents, []string{"Bearer " + clientKey}, 401, simulator.ForeignNotIssued},
		{"client key on Graph", graphIncidents, []string{"Bearer " + clientKey}, 401, simulator.ForeignNotIssued},
		{"another issuer's token", incidents, []string{"Bearer " + otherToken}, 401, simulator.ForeignNotIssued},
		{"garbage", incidents, []string{"Bearer not.a.jwt"}, 401, simulator.ForeignNotIssued},
		{"basic", incidents, []string{"Basic dXNlcjpzM2NyZXQ="}, 401, simulator.ForeignNotBearer},
		{"bare key", incidents, []string{clientKey}, 401, simulator.ForeignNotBearer},
		{"empty bearer", graphIncidents, []string{"Bearer "}, 401, simulator.ForeignEmptyBearer},
		{"own token and a client key", incidents, []string{"Bearer " + defender, "Bearer " + clientKey}, 200, simulator.ForeignSeveral},
		{"unknown API path", sim.URL() + "/api/machines", []string{"Bearer " + clientKey}, 404, simulator.ForeignNotIssued},
		{"users delta", sim.URL() + "/v1.0/users/delta", []string{"Bearer " + clientKey}, 401, simulator.ForeignNotIssued},
	}
	var want []simulator.ForeignCredential
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tt.auth {
				req.Header.Add("Authorization", v)
			}
			before := sim.ForeignCredentials()
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			counted := sim.ForeignCredentials() - before
			if tt.kind == "" && counted != 0 {
				t.Errorf("the simulator's own token counted as foreign: %v", sim.ForeignCredentialRequests())
			}
			if tt.kind != "" {
				if counted != 1 {
					t.Errorf("counted %d foreign credentials, want 1", counted)
				}
				want = append(want, simulator.ForeignCredential{Method: http.MethodGet, Path: req.URL.Path, Kind: tt.kind})
			}
		})
	}

	t.Run("expired own token", func(t *testing.T) {
		before := sim.ForeignCredentials()
		clock.Advance(2 * time.Hour)
		resp, body := do(t, c, http.MethodGet, incidents, expiring, nil)
		checkAPIError(t, resp, body, http.StatusUnauthorized, "Unauthorized")
		if n := sim.ForeignCredentials() - before; n != 0 {
			t.Errorf("an expired token the simulator issued counted as foreign (%d)", n)
		}
	})

	t.Run("Entra ID endpoints are not the API", func(t *testing.T) {
		before := sim.ForeignCredentials()
		req, err := http.NewRequest(http.MethodPost, sim.URL()+"/"+simulator.ContosoTenantID+"/oauth2/v2.0/token", strings.NewReader(credForm(defenderScope).Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(simulator.DefaultClientID, simulator.DefaultClientSecret)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		do(t, c, http.MethodGet, sim.URL()+"/"+simulator.ContosoTenantID+"/v2.0/.well-known/openid-configuration", clientKey, nil)
		if n := sim.ForeignCredentials() - before; n != 0 {
			t.Errorf("Entra ID requests counted as foreign credentials: %v", sim.ForeignCredentialRequests()[len(want):])
		}
	})

	got := sim.ForeignCredentialRequests()
	if !slices.Equal(got, want) {
		t.Errorf("ForeignCredentialRequests =\n%v\nwant\n%v", got, want)
	}
	described := fmt.Sprintf("%+v %#v", got, got)
	for _, secret := range []string{clientKey, defender, otherToken, "dXNlcjpzM2NyZXQ=", "not.a.jwt", url.QueryEscape(clientKey)} {
		if strings.Contains(described, secret) {
			t.Errorf("the description holds a credential: %s", described)
		}
	}
}
