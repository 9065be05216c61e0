package config

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
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

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", s, err)
	}
	return u
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

// The clouds, spelled out here rather than read from Clouds so that a change
// to that table fails a test.
var (
	publicCloud = Cloud{
		Name:          "public",
		AuthorityHost: "https://login.microsoftonline.com",
		UpstreamURL:   "https://api.security.microsoft.com",
		Scope:         "https://api.security.microsoft.com/.default",
	}
	usgovCloud = Cloud{
		Name:          "usgov",
		AuthorityHost: "https://login.microsoftonline.com",
		UpstreamURL:   "https://api-gcc.security.microsoft.us",
		Scope:         "https://api-gcc.security.microsoft.us/.default",
	}
	usgovhighCloud = Cloud{
		Name:          "usgovhigh",
		AuthorityHost: "https://login.microsoftonline.us",
		UpstreamURL:   "https://api-gov.security.microsoft.us",
		Scope:         "https://api-gov.security.microsoft.us/.default",
	}
	dodCloud = Cloud{
		Name:          "dod",
		AuthorityHost: "https://login.microsoftonline.us",
		UpstreamURL:   "https://api-gov.security.microsoft.us",
		Scope:         "https://api-gov.security.microsoft.us/.default",
	}
)

// defaultConfig is what Load returns for minimalEnv.
func defaultConfig(t *testing.T) *Config {
	return &Config{
		ListenAddr:        "127.0.0.1:8080",
		AdminAddr:         "127.0.0.1:9090",
		ClientID:          testClientID,
		Credential:        Credential{Kind: ClientSecret, Secret: testSecret},
		AuthorityHost:     mustURL(t, "https://login.microsoftonline.com"),
		InstanceDiscovery: true,
		Tenants:           mustTenantSet(t, Tenant{ID: tenantA}),
		UpstreamURL:       mustURL(t, "https://api.security.microsoft.com"),
		Scope:             "https://api.security.microsoft.com/.default",
		LogLevel:          zapcore.InfoLevel,
		LogFormat:         "json",
		Cloud:             publicCloud,
		UpstreamTimeout:   210 * time.Second,
		ShutdownTimeout:   25 * time.Second,
	}
}

// configOpts compares tenant sets by their tenants and treats a nil and an
// empty RequiredRoles alike. Where the tenants came from (kept for
// reloading) is checked by TestTenantSources.
var configOpts = cmp.Options{
	cmp.Transformer("TenantSet.All", func(s *TenantSet) []Tenant { return s.All() }),
	cmpopts.EquateEmpty(),
	cmpopts.IgnoreFields(Config{}, "StaticTenants", "TenantsFile", "TenantsFileContent", "ClientKeysFileContent", "RateLimits", "QueueTimeout", "Pprof"),
}

func TestTenantSources(t *testing.T) {
	path := writeFile(t, t.TempDir(), "tenants", tenantB+"\n")
	env := minimalEnv()
	env["XDRPROXY_TENANTS_FILE"] = path
	setEnv(t, env)
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.StaticTenants) != 1 || cfg.StaticTenants[0].ID != tenantA || cfg.TenantsFile != path || string(cfg.TenantsFileContent) != tenantB+"\n" {
		t.Errorf("static %v, file %q, content %q", cfg.StaticTenants, cfg.TenantsFile, cfg.TenantsFileContent)
	}
}

func TestFileWatcher(t *testing.T) {
	path := writeFile(t, t.TempDir(), "f", "one")
	w := NewFileWatcher(path, []byte("one"))
	if _, changed, err := w.Check(); changed || err != nil {
		t.Fatalf("unchanged file: changed=%v err=%v", changed, err)
	}
	// Replace the file the way Kubernetes does: write aside, rename over.
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	data, changed, err := w.Check()
	if !changed || err != nil || string(data) != "two" {
		t.Fatalf("after the swap: %q changed=%v err=%v", data, changed, err)
	}
	if _, changed, _ := w.Check(); changed {
		t.Error("the same content reported as changed twice")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, changed, err := w.Check(); changed || err == nil {
		t.Errorf("a missing file: changed=%v err=%v, want an error and no change", changed, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	tenantsFile := writeFile(t, dir, "tenants", strings.Join([]string{
		"# customers served by this proxy",
		"",
		"Contoso=" + strings.ToUpper(tenantB) + "   # production",
		"   ",
		"\t" + tenantC,
		"# " + tenantD + " was removed",
		"",
	}, "\n"))
	secretFile := writeFile(t, dir, "secret", "secret-from-file\n")

	tests := []struct {
		name  string
		set   map[string]string
		unset []string
		want  func(*Config)
	}{
		{
			name: "minimal config takes the defaults",
			want: func(*Config) {},
		},
		{
			name:  "AZURE_CLIENT_ID when XDRPROXY_CLIENT_ID is unset",
			set:   map[string]string{"AZURE_CLIENT_ID": testClientID2},
			unset: []string{"XDRPROXY_CLIENT_ID"},
			want:  func(c *Config) { c.ClientID = testClientID2 },
		},
		{
			name: "XDRPROXY_CLIENT_ID wins over AZURE_CLIENT_ID",
			set:  map[string]string{"AZURE_CLIENT_ID": testClientID2},
			want: func(*Config) {},
		},
		{
			name: "client ID is trimmed",
			set:  map[string]string{"XDRPROXY_CLIENT_ID": "  " + testClientID2 + "\n"},
			want: func(c *Config) { c.ClientID = testClientID2 },
		},
		{
			name: "AZURE_AUTHORITY_HOST with the trailing slash the webhook sets",
			set:  map[string]string{"AZURE_AUTHORITY_HOST": "https://login.example.com/"},
			want: func(c *Config) { c.AuthorityHost = mustURL(t, "https://login.example.com") },
		},
		{
			name: "XDRPROXY_AUTHORITY_HOST wins over AZURE_AUTHORITY_HOST",
			set: map[string]string{
				"AZURE_AUTHORITY_HOST":    "https://login.example.com/",
				"XDRPROXY_AUTHORITY_HOST": "https://login.example.net:8443",
			},
			want: func(c *Config) { c.AuthorityHost = mustURL(t, "https://login.example.net:8443") },
		},
		{
			name: "every variable set explicitly",
			set: map[string]string{
				"XDRPROXY_LISTEN_ADDR":        "127.0.0.1:18080",
				"XDRPROXY_ADMIN_ADDR":         "0.0.0.0:19090",
				"XDRPROXY_AUTHORITY_HOST":     "https://127.0.0.1:8443",
				"XDRPROXY_INSTANCE_DISCOVERY": "false",
				"XDRPROXY_UPSTREAM_URL":       "https://gateway.example.com/defender/",
				"XDRPROXY_SCOPE":              " api://xdr/.default ",
				"XDRPROXY_LOG_LEVEL":          "DEBUG",
				"XDRPROXY_LOG_FORMAT":         "Console",
				"XDRPROXY_UPSTREAM_TIMEOUT":   "2m",
				"XDRPROXY_SHUTDOWN_TIMEOUT":   "1500ms",
			},
			want: func(c *Config) {
				c.ListenAddr = "127.0.0.1:18080"
				c.AdminAddr = "0.0.0.0:19090"
				c.AuthorityHost = mustURL(t, "https://127.0.0.1:8443")
				c.InstanceDiscovery = false
				c.UpstreamURL = mustURL(t, "https://gateway.example.com/defender")
				c.Scope = "api://xdr/.default"
				c.LogLevel = zapcore.DebugLevel
				c.LogFormat = "console"
				c.UpstreamTimeout = 2 * time.Minute
				c.ShutdownTimeout = 1500 * time.Millisecond
			},
		},
		{
			name: "boolean spellings",
			set: map[string]string{
				"XDRPROXY_INSTANCE_DISCOVERY":    " No ",
				"XDRPROXY_ALLOW_UNAUTHENTICATED": "1",
			},
			want: func(c *Config) {
				c.InstanceDiscovery = false
				c.AllowUnauthenticated = true
			},
		},
		{
			name: "cloud usgov",
			set:  map[string]string{"XDRPROXY_CLOUD": "usgov"},
			want: func(c *Config) {
				c.Cloud = usgovCloud
				c.AuthorityHost = mustURL(t, "https://login.microsoftonline.com")
				c.UpstreamURL = mustURL(t, "https://api-gcc.security.microsoft.us")
				c.Scope = "https://api-gcc.security.microsoft.us/.default"
			},
		},
		{
			name: "cloud usgovhigh",
			set:  map[string]string{"XDRPROXY_CLOUD": "usgovhigh"},
			want: func(c *Config) {
				c.Cloud = usgovhighCloud
				c.AuthorityHost = mustURL(t, "https://login.microsoftonline.us")
				c.UpstreamURL = mustURL(t, "https://api-gov.security.microsoft.us")
				c.Scope = "https://api-gov.security.microsoft.us/.default"
			},
		},
		{
			name: "cloud dod, in any case",
			set:  map[string]string{"XDRPROXY_CLOUD": " DoD "},
			want: func(c *Config) {
				c.Cloud = dodCloud
				c.AuthorityHost = mustURL(t, "https://login.microsoftonline.us")
				c.UpstreamURL = mustURL(t, "https://api-gov.security.microsoft.us")
				c.Scope = "https://api-gov.security.microsoft.us/.default"
			},
		},
		{
			name: "explicit upstream, authority and scope win over the cloud's",
			set: map[string]string{
				"XDRPROXY_CLOUD":          "usgovhigh",
				"XDRPROXY_UPSTREAM_URL":   "http://127.0.0.1:9999",
				"XDRPROXY_AUTHORITY_HOST": "https://login.example.com",
				"XDRPROXY_SCOPE":          "api://sim/.default",
			},
			want: func(c *Config) {
				c.Cloud = usgovhighCloud
				c.AuthorityHost = mustURL(t, "https://login.example.com")
				c.UpstreamURL = mustURL(t, "http://127.0.0.1:9999")
				c.Scope = "api://sim/.default"
			},
		},
		{
			name: "explicit upstream keeps the cloud's authority and scope",
			set: map[string]string{
				"XDRPROXY_CLOUD":        "dod",
				"XDRPROXY_UPSTREAM_URL": "https://gateway.example.com",
			},
			want: func(c *Config) {
				c.Cloud = dodCloud
				c.AuthorityHost = mustURL(t, "https://login.microsoftonline.us")
				c.UpstreamURL = mustURL(t, "https://gateway.example.com")
				c.Scope = "https://api-gov.security.microsoft.us/.default"
			},
		},
		{
			name: "http upstream on localhost",
			set:  map[string]string{"XDRPROXY_UPSTREAM_URL": "http://localhost:9999/"},
			want: func(c *Config) { c.UpstreamURL = mustURL(t, "http://localhost:9999") },
		},
		{
			name: "http upstream on IPv6 loopback",
			set:  map[string]string{"XDRPROXY_UPSTREAM_URL": "http://[::1]:9999"},
			want: func(c *Config) { c.UpstreamURL = mustURL(t, "http://[::1]:9999") },
		},
		{
			name: "aliases are lower-cased and blank entries ignored",
			set: map[string]string{
				"XDRPROXY_TENANTS": " Contoso=" + strings.ToUpper(tenantA) + " ,, fabrikam.EU = " + tenantB + ", " + tenantC + ",",
			},
			want: func(c *Config) {
				c.Tenants = mustTenantSet(t,
					Tenant{ID: tenantA, Alias: "contoso"},
					Tenant{ID: tenantB, Alias: "fabrikam.eu"},
					Tenant{ID: tenantC},
				)
			},
		},
		{
			name: "default tenant by alias, in any case",
			set: map[string]string{
				"XDRPROXY_TENANTS":        "contoso=" + tenantA + ",fabrikam=" + tenantB,
				"XDRPROXY_DEFAULT_TENANT": " FabriKam ",
			},
			want: func(c *Config) {
				c.Tenants = mustTenantSet(t,
					Tenant{ID: tenantA, Alias: "contoso"},
					Tenant{ID: tenantB, Alias: "fabrikam"},
				)
				c.DefaultTenant = Tenant{ID: tenantB, Alias: "fabrikam"}
			},
		},
		{
			name: "default tenant by upper-case GUID",
			set: map[string]string{
				"XDRPROXY_TENANTS":        "contoso=" + tenantA + "," + tenantB,
				"XDRPROXY_DEFAULT_TENANT": strings.ToUpper(tenantA),
			},
			want: func(c *Config) {
				c.Tenants = mustTenantSet(t, Tenant{ID: tenantA, Alias: "contoso"}, Tenant{ID: tenantB})
				c.DefaultTenant = Tenant{ID: tenantA, Alias: "contoso"}
			},
		},
		{
			name:  "tenants file alone",
			set:   map[string]string{"XDRPROXY_TENANTS_FILE": tenantsFile},
			unset: []string{"XDRPROXY_TENANTS"},
			want: func(c *Config) {
				c.Tenants = mustTenantSet(t, Tenant{ID: tenantB, Alias: "contoso"}, Tenant{ID: tenantC})
			},
		},
		{
			name: "tenants file with XDRPROXY_TENANTS",
			set: map[string]string{
				"XDRPROXY_TENANTS_FILE":   tenantsFile,
				"XDRPROXY_TENANTS":        "eu=" + tenantA + "," + tenantC,
				"XDRPROXY_DEFAULT_TENANT": "contoso",
			},
			want: func(c *Config) {
				c.Tenants = mustTenantSet(t,
					Tenant{ID: tenantA, Alias: "eu"},
					Tenant{ID: tenantB, Alias: "contoso"},
					Tenant{ID: tenantC},
				)
				c.DefaultTenant = Tenant{ID: tenantB, Alias: "contoso"}
			},
		},
		{
			name:  "client secret file with a trailing newline",
			set:   map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": secretFile},
			unset: []string{"XDRPROXY_CLIENT_SECRET"},
			want: func(c *Config) {
				c.Credential = Credential{Kind: ClientSecretFile, Secret: "secret-from-file", File: secretFile}
			},
		},
		{
			name: "required roles split and trimmed",
			set:  map[string]string{"XDRPROXY_REQUIRED_ROLES": " Machine.Read.All , ,AdvancedQuery.Read.All,"},
			want: func(c *Config) { c.RequiredRoles = []string{"Machine.Read.All", "AdvancedQuery.Read.All"} },
		},
		{
			name: "localhost listener needs no ALLOW_UNAUTHENTICATED",
			set:  map[string]string{"XDRPROXY_LISTEN_ADDR": "localhost:8080"},
			want: func(c *Config) { c.ListenAddr = "localhost:8080" },
		},
		{
			name: "IPv6 loopback listener needs no ALLOW_UNAUTHENTICATED",
			set:  map[string]string{"XDRPROXY_LISTEN_ADDR": "[::1]:8080"},
			want: func(c *Config) { c.ListenAddr = "[::1]:8080" },
		},
		{
			name: "0.0.0.0 listener with ALLOW_UNAUTHENTICATED",
			set: map[string]string{
				"XDRPROXY_LISTEN_ADDR":           "0.0.0.0:8080",
				"XDRPROXY_ALLOW_UNAUTHENTICATED": "true",
			},
			want: func(c *Config) {
				c.ListenAddr = "0.0.0.0:8080"
				c.AllowUnauthenticated = true
			},
		},
		{
			name: "all-interfaces listener with ALLOW_UNAUTHENTICATED",
			set: map[string]string{
				"XDRPROXY_LISTEN_ADDR":           ":8080",
				"XDRPROXY_ALLOW_UNAUTHENTICATED": "TRUE",
			},
			want: func(c *Config) {
				c.ListenAddr = ":8080"
				c.AllowUnauthenticated = true
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, caseEnv(tt.set, tt.unset))
			want := defaultConfig(t)
			tt.want(want)

			got, err := Load()
			if err != nil {
				t.Fatalf("Load() error: %v", err)
			}
			if diff := cmp.Diff(want, got, configOpts); diff != "" {
				t.Errorf("Load() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// mentions reports whether msg names the variable name as a whole word, so
// that XDRPROXY_CLIENT_SECRET is not found inside XDRPROXY_CLIENT_SECRET_FILE.
func mentions(msg, name string) bool {
	isWord := regexp.MustCompile(`^\w$`).MatchString
	pattern := regexp.QuoteMeta(name)
	if name != "" && isWord(name[:1]) {
		pattern = `\b` + pattern
	}
	if name != "" && isWord(name[len(name)-1:]) {
		pattern += `\b`
	}
	return regexp.MustCompile(pattern).MatchString(msg)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	secretFile := writeFile(t, dir, "secret", "secret-from-file\n")
	emptySecretFile := writeFile(t, dir, "empty-secret", "\n  \n")
	badTenantsFile := writeFile(t, dir, "bad-tenants", "# comment\n"+tenantA+"\nnotaguid\nx!="+tenantB+"\n")
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name  string
		set   map[string]string
		unset []string
		// want lists the variables and other text the error must contain.
		want []string
		// problems is the number of problem lines the error must have.
		problems int
	}{
		{
			name:     "no credential",
			unset:    []string{"XDRPROXY_CLIENT_SECRET"},
			want:     []string{"XDRPROXY_CLIENT_SECRET", "XDRPROXY_CLIENT_SECRET_FILE", "no credential"},
			problems: 1,
		},
		{
			name:     "client secret and client secret file",
			set:      map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": secretFile},
			want:     []string{"XDRPROXY_CLIENT_SECRET", "XDRPROXY_CLIENT_SECRET_FILE", "several credentials"},
			problems: 1,
		},
		{
			name: "all four credentials",
			set: map[string]string{
				"XDRPROXY_CLIENT_SECRET_FILE":      secretFile,
				"XDRPROXY_CLIENT_CERTIFICATE_FILE": "/x.pem",
				"XDRPROXY_FEDERATED_TOKEN_FILE":    "/token",
			},
			want:     []string{"XDRPROXY_CLIENT_SECRET", "XDRPROXY_CLIENT_SECRET_FILE", "XDRPROXY_CLIENT_CERTIFICATE_FILE", "XDRPROXY_FEDERATED_TOKEN_FILE", "several credentials"},
			problems: 1,
		},
		{
			name:     "certificate file missing",
			set:      map[string]string{"XDRPROXY_CLIENT_CERTIFICATE_FILE": "/x.pem"},
			unset:    []string{"XDRPROXY_CLIENT_SECRET"},
			want:     []string{"XDRPROXY_CLIENT_CERTIFICATE_FILE", "no such file"},
			problems: 1,
		},
		{
			name:     "federated token file missing",
			set:      map[string]string{"XDRPROXY_FEDERATED_TOKEN_FILE": "/token"},
			unset:    []string{"XDRPROXY_CLIENT_SECRET"},
			want:     []string{"XDRPROXY_FEDERATED_TOKEN_FILE", "no such file"},
			problems: 1,
		},
		{
			name:     "AZURE_FEDERATED_TOKEN_FILE alone is a federated token",
			set:      map[string]string{"AZURE_FEDERATED_TOKEN_FILE": "/token"},
			unset:    []string{"XDRPROXY_CLIENT_SECRET"},
			want:     []string{"AZURE_FEDERATED_TOKEN_FILE", "no such file"},
			problems: 1,
		},
		{
			name:     "unprefixed CLIENT_SECRET is not read",
			set:      map[string]string{"CLIENT_SECRET": "x"},
			unset:    []string{"XDRPROXY_CLIENT_SECRET"},
			want:     []string{"XDRPROXY_CLIENT_SECRET", "no credential"},
			problems: 1,
		},
		{
			name:     "a bad AZURE_CLIENT_ID is reported under its own name",
			set:      map[string]string{"AZURE_CLIENT_ID": "nope"},
			unset:    []string{"XDRPROXY_CLIENT_ID"},
			want:     []string{"AZURE_CLIENT_ID", "not a GUID"},
			problems: 1,
		},
		{
			name:     "a bad AZURE_AUTHORITY_HOST is reported under its own name",
			set:      map[string]string{"AZURE_AUTHORITY_HOST": "http://login.example"},
			want:     []string{"AZURE_AUTHORITY_HOST", "https"},
			problems: 1,
		},
		{
			name:     "listen address without a port is reported once",
			set:      map[string]string{"XDRPROXY_LISTEN_ADDR": "127.0.0.1"},
			want:     []string{"XDRPROXY_LISTEN_ADDR", "host:port"},
			problems: 1,
		},
		{
			name:     "XDRPROXY_FEDERATED_TOKEN_FILE counts as a second credential",
			set:      map[string]string{"XDRPROXY_FEDERATED_TOKEN_FILE": "/token"},
			want:     []string{"XDRPROXY_CLIENT_SECRET", "XDRPROXY_FEDERATED_TOKEN_FILE", "several credentials"},
			problems: 1,
		},
		{
			name:     "client ID holding the secret is not echoed",
			set:      map[string]string{"XDRPROXY_CLIENT_ID": testSecret, "XDRPROXY_TENANTS": "nope"},
			want:     []string{"XDRPROXY_CLIENT_ID", "not a GUID", "XDRPROXY_TENANTS"},
			problems: 2,
		},
		{
			name:     "client secret file that does not exist",
			set:      map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": missing},
			unset:    []string{"XDRPROXY_CLIENT_SECRET"},
			want:     []string{"XDRPROXY_CLIENT_SECRET_FILE", missing},
			problems: 1,
		},
		{
			name:     "client secret file that is a directory",
			set:      map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": dir},
			unset:    []string{"XDRPROXY_CLIENT_SECRET"},
			want:     []string{"XDRPROXY_CLIENT_SECRET_FILE"},
			problems: 1,
		},
		{
			name:     "empty client secret file",
			set:      map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": emptySecretFile},
			unset:    []string{"XDRPROXY_CLIENT_SECRET"},
			want:     []string{"XDRPROXY_CLIENT_SECRET_FILE", "empty"},
			problems: 1,
		},
		{
			name:     "missing client ID",
			unset:    []string{"XDRPROXY_CLIENT_ID"},
			want:     []string{"XDRPROXY_CLIENT_ID", "AZURE_CLIENT_ID", "required"},
			problems: 1,
		},
		{
			name:     "client ID that is not a GUID",
			set:      map[string]string{"XDRPROXY_CLIENT_ID": "my-app"},
			want:     []string{"XDRPROXY_CLIENT_ID", "6 characters", "not a GUID"},
			problems: 1,
		},
		{
			name:     "no tenants",
			unset:    []string{"XDRPROXY_TENANTS"},
			want:     []string{"XDRPROXY_TENANTS", "no tenant"},
			problems: 1,
		},
		{
			name:     "tenant that is not a GUID",
			set:      map[string]string{"XDRPROXY_TENANTS": "notaguid"},
			want:     []string{"XDRPROXY_TENANTS", `"notaguid"`},
			problems: 1,
		},
		{
			name:     "alias with a space and a bang",
			set:      map[string]string{"XDRPROXY_TENANTS": "bad alias!=" + tenantA},
			want:     []string{"XDRPROXY_TENANTS", `"bad alias!"`},
			problems: 1,
		},
		{
			name:     "alias that looks like a GUID",
			set:      map[string]string{"XDRPROXY_TENANTS": tenantB + "=" + tenantA},
			want:     []string{"XDRPROXY_TENANTS", tenantB, "looks like a GUID"},
			problems: 1,
		},
		{
			name:     "every bad tenant entry is reported",
			set:      map[string]string{"XDRPROXY_TENANTS": "notaguid," + tenantA + ",x!=" + tenantB + ",=" + tenantC},
			want:     []string{"XDRPROXY_TENANTS", `"notaguid"`, `"x!"`, `""`},
			problems: 1,
		},
		{
			name:     "one alias for two tenants, in different case",
			set:      map[string]string{"XDRPROXY_TENANTS": "contoso=" + tenantA + ",Contoso=" + tenantB},
			want:     []string{"XDRPROXY_TENANTS", `"contoso"`, tenantA, tenantB},
			problems: 1,
		},
		{
			name:     "one tenant under two aliases",
			set:      map[string]string{"XDRPROXY_TENANTS": "contoso=" + tenantA + ",fabrikam=" + tenantA},
			want:     []string{"XDRPROXY_TENANTS", tenantA, "twice"},
			problems: 1,
		},
		{
			name:     "tenant twice across XDRPROXY_TENANTS and the tenants file",
			set:      map[string]string{"XDRPROXY_TENANTS": tenantC, "XDRPROXY_TENANTS_FILE": writeFile(t, dir, "tenants-c", "c="+tenantC+"\n")},
			want:     []string{"XDRPROXY_TENANTS", tenantC, "twice"},
			problems: 1,
		},
		{
			name:     "tenants file that does not exist",
			set:      map[string]string{"XDRPROXY_TENANTS_FILE": missing},
			unset:    []string{"XDRPROXY_TENANTS"},
			want:     []string{"XDRPROXY_TENANTS_FILE", missing},
			problems: 1,
		},
		{
			name:     "tenants file with bad lines",
			set:      map[string]string{"XDRPROXY_TENANTS_FILE": badTenantsFile},
			unset:    []string{"XDRPROXY_TENANTS"},
			want:     []string{"XDRPROXY_TENANTS_FILE", "line 3", `"notaguid"`, "line 4", `"x!"`},
			problems: 1,
		},
		{
			name:     "bad XDRPROXY_TENANTS and bad tenants file both reported",
			set:      map[string]string{"XDRPROXY_TENANTS": "notaguid", "XDRPROXY_TENANTS_FILE": missing},
			want:     []string{"XDRPROXY_TENANTS", "XDRPROXY_TENANTS_FILE"},
			problems: 2,
		},
		{
			name:     "default tenant not configured",
			set:      map[string]string{"XDRPROXY_DEFAULT_TENANT": "fabrikam"},
			want:     []string{"XDRPROXY_DEFAULT_TENANT", `"fabrikam"`},
			problems: 1,
		},
		{
			name:     "default tenant GUID not configured",
			set:      map[string]string{"XDRPROXY_DEFAULT_TENANT": tenantB},
			want:     []string{"XDRPROXY_DEFAULT_TENANT", tenantB},
			problems: 1,
		},
		{
			name:     "upstream timeout abc",
			set:      map[string]string{"XDRPROXY_UPSTREAM_TIMEOUT": "abc"},
			want:     []string{"XDRPROXY_UPSTREAM_TIMEOUT", `"abc"`},
			problems: 1,
		},
		{
			name:     "upstream timeout negative",
			set:      map[string]string{"XDRPROXY_UPSTREAM_TIMEOUT": "-5s"},
			want:     []string{"XDRPROXY_UPSTREAM_TIMEOUT", `"-5s"`},
			problems: 1,
		},
		{
			name:     "shutdown timeout zero",
			set:      map[string]string{"XDRPROXY_SHUTDOWN_TIMEOUT": "0"},
			want:     []string{"XDRPROXY_SHUTDOWN_TIMEOUT", `"0"`},
			problems: 1,
		},
		{
			name:     "shutdown timeout without a unit",
			set:      map[string]string{"XDRPROXY_SHUTDOWN_TIMEOUT": "30"},
			want:     []string{"XDRPROXY_SHUTDOWN_TIMEOUT", `"30"`},
			problems: 1,
		},
		{
			name: "bad booleans",
			set: map[string]string{
				"XDRPROXY_INSTANCE_DISCOVERY":    "maybe",
				"XDRPROXY_ALLOW_UNAUTHENTICATED": "2",
			},
			want:     []string{"XDRPROXY_INSTANCE_DISCOVERY", `"maybe"`, "XDRPROXY_ALLOW_UNAUTHENTICATED", `"2"`},
			problems: 2,
		},
		{
			name:     "http authority",
			set:      map[string]string{"XDRPROXY_AUTHORITY_HOST": "http://login.microsoftonline.com"},
			want:     []string{"XDRPROXY_AUTHORITY_HOST", "https"},
			problems: 1,
		},
		{
			name:     "authority with a path",
			set:      map[string]string{"XDRPROXY_AUTHORITY_HOST": "https://login.microsoftonline.com/common"},
			want:     []string{"XDRPROXY_AUTHORITY_HOST", "no path"},
			problems: 1,
		},
		{
			name:     "authority with a query",
			set:      map[string]string{"XDRPROXY_AUTHORITY_HOST": "https://login.microsoftonline.com?x=1"},
			want:     []string{"XDRPROXY_AUTHORITY_HOST"},
			problems: 1,
		},
		{
			name:     "authority without a scheme",
			set:      map[string]string{"XDRPROXY_AUTHORITY_HOST": "login.microsoftonline.com"},
			want:     []string{"XDRPROXY_AUTHORITY_HOST"},
			problems: 1,
		},
		{
			name:     "http upstream on a public host",
			set:      map[string]string{"XDRPROXY_UPSTREAM_URL": "http://api.security.microsoft.com"},
			want:     []string{"XDRPROXY_UPSTREAM_URL", "clear text"},
			problems: 1,
		},
		{
			name:     "http upstream on a private address",
			set:      map[string]string{"XDRPROXY_UPSTREAM_URL": "http://10.0.0.5:9999"},
			want:     []string{"XDRPROXY_UPSTREAM_URL", "clear text"},
			problems: 1,
		},
		{
			name:     "http upstream on a host named like loopback",
			set:      map[string]string{"XDRPROXY_UPSTREAM_URL": "http://127.0.0.1.example.com:9999"},
			want:     []string{"XDRPROXY_UPSTREAM_URL", "clear text"},
			problems: 1,
		},
		{
			name:     "upstream that is not a URL",
			set:      map[string]string{"XDRPROXY_UPSTREAM_URL": "api.security.microsoft.com"},
			want:     []string{"XDRPROXY_UPSTREAM_URL", `"api.security.microsoft.com"`},
			problems: 1,
		},
		{
			name:     "upstream with a query",
			set:      map[string]string{"XDRPROXY_UPSTREAM_URL": "https://api.security.microsoft.com/?tenant=x"},
			want:     []string{"XDRPROXY_UPSTREAM_URL"},
			problems: 1,
		},
		{
			name:     "upstream with user info",
			set:      map[string]string{"XDRPROXY_UPSTREAM_URL": "https://user:pw@api.security.microsoft.com"},
			want:     []string{"XDRPROXY_UPSTREAM_URL"},
			problems: 1,
		},
		{
			name:     "upstream with another scheme",
			set:      map[string]string{"XDRPROXY_UPSTREAM_URL": "ftp://127.0.0.1/"},
			want:     []string{"XDRPROXY_UPSTREAM_URL", "https"},
			problems: 1,
		},
		{
			name:     "scope that is two scopes",
			set:      map[string]string{"XDRPROXY_SCOPE": "a/.default b/.default"},
			want:     []string{"XDRPROXY_SCOPE"},
			problems: 1,
		},
		{
			name:     "unknown cloud",
			set:      map[string]string{"XDRPROXY_CLOUD": "azurechina"},
			want:     []string{"XDRPROXY_CLOUD", `"azurechina"`},
			problems: 1,
		},
		{
			name:     "bad log level",
			set:      map[string]string{"XDRPROXY_LOG_LEVEL": "verbose"},
			want:     []string{"XDRPROXY_LOG_LEVEL", `"verbose"`},
			problems: 1,
		},
		{
			name:     "bad log format",
			set:      map[string]string{"XDRPROXY_LOG_FORMAT": "text"},
			want:     []string{"XDRPROXY_LOG_FORMAT", `"text"`},
			problems: 1,
		},
		{
			name:     "0.0.0.0 listener without ALLOW_UNAUTHENTICATED",
			set:      map[string]string{"XDRPROXY_LISTEN_ADDR": "0.0.0.0:8080"},
			want:     []string{"XDRPROXY_LISTEN_ADDR", "XDRPROXY_ALLOW_UNAUTHENTICATED", `"0.0.0.0:8080"`},
			problems: 1,
		},
		{
			name:     "all-interfaces listener is not loopback",
			set:      map[string]string{"XDRPROXY_LISTEN_ADDR": ":8080"},
			want:     []string{"XDRPROXY_LISTEN_ADDR", "XDRPROXY_ALLOW_UNAUTHENTICATED", `":8080"`},
			problems: 1,
		},
		{
			name:     "IPv6 all-interfaces listener is not loopback",
			set:      map[string]string{"XDRPROXY_LISTEN_ADDR": "[::]:8080"},
			want:     []string{"XDRPROXY_LISTEN_ADDR", "XDRPROXY_ALLOW_UNAUTHENTICATED"},
			problems: 1,
		},
		{
			name: "non-loopback listener with ALLOW_UNAUTHENTICATED=false",
			set: map[string]string{
				"XDRPROXY_LISTEN_ADDR":           "192.0.2.10:8080",
				"XDRPROXY_ALLOW_UNAUTHENTICATED": "false",
			},
			want:     []string{"XDRPROXY_LISTEN_ADDR", "XDRPROXY_ALLOW_UNAUTHENTICATED"},
			problems: 1,
		},
		{
			name: "listen address without a port",
			set: map[string]string{
				"XDRPROXY_LISTEN_ADDR":           "127.0.0.1",
				"XDRPROXY_ALLOW_UNAUTHENTICATED": "true",
			},
			want:     []string{"XDRPROXY_LISTEN_ADDR", `"127.0.0.1"`, "host:port"},
			problems: 1,
		},
		{
			name: "listen address with a host name",
			set: map[string]string{
				"XDRPROXY_LISTEN_ADDR":           "proxy.example.com:8080",
				"XDRPROXY_ALLOW_UNAUTHENTICATED": "true",
			},
			want:     []string{"XDRPROXY_LISTEN_ADDR", "IP address"},
			problems: 1,
		},
		{
			name:     "admin address without a port",
			set:      map[string]string{"XDRPROXY_ADMIN_ADDR": "127.0.0.1"},
			want:     []string{"XDRPROXY_ADMIN_ADDR", `"127.0.0.1"`},
			problems: 1,
		},
		{
			name:     "admin address with a host name",
			set:      map[string]string{"XDRPROXY_ADMIN_ADDR": "admin.example.com:9090"},
			want:     []string{"XDRPROXY_ADMIN_ADDR", "IP address"},
			problems: 1,
		},
		{
			name:     "admin address with a bad port",
			set:      map[string]string{"XDRPROXY_ADMIN_ADDR": "127.0.0.1:99999"},
			want:     []string{"XDRPROXY_ADMIN_ADDR", "port"},
			problems: 1,
		},
		{
			name: "three bad variables in one error",
			set: map[string]string{
				"XDRPROXY_CLOUD":            "mars",
				"XDRPROXY_LOG_LEVEL":        "loud",
				"XDRPROXY_UPSTREAM_TIMEOUT": "abc",
			},
			want:     []string{"XDRPROXY_CLOUD", "XDRPROXY_LOG_LEVEL", "XDRPROXY_UPSTREAM_TIMEOUT"},
			problems: 3,
		},
		{
			name: "everything wrong at once",
			set: map[string]string{
				"XDRPROXY_LISTEN_ADDR":        "0.0.0.0:8080",
				"XDRPROXY_ADMIN_ADDR":         "nowhere",
				"XDRPROXY_AUTHORITY_HOST":     "http://login.example.com",
				"XDRPROXY_INSTANCE_DISCOVERY": "sometimes",
				"XDRPROXY_UPSTREAM_URL":       "http://api.example.com",
				"XDRPROXY_SCOPE":              "a b",
				"XDRPROXY_LOG_FORMAT":         "xml",
				"XDRPROXY_SHUTDOWN_TIMEOUT":   "-1s",
				"XDRPROXY_ROUTES":             "/g/=http://graph.microsoft.com",
			},
			unset: []string{"XDRPROXY_CLIENT_ID", "XDRPROXY_CLIENT_SECRET", "XDRPROXY_TENANTS"},
			want: []string{
				"XDRPROXY_LISTEN_ADDR", "XDRPROXY_ADMIN_ADDR", "XDRPROXY_CLIENT_ID",
				"XDRPROXY_CLIENT_SECRET", "XDRPROXY_AUTHORITY_HOST", "XDRPROXY_INSTANCE_DISCOVERY",
				"XDRPROXY_TENANTS", "XDRPROXY_UPSTREAM_URL", "XDRPROXY_SCOPE", "XDRPROXY_LOG_FORMAT",
				"XDRPROXY_SHUTDOWN_TIMEOUT", "XDRPROXY_ROUTES",
			},
			problems: 12,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, caseEnv(tt.set, tt.unset))

			cfg, err := Load()
			if err == nil {
				t.Fatalf("Load() = %+v, want an error", cfg)
			}
			if cfg != nil {
				t.Errorf("Load() returned a Config with its error: %+v", cfg)
			}
			msg := err.Error()
			for _, want := range tt.want {
				if !mentions(msg, want) {
					t.Errorf("Load() error does not mention %s:\n%s", want, msg)
				}
			}
			header, body, ok := strings.Cut(msg, "\n")
			if !ok || header != "invalid configuration:" {
				t.Fatalf("Load() error does not start with an %q line:\n%s", "invalid configuration:", msg)
			}
			lines := strings.Split(body, "\n")
			for _, line := range lines {
				if !strings.HasPrefix(line, "  "+Prefix+"_") && !strings.HasPrefix(line, "  AZURE_") {
					t.Errorf("problem line %q does not start by naming its variable", line)
				}
			}
			if len(lines) != tt.problems {
				t.Errorf("Load() error has %d problem lines, want %d:\n%s", len(lines), tt.problems, msg)
			}
		})
	}
}

func TestReadTenantsFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		want    []Tenant
		wantErr []string // text the error must contain; nil means success
	}{
		{
			name:    "comments, blank lines and CRLF",
			content: "# tenants\r\n\r\ncontoso=" + tenantA + " # prod\r\n  " + strings.ToUpper(tenantB) + "\r\n#" + tenantC + "\r\n",
			want:    []Tenant{{ID: tenantA, Alias: "contoso"}, {ID: tenantB}},
		},
		{
			name:    "no final newline",
			content: tenantA,
			want:    []Tenant{{ID: tenantA}},
		},
		{
			name:    "only comments",
			content: "# nothing yet\n\n",
			want:    nil,
		},
		{
			name:    "every bad line is reported with its number",
			content: tenantA + "\nnotaguid\n\nx!=" + tenantB + "\n",
			wantErr: []string{"line 2", `"notaguid"`, "line 4", `"x!"`},
		},
		{
			name:    "comma list is not a file line",
			content: tenantA + "," + tenantB + "\n",
			wantErr: []string{"line 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "tenants", tt.content)
			got, err := ReadTenantsFile(path)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("ReadTenantsFile() = %v, want an error", got)
				}
				for _, want := range append(tt.wantErr, path) {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("ReadTenantsFile() error %q does not contain %q", err, want)
					}
				}
				if got != nil {
					t.Errorf("ReadTenantsFile() returned tenants %v with its error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadTenantsFile() error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ReadTenantsFile() mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "missing")
		if got, err := ReadTenantsFile(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("ReadTenantsFile(missing) = %v, %v; want an error naming %s", got, err, path)
		}
	})
}

func TestLoadNeverShowsSecret(t *testing.T) {
	const secret = "Zq9-distinctive-SECRET-wv7"
	dir := t.TempDir()
	secretFile := writeFile(t, dir, "secret", secret+"\n")

	failures := []struct {
		name  string
		set   map[string]string
		unset []string
	}{
		{name: "bad cloud", set: map[string]string{"XDRPROXY_CLOUD": "mars"}},
		{name: "bad client ID", set: map[string]string{"XDRPROXY_CLIENT_ID": "not-a-guid"}},
		{name: "no tenants", unset: []string{"XDRPROXY_TENANTS"}},
		{name: "secret and secret file", set: map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": secretFile}},
		{name: "secret and certificate", set: map[string]string{"XDRPROXY_CLIENT_CERTIFICATE_FILE": "/x.pem"}},
		{name: "secret and XDRPROXY_FEDERATED_TOKEN_FILE", set: map[string]string{"XDRPROXY_FEDERATED_TOKEN_FILE": "/token"}},
		{name: "secret pasted as the client ID", set: map[string]string{"XDRPROXY_CLIENT_ID": testSecret}},
		// Quoted by its own message: the redaction of the secret is what hides it.
		{name: "secret pasted into the scope", set: map[string]string{"XDRPROXY_SCOPE": secret + " x"}},
		{
			name:  "secret from a file pasted into the scope",
			set:   map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": secretFile, "XDRPROXY_SCOPE": secret + " x"},
			unset: []string{"XDRPROXY_CLIENT_SECRET"},
		},
		{
			name:  "secret file with a bad listener",
			set:   map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": secretFile, "XDRPROXY_LISTEN_ADDR": "0.0.0.0:8080"},
			unset: []string{"XDRPROXY_CLIENT_SECRET"},
		},
	}
	for _, tt := range failures {
		t.Run("error/"+tt.name, func(t *testing.T) {
			vars := caseEnv(tt.set, tt.unset)
			if _, ok := vars["XDRPROXY_CLIENT_SECRET"]; ok {
				vars["XDRPROXY_CLIENT_SECRET"] = secret
			}
			setEnv(t, vars)
			_, err := Load()
			if err == nil {
				t.Fatal("Load() succeeded, want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Load() error shows the secret:\n%v", err)
			}
		})
	}

	for _, tt := range []struct {
		name  string
		set   map[string]string
		unset []string
	}{
		{name: "client secret", set: map[string]string{"XDRPROXY_CLIENT_SECRET": secret}},
		{name: "client secret file", set: map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": secretFile}, unset: []string{"XDRPROXY_CLIENT_SECRET"}},
	} {
		t.Run("config/"+tt.name, func(t *testing.T) {
			setEnv(t, caseEnv(tt.set, tt.unset))
			cfg, err := Load()
			if err != nil {
				t.Fatalf("Load() error: %v", err)
			}
			if got := cfg.Credential.Secret.Reveal(); got != secret {
				t.Fatalf("Credential.Secret.Reveal() = %q, want %q", got, secret)
			}

			printed := fmt.Sprintf("%v %+v %#v %v %+v %#v %s", cfg, *cfg, cfg, cfg.Credential, cfg.Credential, cfg.Credential, cfg.Credential.Secret)
			if strings.Contains(printed, secret) {
				t.Errorf("fmt shows the secret: %s", printed)
			}
			if !strings.Contains(printed, "[redacted]") {
				t.Errorf("fmt output has no [redacted] in place of the secret: %s", printed)
			}

			data, err := json.Marshal(cfg)
			if err != nil {
				t.Fatalf("json.Marshal(cfg): %v", err)
			}
			if strings.Contains(string(data), secret) {
				t.Errorf("json.Marshal(cfg) shows the secret: %s", data)
			}
			if !strings.Contains(string(data), `"[redacted]"`) {
				t.Errorf("json.Marshal(cfg) has no \"[redacted]\" in place of the secret: %s", data)
			}

			enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
			buf, err := enc.EncodeEntry(zapcore.Entry{Message: "config"}, []zapcore.Field{
				zap.Any("config", cfg),
				zap.Any("credential", cfg.Credential),
				zap.Any("secret", cfg.Credential.Secret),
				zap.Stringer("stringer", cfg.Credential.Secret),
			})
			if err != nil {
				t.Fatalf("encoding a zap entry: %v", err)
			}
			if logged := buf.String(); strings.Contains(logged, secret) {
				t.Errorf("zap shows the secret: %s", logged)
			}
		})
	}
}

func TestCredentialVariable(t *testing.T) {
	tests := []struct {
		kind CredentialKind
		want string
	}{
		{NoCredential, ""},
		{ClientSecret, "XDRPROXY_CLIENT_SECRET"},
		{ClientSecretFile, "XDRPROXY_CLIENT_SECRET_FILE"},
		{ClientCertificate, "XDRPROXY_CLIENT_CERTIFICATE_FILE"},
		{FederatedToken, "XDRPROXY_FEDERATED_TOKEN_FILE"},
		{CredentialKind(99), ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.kind), func(t *testing.T) {
			if got := (Credential{Kind: tt.kind}).Variable(); got != tt.want {
				t.Errorf("Credential{Kind: %d}.Variable() = %q, want %q", tt.kind, got, tt.want)
			}
		})
	}
}

func TestWorkloadIdentityTokenFileDoesNotClashWithASecret(t *testing.T) {
	env := minimalEnv()
	env["AZURE_FEDERATED_TOKEN_FILE"] = "/var/run/secrets/azure/tokens/azure-identity-token"
	setEnv(t, env)
	cfg, err := Load()
	if err != nil {
		t.Fatalf("the webhook's AZURE_FEDERATED_TOKEN_FILE beside XDRPROXY_CLIENT_SECRET: %v", err)
	}
	if cfg.Credential.Kind != ClientSecret {
		t.Errorf("credential kind = %v, want the client secret", cfg.Credential.Kind)
	}
}

func TestClientSecretIsTrimmed(t *testing.T) {
	env := minimalEnv()
	env["XDRPROXY_CLIENT_SECRET"] = "  " + testSecret + "\n"
	setEnv(t, env)
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Credential.Secret.Reveal(); got != testSecret {
		t.Errorf("secret = %q, want it trimmed", got)
	}
	env["XDRPROXY_CLIENT_SECRET"] = "   "
	setEnv(t, env)
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "no credential") {
		t.Errorf("a blank secret: err = %v, want no credential", err)
	}
}
