package tokencache_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// unsignedJWT returns a JWT-shaped string carrying claims, for sources
// that fabricate tokens; nothing here verifies signatures.
func unsignedJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(payload) + ".sig"
}

func TestNewTokenDecodesClaimsOnce(t *testing.T) {
	exp := time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		value       string
		want        tokencache.Claims
		wantReadErr bool
	}{
		{name: "JWT", value: unsignedJWT(t, map[string]any{"tid": "t1", "aud": "https://api.security.microsoft.com", "roles": []string{"Incident.Read.All"}, "appid": "app", "exp": exp.Unix()}),
			want: tokencache.Claims{TenantID: "t1", Audience: []string{"https://api.security.microsoft.com"}, Roles: []string{"Incident.Read.All"}, AppID: "app", ExpiresAt: time.Unix(exp.Unix(), 0)}},
		{name: "v2 token names the client in azp", value: unsignedJWT(t, map[string]any{"azp": "app2", "aud": []string{"a", "b"}}),
			want: tokencache.Claims{AppID: "app2", Audience: []string{"a", "b"}}},
		{name: "opaque token: no claims, and why", value: "not-a-jwt", wantReadErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tokencache.NewToken(tt.value, exp, time.Time{})
			if diff := cmp.Diff(tt.want, tok.Claims, cmpopts.IgnoreFields(tokencache.Claims{}, "ReadErr")); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if (tok.Claims.ReadErr != nil) != tt.wantReadErr {
				t.Errorf("ReadErr = %v, want an error: %v", tok.Claims.ReadErr, tt.wantReadErr)
			}
			if tok.Value != tt.value || !tok.ExpiresOn.Equal(exp) || !tok.RefreshOn.IsZero() {
				t.Errorf("NewToken changed the value or times: %v", tok)
			}
		})
	}
}

func TestTokensCarryTheirClaimsThroughTheCache(t *testing.T) {
	sim := testutil.StartSimulator(t, &simulator.Server{})
	c := newCache(t, msalSource(t, sim, simulator.DefaultClientSecret), tokencache.Options{})
	tok, err := c.Token(context.Background(), simulator.ContosoTenantID, scope)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Claims.TenantID != simulator.ContosoTenantID || tok.Claims.AppID != simulator.DefaultClientID || !slices.Equal(tok.Claims.Roles, simulator.DefaultRoles) {
		t.Errorf("claims = %+v, want Contoso's, issued to the proxy's client with the default roles", tok.Claims)
	}
	again, err := tokencache.DecodeClaims(tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(again, tok.Claims); diff != "" {
		t.Errorf("the token's claims differ from its value's (-decoded +held):\n%s", diff)
	}
	st, _ := c.Status(tokencache.Key{TenantID: simulator.ContosoTenantID, Scope: scope})
	if !slices.Equal(st.Roles, tok.Claims.Roles) {
		t.Errorf("Status roles %q, want the token's %q", st.Roles, tok.Claims.Roles)
	}
	if cached, _ := c.Token(context.Background(), simulator.ContosoTenantID, scope); !cached.Cached || !slices.Equal(cached.Claims.Roles, tok.Claims.Roles) {
		t.Errorf("a cached token lost its claims: %+v", cached.Claims)
	}
}

func TestMissingRoles(t *testing.T) {
	tests := []struct {
		name     string
		have     []string
		required []string
		want     []string
	}{
		{"nothing required", []string{"Incident.Read.All"}, nil, nil},
		{"all held", []string{"Incident.Read.All", "AdvancedQuery.Read.All"}, []string{"AdvancedQuery.Read.All"}, nil},
		{"one missing", []string{"Incident.Read.All"}, []string{"Incident.Read.All", "Alert.Read.All"}, []string{"Alert.Read.All"}},
		{"no token, every role missing, in the required order", nil, []string{"b", "a"}, []string{"b", "a"}},
		{"case counts", []string{"incident.read.all"}, []string{"Incident.Read.All"}, []string{"Incident.Read.All"}},
		{"roles gathered from several tokens", []string{"Incident.Read.All", "User.Read.All"}, []string{"User.Read.All", "Incident.Read.All"}, nil},
		{"a role required twice is reported twice", nil, []string{"a", "a"}, []string{"a", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tokencache.MissingRoles(tt.have, tt.required)); diff != "" {
				t.Errorf("MissingRoles (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClaimsShareValues: tenants' tokens carry the same application ID,
// audience and roles; the cache keeps one copy of each, not one a tenant.
func TestClaimsShareValues(t *testing.T) {
	var got []tokencache.Claims
	for _, tid := range []string{"tenant-1", "tenant-2"} {
		c, err := tokencache.DecodeClaims(unsignedJWT(t, map[string]any{"tid": tid, "aud": []string{"https://api.security.microsoft.com"},
			"roles": []string{"Incident.Read.All", "Alert.Read.All"}, "appid": "00000000-5eed-4a11-b0b0-00000000c11e"}))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	a, b := got[0], got[1]
	same := func(x, y string) bool { return x == y && unsafe.StringData(x) == unsafe.StringData(y) }
	if !same(a.AppID, b.AppID) || !same(a.Audience[0], b.Audience[0]) || !same(a.Roles[0], b.Roles[0]) || !same(a.Roles[1], b.Roles[1]) {
		t.Errorf("two tokens' claims hold separate copies of the same values: %+v %+v", a, b)
	}
	if &a.Roles[0] != &b.Roles[0] || &a.Audience[0] != &b.Audience[0] {
		t.Error("two tokens' claims hold separate lists of the same roles or audience")
	}
	if a.TenantID != "tenant-1" || b.TenantID != "tenant-2" {
		t.Errorf("tenant IDs %q %q", a.TenantID, b.TenantID)
	}
}

// TestClaimsListsNeverConfused checks that two lists whose strings join
// to the same text (one role holding a NUL, two roles) keep apart when
// their slices are shared between tokens.
func TestClaimsListsNeverConfused(t *testing.T) {
	first, err := tokencache.DecodeClaims(unsignedJWT(t, map[string]any{"tid": "t1", "roles": []string{"Zz.Read\x00Zz.Write"}}))
	if err != nil {
		t.Fatal(err)
	}
	second, err := tokencache.DecodeClaims(unsignedJWT(t, map[string]any{"tid": "t2", "roles": []string{"Zz.Read", "Zz.Write"}}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Zz.Read", "Zz.Write"}; !slices.Equal(second.Roles, want) {
		t.Errorf("second token's roles %q, want %q (the first token's were %q)", second.Roles, want, first.Roles)
	}
}
