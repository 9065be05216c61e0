package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// issueForTest gets an access token from s's v2.0 token endpoint.
func issueForTest(t *testing.T, s *Server, tenantID, scope string) string {
	t.Helper()
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {DefaultClientID},
		"client_secret": {DefaultClientSecret},
		"scope":         {scope},
	}
	r := httptest.NewRequest(http.MethodPost, "/"+tenantID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("token for %s: status %d: %s", tenantID, w.Code, w.Body)
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("token for %s: %v: %s", tenantID, err, w.Body)
	}
	return body.AccessToken
}

// Each refusal is worded as the real API words it: the messages are part of
// what clients (and the proxy's tests) see.
func TestAuthorize(t *testing.T) {
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	clock := now
	s := &Server{Now: func() time.Time { return clock }}
	const (
		defender = "https://api.security.microsoft.com/.default"
		graph    = "https://graph.microsoft.com/.default"
		rolePoor = "55555555-5555-4555-8555-555555555555"
		removed  = "66666666-6666-4666-8666-666666666666"
	)
	if err := s.SetTenant(Tenant{ID: rolePoor, Consented: true, Roles: []string{"Alert.Read.All"}, GraphRoles: []string{"User.Read.All"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTenant(Tenant{ID: removed, Consented: true, Roles: DefaultRoles}); err != nil {
		t.Fatal(err)
	}
	defenderToken := issueForTest(t, s, ContosoTenantID, defender)
	graphToken := issueForTest(t, s, ContosoTenantID, graph)
	poorDefender := issueForTest(t, s, rolePoor, defender)
	poorGraph := issueForTest(t, s, rolePoor, graph)
	removedDefender := issueForTest(t, s, removed, defender)
	removedGraph := issueForTest(t, s, removed, graph)
	s.mu.Lock()
	delete(s.tenants, removed)
	s.mu.Unlock()
	foreign := issueForTest(t, &Server{Now: s.Now}, ContosoTenantID, defender)

	// Defender quotes ParseToken's error, whose wording is the JWT library's.
	const invalidToken = "\x00invalid"
	incidentRoles := []string{"Incident.Read.All", "Incident.ReadWrite.All"}
	graphRoles := []string{"SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"}
	tests := []struct {
		name          string
		api           *apiDialect
		roles         []string
		authorization string
		later         time.Duration // how long after issue the request comes
		want          *apiRefusal   // invalidToken: ParseToken's error
	}{
		{"defender ok", defenderAPI, incidentRoles, "Bearer " + defenderToken, 0, nil},
		{"defender lower-case scheme", defenderAPI, incidentRoles, "bearer " + defenderToken, 0, nil},
		{"defender no header", defenderAPI, incidentRoles, "", 0, &apiRefusal{401, "Unauthorized", "Authorization header is missing."}},
		{"defender basic", defenderAPI, incidentRoles, "Basic abc", 0, &apiRefusal{401, "Unauthorized", "Authorization header is not a bearer token."}},
		{"defender bearer alone", defenderAPI, incidentRoles, "Bearer", 0, &apiRefusal{401, "Unauthorized", "Authorization header is not a bearer token."}},
		{"defender empty bearer", defenderAPI, incidentRoles, "Bearer ", 0, &apiRefusal{401, "Unauthorized", "Authorization header is not a bearer token."}},
		{"defender garbage", defenderAPI, incidentRoles, "Bearer not.a.jwt", 0, &apiRefusal{401, "Unauthorized", invalidToken}},
		{"defender foreign", defenderAPI, incidentRoles, "Bearer " + foreign, 0, &apiRefusal{401, "Unauthorized", invalidToken}},
		{"defender expired", defenderAPI, incidentRoles, "Bearer " + defenderToken, 2 * time.Hour, &apiRefusal{401, "Unauthorized", invalidToken}},
		{"defender graph token", defenderAPI, incidentRoles, "Bearer " + graphToken, 0, &apiRefusal{401, "Unauthorized", `The access token has the wrong audience "https://graph.microsoft.com".`}},
		{"defender removed tenant", defenderAPI, incidentRoles, "Bearer " + removedDefender, 0, &apiRefusal{401, "Unauthorized", "The access token's tenant is unknown."}},
		{"defender missing roles", defenderAPI, incidentRoles, "Bearer " + poorDefender, 0, &apiRefusal{403, "Forbidden", "The application does not have any of the required application permissions (Incident.Read.All, Incident.ReadWrite.All) to access the resource."}},
		{"graph ok", graphAPI, graphRoles, "Bearer " + graphToken, 0, nil},
		{"graph no header", graphAPI, graphRoles, "", 0, &apiRefusal{401, "InvalidAuthenticationToken", "Access token is empty."}},
		{"graph empty bearer", graphAPI, graphRoles, "Bearer ", 0, &apiRefusal{401, "InvalidAuthenticationToken", "Access token is empty."}},
		{"graph basic", graphAPI, graphRoles, "Basic abc", 0, &apiRefusal{401, "InvalidAuthenticationToken", "Access token validation failure. Invalid authorization scheme."}},
		{"graph bearer alone", graphAPI, graphRoles, "Bearer", 0, &apiRefusal{401, "InvalidAuthenticationToken", "Access token validation failure. Invalid authorization scheme."}},
		{"graph garbage", graphAPI, graphRoles, "Bearer not.a.jwt", 0, &apiRefusal{401, "InvalidAuthenticationToken", "Access token validation failure."}},
		{"graph expired", graphAPI, graphRoles, "Bearer " + graphToken, 2 * time.Hour, &apiRefusal{401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."}},
		{"graph defender token", graphAPI, graphRoles, "Bearer " + defenderToken, 0, &apiRefusal{401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."}},
		{"graph removed tenant", graphAPI, graphRoles, "Bearer " + removedGraph, 0, &apiRefusal{401, "InvalidAuthenticationToken", "Access token validation failure. Invalid tenant."}},
		{"graph missing roles", graphAPI, graphRoles, "Bearer " + poorGraph, 0, &apiRefusal{403, "Forbidden", "Missing role permissions on the request. API requires one of 'SecurityIncident.Read.All, SecurityIncident.ReadWrite.All'. Roles on the request 'User.Read.All'."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock = now.Add(tt.later)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.authorization != "" {
				r.Header.Set("Authorization", tt.authorization)
			}
			want := tt.want
			if want != nil && want.message == invalidToken {
				_, err := s.ParseToken(strings.TrimPrefix(tt.authorization, "Bearer "))
				if err == nil {
					t.Fatal("ParseToken accepts the token")
				}
				want = &apiRefusal{want.status, want.code, "The access token is invalid: " + err.Error()}
			}
			claims, refused := s.authorize(r, tt.api, tt.roles)
			if diff := cmp.Diff(want, refused, cmp.AllowUnexported(apiRefusal{})); diff != "" {
				t.Errorf("refusal (-want +got):\n%s", diff)
			}
			if tt.want == nil && claims == nil {
				t.Error("accepted without claims")
			}
		})
	}
}
