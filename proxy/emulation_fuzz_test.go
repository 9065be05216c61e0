package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
)

// FuzzTokenEndpoint sends any path, form, Authorization and X-Tenant-ID
// to the emulated token endpoints, on the main listener and on contoso's
// tenant listener, and checks the emulation's promises: nothing panics,
// no answer holds a real token or a client key, every refusal is in
// Entra ID's error shape, and a placeholder is only issued to a valid
// key for a tenant it may use (the listener's, on a tenant listener),
// standing for exactly that tenant.
func FuzzTokenEndpoint(f *testing.F) {
	const (
		contoso  = "11111111-1111-4111-8111-111111111111"
		fabrikam = "22222222-2222-4222-8222-222222222222"
		limited  = "limited-key-contoso"
		all      = "key-for-all-tenants"
	)
	tenants, _ := config.NewTenantSet([]config.Tenant{{ID: contoso, Alias: "contoso"}, {ID: fabrikam, Alias: "fabrikam"}})
	var lines strings.Builder
	for key, ts := range map[string]string{limited: "contoso", all: "*"} {
		lines.WriteString(testutil.KeyLine(key, ts))
	}
	keys, err := config.ParseClientKeys("keys", []byte(lines.String()))
	if err != nil {
		f.Fatal(err)
	}
	signer, err := placeholder.NewSigner(nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	upstream, _ := url.Parse("https://api.security.microsoft.com")
	h, err := New(Options{Upstream: upstream, Scope: "https://api.security.microsoft.com/.default", Tenants: tenants,
		Tokens: staticTokens{}, Transport: &recordingTransport{}, ClientKeys: keys, Placeholders: signer})
	if err != nil {
		f.Fatal(err)
	}
	pinned := h.ForTenant("contoso")

	f.Add("/contoso/oauth2/token", "grant_type=client_credentials&client_id=x&client_secret="+limited+"&resource=https://api.security.microsoft.com", "", "", false)
	f.Add("/"+fabrikam+"/oauth2/v2.0/token", "grant_type=client_credentials&client_id=x&scope=https://graph.microsoft.com/.default", "Bearer "+all, "", true)
	f.Add("/fabrikam/oauth2/token", "grant_type=client_credentials&client_id=x&client_secret="+limited+"&resource=r", "", "contoso", false)
	f.Add("/contoso/oauth2/token", "grant_type=client_credentials&client_id=x&resource=r", "Basic eDpsaW1pdGVkLWtleS1jb250b3Nv", "", false)
	f.Add("/contoso/v2.0/.well-known/openid-configuration", "", "", "", true)
	f.Add("/%2e%2e/oauth2/token", "grant_type=client_credentials&client_id=x&client_secret="+all+"&resource=r", "", "", false)
	f.Fuzz(func(t *testing.T, path, form, auth, tenantHeader string, onListener bool) {
		req, err := http.NewRequest(http.MethodPost, "http://proxy"+path, strings.NewReader(form))
		if err != nil || req.URL.Path == "" {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if tenantHeader != "" {
			req.Header.Set(TenantHeader, tenantHeader)
		}
		name, ep := emulatedEndpoint(req.URL.Path)
		if ep != tokenV1 && ep != tokenV2 {
			return // forwarding is FuzzDestination's
		}
		w := httptest.NewRecorder()
		if onListener {
			pinned.ServeHTTP(w, req)
		} else {
			h.ServeHTTP(w, req)
		}
		body := w.Body.String()
		for _, secret := range []string{"tok-", limited, all} {
			if strings.Contains(body, secret) {
				t.Fatalf("the answer holds %q: %s", secret, body)
			}
		}
		var answer map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
			t.Fatalf("%d, not JSON: %q", w.Code, body)
		}
		if w.Code != http.StatusOK {
			if _, ok := answer["error"].(string); !ok || answer["error_codes"] == nil || !strings.HasPrefix(answer["error_description"].(string), "AADSTS") {
				t.Fatalf("%d not in Entra ID's error shape: %s", w.Code, body)
			}
			return
		}
		c, err := signer.Verify(answer["access_token"].(string))
		if err != nil {
			t.Fatalf("issued a token that does not verify: %v", err)
		}
		tenant, ok := tenants.Lookup(name)
		if !ok || c.TenantID != tenant.ID {
			t.Fatalf("path names %q, placeholder stands for %s", name, c.TenantID)
		}
		if onListener && tenant.ID != contoso {
			t.Fatalf("contoso's listener issued a placeholder for %s", tenant.ID)
		}
		if hv := strings.TrimSpace(tenantHeader); hv != "" {
			if ht, ok := tenants.Lookup(hv); !ok || ht.ID != tenant.ID {
				t.Fatalf("X-Tenant-ID %q conflicts with the path, yet a placeholder was issued", tenantHeader)
			}
		}
		var bound config.ClientKey
		for _, k := range keys.All() {
			if signer.Bind(k.Hash) == c.ClientKey {
				bound = k
			}
		}
		if !c.HasClientKey || bound.Hash == ([32]byte{}) || !bound.Allows(tenant) {
			t.Fatalf("placeholder for %s issued to no key, or one not allowed it", tenant.ID)
		}
	})
}
