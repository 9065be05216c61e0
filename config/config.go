// Package config loads and validates xdrproxy's configuration from the
// environment (variables prefixed XDRPROXY_, with the AZURE_* fallbacks the
// Azure Workload Identity webhook sets), as fixed in the operating contract.
package config

import (
	"crypto"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
)

// Prefix is the prefix of every variable xdrproxy reads.
const Prefix = "XDRPROXY"

// Config is the validated configuration. Every field holds a parsed value.
type Config struct {
	// ListenAddr is the proxy listener's host:port.
	ListenAddr string
	// AdminAddr is the admin listener's host:port.
	AdminAddr string
	// ClientID is the multi-tenant application's client ID.
	ClientID string
	// Credential is the one credential the application authenticates with.
	Credential Credential
	// AuthorityHost is Entra ID's base URL (scheme and host, no path).
	AuthorityHost *url.URL
	// InstanceDiscovery is false for authority hosts that are not Microsoft's.
	InstanceDiscovery bool
	// Tenants holds the tenants allowed through, from XDRPROXY_TENANTS and
	// XDRPROXY_TENANTS_FILE together.
	Tenants *TenantSet
	// StaticTenants are the tenants of XDRPROXY_TENANTS alone.
	StaticTenants []Tenant
	// TenantsFile is XDRPROXY_TENANTS_FILE, re-read when it changes;
	// empty means none.
	TenantsFile string
	// TenantsFileSum is the sum of the tenants file as read at start-up,
	// for noticing its next change; not the content, which for 10,000
	// tenants would be kept for nothing. Zero when TenantsFile is empty.
	TenantsFileSum FileSum
	// DefaultTenant is used when a request names no tenant. Its zero value
	// means there is no default.
	DefaultTenant Tenant
	// UpstreamURL is where requests are forwarded.
	UpstreamURL *url.URL
	// Scope is the OAuth scope tokens are acquired for.
	Scope string
	// Routes send path prefixes to other upstreams, longest prefix first.
	// Empty means every request goes to UpstreamURL.
	Routes []Route
	// RequiredRoles lists the app roles `check` and /readyz insist on.
	RequiredRoles []string
	// RateLimits are the per-tenant limits by path prefix, longest prefix
	// first; empty when XDRPROXY_RATE_LIMITS=off.
	RateLimits []RateLimit
	// QueueTimeout is how long a request may wait for its tenant's limit.
	QueueTimeout time.Duration
	// Pprof serves /debug/pprof/ on the admin listener.
	Pprof bool
	// ClientKeys are the inbound client keys; nil means none are required.
	ClientKeys *ClientKeys
	// ClientKeysFile is XDRPROXY_CLIENT_KEYS_FILE, re-read when it
	// changes; empty means none.
	ClientKeysFile string
	// ClientKeysFileContent is the keys file as read at start-up.
	ClientKeysFileContent []byte
	// AdminKeys are the admin listener's keys; nil means
	// XDRPROXY_ADMIN_KEYS_FILE is not set.
	AdminKeys *AdminKeys
	// AdminKeysFile is XDRPROXY_ADMIN_KEYS_FILE, re-read when it changes;
	// empty means none.
	AdminKeysFile string
	// AdminKeysFileContent is the admin keys file as read at start-up.
	AdminKeysFileContent []byte
	// AllowUnauthenticated permits a non-loopback listener with no client keys.
	AllowUnauthenticated bool
	// LogLevel is the minimum level logged.
	LogLevel zapcore.Level
	// LogFormat is "json" or "console".
	LogFormat string
	// Cloud is the Microsoft cloud whose defaults apply.
	Cloud Cloud
	// UpstreamTimeout bounds the wait for the upstream's response headers.
	UpstreamTimeout time.Duration
	// ShutdownTimeout bounds the drain of in-flight requests on shutdown.
	ShutdownTimeout time.Duration
	// BodyIdleTimeout is the longest a request body may make no progress
	// before the request is cut.
	BodyIdleTimeout time.Duration
	// TLSCertFile and TLSKeyFile, when set, serve the proxy listeners
	// over TLS; they are re-read when they change. Empty means plain HTTP.
	TLSCertFile, TLSKeyFile string
	// TLSClientCAFile, when set, makes the proxy listeners require a
	// client certificate signed by one of its CAs.
	TLSClientCAFile string
	// TenantListeners are extra proxy listeners pinned to one tenant each.
	TenantListeners []TenantListener
	// TokenEmulation answers Entra ID token requests on the proxy
	// listeners with placeholder tokens.
	TokenEmulation bool
	// PlaceholderKey signs placeholder tokens; nil means a key is made at
	// start. It is never logged.
	PlaceholderKey crypto.Signer `json:"-"`
	// PlaceholderKeyFile is XDRPROXY_PLACEHOLDER_KEY_FILE; empty means none.
	PlaceholderKeyFile string
	// PublicURL is the origin clients reach the proxy at (scheme and host,
	// no path), named in discovery documents, issuers and rewritten
	// paging links. Nil means each request's own scheme and Host.
	PublicURL *url.URL
	// MaxConnections caps the client connections open at once on each
	// proxy and tenant listener; beyond it new connections wait in the
	// kernel's accept queue. 0 means no cap.
	MaxConnections int
	// MetricsTenantLabels is how many tenants keep a tenant label of their
	// own on xdrproxy_requests_total, the first by name; the requests of
	// the others are counted together. 0 means none.
	MetricsTenantLabels int
	// Fleet is the Redis replicas share state through; its zero value
	// means none.
	Fleet Fleet
}

// TLS reports whether the proxy listeners serve TLS.
func (c *Config) TLS() bool { return c.TLSCertFile != "" }

// Scopes returns every scope the proxy acquires tokens for: Scope, then
// each route's, without repeats.
func (c *Config) Scopes() []string {
	scopes := []string{c.Scope}
	for _, r := range c.Routes {
		if !slices.Contains(scopes, r.Scope) {
			scopes = append(scopes, r.Scope)
		}
	}
	return scopes
}

// Load reads the environment and validates it. The error lists every
// problem found, one per line, each naming its variable.
func Load() (*Config, error) {
	e, err := readEnv()
	if err != nil {
		return nil, err
	}
	e.federatedVar = fallback(&e.FederatedTokenFile, "FEDERATED_TOKEN_FILE", "AZURE_FEDERATED_TOKEN_FILE")
	return e.validate()
}

// ApplicationVariables are the variables LoadApplication reads, the
// AZURE_* fallbacks included.
var ApplicationVariables = []string{
	Prefix + "_CLIENT_ID", "AZURE_CLIENT_ID", Prefix + "_AUTHORITY_HOST", "AZURE_AUTHORITY_HOST",
	Prefix + "_CLOUD", Prefix + "_SCOPE", Prefix + "_ROUTES", Prefix + "_UPSTREAM_URL",
}

// LoadApplication reads only what describes the application and its
// cloud (client ID, authority host, cloud, scopes), for commands such as
// consent-url that need no credential or tenant. Fields outside that set
// may be zero. Unknown XDRPROXY_ variables are refused as by Load.
func LoadApplication() (*Config, error) {
	e, err := readEnv()
	if err != nil {
		return nil, err
	}
	c, all := e.check()
	p := unknownProblems()
	for _, line := range all {
		for _, v := range ApplicationVariables {
			if strings.HasPrefix(line, v+":") {
				p = append(p, line)
			}
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}
