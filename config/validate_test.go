package config

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
			name:     "body idle timeout zero",
			set:      map[string]string{"XDRPROXY_BODY_IDLE_TIMEOUT": "0s"},
			want:     []string{"XDRPROXY_BODY_IDLE_TIMEOUT", `"0s"`},
			problems: 1,
		},
		{
			name:     "negative connection cap",
			set:      map[string]string{"XDRPROXY_MAX_CONNECTIONS": "-1"},
			want:     []string{"XDRPROXY_MAX_CONNECTIONS", `"-1"`},
			problems: 1,
		},
		{
			name:     "negative number of tenant labels",
			set:      map[string]string{"XDRPROXY_METRICS_TENANT_LABELS": "-1"},
			want:     []string{"XDRPROXY_METRICS_TENANT_LABELS", `"-1"`},
			problems: 1,
		},
		{
			name:     "tenant labels not a number",
			set:      map[string]string{"XDRPROXY_METRICS_TENANT_LABELS": "all"},
			want:     []string{"XDRPROXY_METRICS_TENANT_LABELS", `"all"`},
			problems: 1,
		},
		{
			name:     "connection cap not a whole number",
			set:      map[string]string{"XDRPROXY_MAX_CONNECTIONS": "1e4"},
			want:     []string{"XDRPROXY_MAX_CONNECTIONS", `"1e4"`},
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

func TestWebhookAuthorityHostAgainstExplicitCloud(t *testing.T) {
	env := minimalEnv()
	env["XDRPROXY_CLOUD"] = "usgovhigh"
	env["AZURE_AUTHORITY_HOST"] = "https://login.microsoftonline.com/"
	setEnv(t, env)
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "XDRPROXY_CLOUD") || !strings.Contains(err.Error(), "AZURE_AUTHORITY_HOST") {
		t.Fatalf("err = %v, want a clash naming both variables", err)
	}
	env["AZURE_AUTHORITY_HOST"] = "https://login.microsoftonline.us/"
	setEnv(t, env)
	if cfg, err := Load(); err != nil || cfg.AuthorityHost.Host != "login.microsoftonline.us" {
		t.Fatalf("matching hosts: %v", err)
	}
	delete(env, "XDRPROXY_CLOUD") // the default cloud defers to the webhook
	env["AZURE_AUTHORITY_HOST"] = "https://login.microsoftonline.us/"
	setEnv(t, env)
	if cfg, err := Load(); err != nil || cfg.AuthorityHost.Host != "login.microsoftonline.us" {
		t.Fatalf("webhook host with the default cloud: %v", err)
	}
}

// TestLoadReportsProblemsInStepOrder pins the whole error for one
// environment with a problem in nearly every step: each line's text, and
// the order in which validation reports them.
func TestLoadReportsProblemsInStepOrder(t *testing.T) {
	setEnv(t, caseEnv(map[string]string{
		"XDRPROXY_CLOUD":                       "mars",
		"XDRPROXY_LISTEN_ADDR":                 "0.0.0.0:8080",
		"XDRPROXY_ADMIN_ADDR":                  "nowhere",
		"XDRPROXY_CLIENT_ID":                   "my-app",
		"XDRPROXY_AUTHORITY_HOST":              "http://login.example.com",
		"XDRPROXY_INSTANCE_DISCOVERY":          "sometimes",
		"XDRPROXY_TENANTS":                     "notaguid",
		"XDRPROXY_UPSTREAM_URL":                "http://api.example.com",
		"XDRPROXY_SCOPE":                       "a b",
		"XDRPROXY_ROUTES":                      "/g/=http://graph.microsoft.com",
		"XDRPROXY_PPROF":                       "maybe",
		"XDRPROXY_ALLOW_UNAUTHENTICATED":       "perhaps",
		"XDRPROXY_TLS_KEY_FILE":                "/nonexistent/tls.key",
		"XDRPROXY_TENANT_LISTENERS":            "garbage",
		"XDRPROXY_TOKEN_EMULATION":             "maybe",
		"XDRPROXY_LOG_LEVEL":                   "loud",
		"XDRPROXY_LOG_FORMAT":                  "xml",
		"XDRPROXY_UPSTREAM_TIMEOUT":            "abc",
		"XDRPROXY_SHUTDOWN_TIMEOUT":            "-1s",
		"XDRPROXY_QUEUE_TIMEOUT":               "soon",
		"XDRPROXY_RATE_LIMITS":                 "bad",
		"XDRPROXY_CLIENT_CERTIFICATE_SEND_X5C": "banana",
	}, []string{"XDRPROXY_CLIENT_SECRET"}))
	want := strings.Join([]string{
		"invalid configuration:",
		`  XDRPROXY_CLOUD: "mars" is not a known cloud (want public, usgov, usgovhigh or dod)`,
		`  XDRPROXY_ADMIN_ADDR: "nowhere" is not host:port (such as 127.0.0.1:8080)`,
		`  XDRPROXY_CLIENT_ID: is not a GUID (6 characters; want the application (client) ID, xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`,
		`  XDRPROXY_CLIENT_SECRET: no credential is configured: set exactly one of XDRPROXY_CLIENT_SECRET, XDRPROXY_CLIENT_SECRET_FILE, XDRPROXY_CLIENT_CERTIFICATE_FILE or XDRPROXY_FEDERATED_TOKEN_FILE`,
		`  XDRPROXY_AUTHORITY_HOST: "http://login.example.com" must use https (Entra ID and MSAL accept no other scheme)`,
		`  XDRPROXY_INSTANCE_DISCOVERY: "sometimes" is not a boolean (want true or false)`,
		`  XDRPROXY_TENANTS: "notaguid" is not a tenant GUID (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`,
		`  XDRPROXY_UPSTREAM_URL: "http://api.example.com" would send bearer tokens in clear text; use https (http is accepted for loopback only)`,
		`  XDRPROXY_SCOPE: "a b" must be one scope, such as https://api.security.microsoft.com/.default`,
		`  XDRPROXY_ROUTES: route /g/: "http://graph.microsoft.com" would send bearer tokens in clear text; use https (http is accepted for loopback only)`,
		`  XDRPROXY_PPROF: "maybe" is not a boolean (want true or false)`,
		`  XDRPROXY_ALLOW_UNAUTHENTICATED: "perhaps" is not a boolean (want true or false)`,
		`  XDRPROXY_LISTEN_ADDR: "0.0.0.0:8080" is reachable from other machines and no client keys are configured (XDRPROXY_CLIENT_KEYS_FILE); anyone who can reach it would act with your application's access to every tenant. Set XDRPROXY_CLIENT_KEYS_FILE, listen on 127.0.0.1, or set XDRPROXY_ALLOW_UNAUTHENTICATED=true if a network policy already restricts who can connect`,
		`  XDRPROXY_TLS_CERT_FILE: is required with XDRPROXY_TLS_KEY_FILE (the certificate that goes with the key)`,
		`  XDRPROXY_TENANT_LISTENERS: "garbage" is not ADDR=TENANT (such as 127.0.0.1:8081=contoso)`,
		`  XDRPROXY_TOKEN_EMULATION: "maybe" is not a boolean (want true or false)`,
		`  XDRPROXY_LOG_LEVEL: "loud" is not a level (want debug, info, warn or error)`,
		`  XDRPROXY_LOG_FORMAT: "xml" is not a format (want json or console)`,
		`  XDRPROXY_UPSTREAM_TIMEOUT: "abc" is not a positive duration (such as 30s or 2m)`,
		`  XDRPROXY_SHUTDOWN_TIMEOUT: "-1s" is not a positive duration (such as 30s or 2m)`,
		`  XDRPROXY_QUEUE_TIMEOUT: "soon" is not a positive duration (such as 30s or 2m)`,
		`  XDRPROXY_RATE_LIMITS: "bad" is not PREFIX=N/s, PREFIX=N/m or PREFIX=N/h`,
		`  XDRPROXY_CLIENT_CERTIFICATE_SEND_X5C: "banana" is not a boolean (want true or false)`,
	}, "\n")
	_, err := Load()
	if err == nil {
		t.Fatal("Load() succeeded, want an error")
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("Load() error mismatch (-want +got):\n%s", diff)
	}
}
