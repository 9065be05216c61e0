package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
