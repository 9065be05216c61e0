package config

// The environment every Load test starts from, and the fixtures it reads.

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	testClientID  = "11111111-2222-3333-4444-555555555555"
	testClientID2 = "66666666-7777-8888-9999-aaaaaaaaaaaa"
	testSecret    = "test-secret-value"
	tenantA       = "aaaaaaaa-0000-4000-8000-000000000001"
	tenantB       = "bbbbbbbb-0000-4000-8000-000000000002"
	tenantC       = "cccccccc-0000-4000-8000-000000000003"
	tenantD       = "dddddddd-0000-4000-8000-000000000004"
)

// loadVars returns every variable Load can read: the XDRPROXY_ ones, the
// unprefixed names envconfig falls back to when an XDRPROXY_ one is unset, the
// AZURE_* fallbacks.
func loadVars() []string {
	// Variables less CLIENT_CERTIFICATE_SEND_X5C matches env's fields.
	if n := reflect.TypeFor[env]().NumField() - 3; n != len(Variables)-1 { // less the three source fields
		panic(fmt.Sprintf("Variables lists %d variables but env has %d fields", len(Variables)-1, n))
	}
	var all []string
	for _, name := range Variables {
		all = append(all, name, strings.TrimPrefix(name, Prefix+"_"))
	}
	return append(all, "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST")
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = Prefix + "_" + n
	}
	return out
}

// setEnv unsets every variable Load reads, then sets vars. t.Setenv restores
// the original environment when the test ends.
//
// The variables are unset rather than set to "": envconfig applies a
// default only to an unset variable, so an empty XDRPROXY_LISTEN_ADDR is not
// the same as none.
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, name := range loadVars() {
		t.Setenv(name, "")
		if err := os.Unsetenv(name); err != nil {
			t.Fatalf("unsetting %s: %v", name, err)
		}
	}
	for name, value := range vars {
		t.Setenv(name, value)
	}
}

// minimalEnv returns the smallest valid environment.
func minimalEnv() map[string]string {
	return map[string]string{
		"XDRPROXY_CLIENT_ID":     testClientID,
		"XDRPROXY_CLIENT_SECRET": testSecret,
		"XDRPROXY_TENANTS":       tenantA,
	}
}

// caseEnv returns minimalEnv without the variables in unset and with set
// applied over it.
func caseEnv(set map[string]string, unset []string) map[string]string {
	vars := minimalEnv()
	for _, name := range unset {
		delete(vars, name)
	}
	for name, value := range set {
		vars[name] = value
	}
	return vars
}

func mustTenantSet(t *testing.T, tenants ...Tenant) *TenantSet {
	t.Helper()
	s, err := NewTenantSet(tenants)
	if err != nil {
		t.Fatalf("NewTenantSet(%v): %v", tenants, err)
	}
	return s
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
