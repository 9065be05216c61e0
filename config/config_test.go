package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

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
		ListenAddr:          "127.0.0.1:8080",
		AdminAddr:           "127.0.0.1:9090",
		ClientID:            testClientID,
		Credential:          Credential{Kind: ClientSecret, Secret: testSecret},
		AuthorityHost:       testutil.ParseURL(t, "https://login.microsoftonline.com"),
		InstanceDiscovery:   true,
		Tenants:             mustTenantSet(t, Tenant{ID: tenantA}),
		UpstreamURL:         testutil.ParseURL(t, "https://api.security.microsoft.com"),
		Scope:               "https://api.security.microsoft.com/.default",
		LogLevel:            zapcore.InfoLevel,
		LogFormat:           "json",
		Cloud:               publicCloud,
		UpstreamTimeout:     210 * time.Second,
		ShutdownTimeout:     25 * time.Second,
		BodyIdleTimeout:     60 * time.Second,
		MaxConnections:      10000,
		MetricsTenantLabels: 1000,
	}
}

// configOpts compares tenant sets by their tenants and treats a nil and an
// empty RequiredRoles alike. Where the tenants came from (kept for
// reloading) is checked by TestTenantSources.
var configOpts = cmp.Options{
	cmp.Transformer("TenantSet.All", func(s *TenantSet) []Tenant { return s.All() }),
	cmpopts.EquateEmpty(),
	cmpopts.IgnoreFields(Config{}, "StaticTenants", "TenantsFile", "TenantsFileSum", "ClientKeysFileContent", "RateLimits", "QueueTimeout", "Pprof"),
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
			want: func(c *Config) { c.AuthorityHost = testutil.ParseURL(t, "https://login.example.com") },
		},
		{
			name: "XDRPROXY_AUTHORITY_HOST wins over AZURE_AUTHORITY_HOST",
			set: map[string]string{
				"AZURE_AUTHORITY_HOST":    "https://login.example.com/",
				"XDRPROXY_AUTHORITY_HOST": "https://login.example.net:8443",
			},
			want: func(c *Config) { c.AuthorityHost = testutil.ParseURL(t, "https://login.example.net:8443") },
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
				"XDRPROXY_BODY_IDLE_TIMEOUT":  "90s",
				"XDRPROXY_MAX_CONNECTIONS":    " 50 ",
			},
			want: func(c *Config) {
				c.ListenAddr = "127.0.0.1:18080"
				c.AdminAddr = "0.0.0.0:19090"
				c.AuthorityHost = testutil.ParseURL(t, "https://127.0.0.1:8443")
				c.InstanceDiscovery = false
				c.UpstreamURL = testutil.ParseURL(t, "https://gateway.example.com/defender")
				c.Scope = "api://xdr/.default"
				c.LogLevel = zapcore.DebugLevel
				c.LogFormat = "console"
				c.UpstreamTimeout = 2 * time.Minute
				c.ShutdownTimeout = 1500 * time.Millisecond
				c.BodyIdleTimeout = 90 * time.Second
				c.MaxConnections = 50
			},
		},
		{
			name: "no connection cap",
			set:  map[string]string{"XDRPROXY_MAX_CONNECTIONS": "0"},
			want: func(c *Config) { c.MaxConnections = 0 },
		},
		{
			name: "no tenant label on the request counter",
			set:  map[string]string{"XDRPROXY_METRICS_TENANT_LABELS": " 0 "},
			want: func(c *Config) { c.MetricsTenantLabels = 0 },
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
				c.AuthorityHost = testutil.ParseURL(t, "https://login.microsoftonline.com")
				c.UpstreamURL = testutil.ParseURL(t, "https://api-gcc.security.microsoft.us")
				c.Scope = "https://api-gcc.security.microsoft.us/.default"
			},
		},
		{
			name: "cloud usgovhigh",
			set:  map[string]string{"XDRPROXY_CLOUD": "usgovhigh"},
			want: func(c *Config) {
				c.Cloud = usgovhighCloud
				c.AuthorityHost = testutil.ParseURL(t, "https://login.microsoftonline.us")
				c.UpstreamURL = testutil.ParseURL(t, "https://api-gov.security.microsoft.us")
				c.Scope = "https://api-gov.security.microsoft.us/.default"
			},
		},
		{
			name: "cloud dod, in any case",
			set:  map[string]string{"XDRPROXY_CLOUD": " DoD "},
			want: func(c *Config) {
				c.Cloud = dodCloud
				c.AuthorityHost = testutil.ParseURL(t, "https://login.microsoftonline.us")
				c.UpstreamURL = testutil.ParseURL(t, "https://api-gov.security.microsoft.us")
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
				c.AuthorityHost = testutil.ParseURL(t, "https://login.example.com")
				c.UpstreamURL = testutil.ParseURL(t, "http://127.0.0.1:9999")
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
				c.AuthorityHost = testutil.ParseURL(t, "https://login.microsoftonline.us")
				c.UpstreamURL = testutil.ParseURL(t, "https://gateway.example.com")
				c.Scope = "https://api-gov.security.microsoft.us/.default"
			},
		},
		{
			name: "http upstream on localhost",
			set:  map[string]string{"XDRPROXY_UPSTREAM_URL": "http://localhost:9999/"},
			want: func(c *Config) { c.UpstreamURL = testutil.ParseURL(t, "http://localhost:9999") },
		},
		{
			name: "http upstream on IPv6 loopback",
			set:  map[string]string{"XDRPROXY_UPSTREAM_URL": "http://[::1]:9999"},
			want: func(c *Config) { c.UpstreamURL = testutil.ParseURL(t, "http://[::1]:9999") },
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
