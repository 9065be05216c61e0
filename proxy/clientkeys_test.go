package proxy_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

func keysFile(t *testing.T, lines map[string]string) *config.ClientKeys {
	t.Helper()
	var b strings.Builder
	for key, tenants := range lines {
		b.WriteString(testutil.KeyLine(key, tenants))
	}
	ks, err := config.ParseClientKeys("keys", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestClientKeys(t *testing.T) {
	const soc, all = "soc-tool-key-8d1f2", "mssp-gateway-key-77aa"
	keys := keysFile(t, map[string]string{soc: "contoso", all: "*"})
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), clientKeys: keys})

	tests := []struct {
		name, auth, tenant string
		status             int
		code               string
	}{
		{"no key", "", "contoso", 401, "Unauthenticated"},
		{"wrong key", "Bearer not-a-key", "contoso", 401, "Unauthenticated"},
		{"key in Basic", "Basic " + soc, "contoso", 401, "Unauthenticated"},
		{"empty bearer", "Bearer ", "contoso", 401, "Unauthenticated"},
		{"no key, no tenant: authentication comes first", "", "", 401, "Unauthenticated"},
		{"key for its tenant", "Bearer " + soc, "contoso", 200, ""},
		{"scheme in lower case", "bearer " + soc, "contoso", 200, ""},
		{"key for another tenant", "Bearer " + soc, "fabrikam", 403, "TenantNotAllowed"},
		{"key for another tenant by GUID", "Bearer " + soc, simulator.FabrikamTenantID, 403, "TenantNotAllowed"},
		{"* key", "Bearer " + all, "fabrikam", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.tenant != "" {
				h.Set("X-Tenant-ID", tt.tenant)
			}
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			before := s.sim.TotalTokenRequests()
			resp, body := s.do(t, "GET", "/api/incidents", h, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.code != "" {
				if !strings.Contains(string(body), `"code":"`+tt.code+`"`) {
					t.Errorf("body %s, want code %s", body, tt.code)
				}
				if tt.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if s.sim.TotalTokenRequests() != before {
					t.Error("a refused client caused a token request")
				}
			}
		})
	}
	for _, r := range backend.Requests() {
		if got := r.Header.Values("Authorization"); len(got) != 1 || strings.Contains(got[0], soc) || strings.Contains(got[0], all) {
			t.Fatal("a client key reached the upstream")
		}
	}
	if logs := s.logs.String(); strings.Contains(logs, soc) || strings.Contains(logs, all) {
		t.Error("a client key reached the log")
	} else if !strings.Contains(logs, `"client_key":"`) {
		t.Error("the access log does not name the client key's fingerprint")
	}

	// Keys removed from the file stop working at once.
	s.handler.SetClientKeys(keysFile(t, map[string]string{all: "*"}))
	h := http.Header{"X-Tenant-Id": {"contoso"}, "Authorization": {"Bearer " + soc}}
	if resp, _ := s.do(t, "GET", "/api/incidents", h, nil); resp.StatusCode != 401 {
		t.Errorf("a revoked key: %d, want 401", resp.StatusCode)
	}
}

func TestLimitedKeyLearnsNothingAboutOtherTenants(t *testing.T) {
	const key = "limited-key-3b9c"
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), clientKeys: keysFile(t, map[string]string{key: "contoso"})})
	var bodies []string
	for _, tenant := range []string{"fabrikam", simulator.FabrikamTenantID, "44444444-4444-4444-8444-444444444444", "no-such-alias"} {
		h := http.Header{"X-Tenant-Id": {tenant}, "Authorization": {"Bearer " + key}}
		resp, body := s.do(t, "GET", "/api/incidents", h, nil)
		if resp.StatusCode != 403 {
			t.Errorf("%s: %d, want 403", tenant, resp.StatusCode)
		}
		bodies = append(bodies, string(body))
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("answers differ, revealing which tenants exist:\n%s\n%s", bodies[0], b)
		}
	}
}
