// Package config loads and validates xdrproxy's configuration from the
// environment (variables prefixed XDRPROXY_, with the AZURE_* fallbacks the
// Azure Workload Identity webhook sets), as fixed in the operating contract.
package config

import (
	"crypto"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
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
	// TenantsFileContent is the tenants file as read at start-up.
	TenantsFileContent []byte
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

// env mirrors the environment as strings, so that every bad value can be
// reported at once rather than envconfig stopping at the first. Names come
// from split_words (ListenAddr is XDRPROXY_LISTEN_ADDR), not envconfig tags:
// a tag would make envconfig also read the unprefixed name (LISTEN_ADDR,
// CLIENT_SECRET) when the prefixed one is unset.
type env struct {
	ListenAddr            string `split_words:"true"`
	AdminAddr             string `split_words:"true"`
	ClientID              string `split_words:"true"`
	ClientSecret          string `split_words:"true"`
	ClientSecretFile      string `split_words:"true"`
	ClientCertificateFile string `split_words:"true"`
	FederatedTokenFile    string `split_words:"true"`
	AuthorityHost         string `split_words:"true"`
	InstanceDiscovery     string `split_words:"true"`
	Tenants               string `split_words:"true"`
	TenantsFile           string `split_words:"true"`
	DefaultTenant         string `split_words:"true"`
	UpstreamURL           string `split_words:"true"`
	Scope                 string `split_words:"true"`
	RequiredRoles         string `split_words:"true"`
	Routes                string `split_words:"true"`
	ClientKeysFile        string `split_words:"true"`
	RateLimits            string `split_words:"true"`
	QueueTimeout          string `split_words:"true"`
	Pprof                 string
	AllowUnauthenticated  string `split_words:"true"`
	LogLevel              string `split_words:"true"`
	LogFormat             string `split_words:"true"`
	Cloud                 string `split_words:"true"`
	UpstreamTimeout       string `split_words:"true"`
	ShutdownTimeout       string `split_words:"true"`
	TLSCertFile           string `split_words:"true"`
	TLSKeyFile            string `split_words:"true"`
	TLSClientCAFile       string `split_words:"true"`
	TenantListeners       string `split_words:"true"`
	TokenEmulation        string `split_words:"true"`
	PlaceholderKeyFile    string `split_words:"true"`

	// source names the variable each fallback-capable value came from.
	clientIDVar, federatedVar, authorityVar string
}

// defaults are applied to variables that are unset or empty: an empty
// variable means "not set", as for every other variable.
func (e *env) defaults() {
	for field, value := range map[*string]string{
		&e.ListenAddr:           "127.0.0.1:8080",
		&e.AdminAddr:            "127.0.0.1:9090",
		&e.InstanceDiscovery:    "true",
		&e.AllowUnauthenticated: "false",
		&e.LogLevel:             "info",
		&e.LogFormat:            "json",
		&e.Cloud:                "public",
		&e.UpstreamTimeout:      "210s",
		&e.ShutdownTimeout:      "25s",
		&e.QueueTimeout:         "30s",
		&e.Pprof:                "false",
		&e.TokenEmulation:       "false",
	} {
		if strings.TrimSpace(*field) == "" {
			*field = value
		}
	}
}

// Variables lists every XDRPROXY_ variable xdrproxy reads.
var Variables = func() []string {
	names := []string{
		"LISTEN_ADDR", "ADMIN_ADDR", "CLIENT_ID", "CLIENT_SECRET", "CLIENT_SECRET_FILE",
		"CLIENT_CERTIFICATE_FILE", "FEDERATED_TOKEN_FILE", "AUTHORITY_HOST", "INSTANCE_DISCOVERY",
		"TENANTS", "TENANTS_FILE", "DEFAULT_TENANT", "UPSTREAM_URL", "SCOPE", "REQUIRED_ROLES",
		"ROUTES", "CLIENT_KEYS_FILE", "RATE_LIMITS", "QUEUE_TIMEOUT", "PPROF",
		"ALLOW_UNAUTHENTICATED", "LOG_LEVEL", "LOG_FORMAT", "CLOUD", "UPSTREAM_TIMEOUT", "SHUTDOWN_TIMEOUT",
		"TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CLIENT_CA_FILE", "TENANT_LISTENERS",
		"TOKEN_EMULATION", "PLACEHOLDER_KEY_FILE",
		"CLIENT_CERTIFICATE_SEND_X5C",
	}
	for i, n := range names {
		names[i] = Prefix + "_" + n
	}
	return names
}()

// Load reads the environment and validates it. The error lists every
// problem found, one per line, each naming its variable.
func Load() (*Config, error) {
	var e env
	if err := envconfig.Process(Prefix, &e); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n  %w", err)
	}
	e.defaults()
	// The Azure Workload Identity webhook sets AZURE_* variables; use them
	// where the XDRPROXY_ ones are unset, and name them in errors.
	e.clientIDVar = fallback(&e.ClientID, "CLIENT_ID", "AZURE_CLIENT_ID")
	e.federatedVar = fallback(&e.FederatedTokenFile, "FEDERATED_TOKEN_FILE", "AZURE_FEDERATED_TOKEN_FILE")
	e.authorityVar = fallback(&e.AuthorityHost, "AUTHORITY_HOST", "AZURE_AUTHORITY_HOST")
	return e.validate()
}

// applicationVariables are the variables LoadApplication checks.
var applicationVariables = []string{
	Prefix + "_CLIENT_ID", "AZURE_CLIENT_ID", Prefix + "_AUTHORITY_HOST", "AZURE_AUTHORITY_HOST",
	Prefix + "_CLOUD", Prefix + "_SCOPE", Prefix + "_ROUTES", Prefix + "_UPSTREAM_URL",
}

// LoadApplication reads only what describes the application and its
// cloud (client ID, authority host, cloud, scopes), for commands such as
// consent-url that need no credential or tenant. Fields outside that set
// may be zero.
func LoadApplication() (*Config, error) {
	var e env
	if err := envconfig.Process(Prefix, &e); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n  %w", err)
	}
	e.defaults()
	e.clientIDVar = fallback(&e.ClientID, "CLIENT_ID", "AZURE_CLIENT_ID")
	e.authorityVar = fallback(&e.AuthorityHost, "AUTHORITY_HOST", "AZURE_AUTHORITY_HOST")
	c, all := e.check()
	var p problems
	for _, line := range all {
		for _, v := range applicationVariables {
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

// fallback fills an unset field from the variable alt and returns the full
// name of the variable the value came from.
func fallback(field *string, name, alt string) string {
	if *field == "" {
		if v := os.Getenv(alt); v != "" {
			*field = v
			return alt
		}
	}
	return Prefix + "_" + name
}

// problems gathers validation errors, one per variable.
type problems []string

func (p *problems) add(variable, format string, args ...any) {
	p.addVar(Prefix+"_"+variable, format, args...)
}

// addVar records a problem with the variable named in full.
func (p *problems) addVar(variable, format string, args ...any) {
	*p = append(*p, variable+": "+fmt.Sprintf(format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.New("invalid configuration:\n  " + strings.Join(p, "\n  "))
}

func (e env) validate() (*Config, error) {
	c, p := e.check()
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// check parses every variable into a Config and lists every problem.
func (e env) check() (*Config, problems) {
	var p problems
	c := &Config{}

	cloud, ok := Clouds[strings.ToLower(strings.TrimSpace(e.Cloud))]
	if !ok {
		p.add("CLOUD", "%q is not a known cloud (want public, usgov, usgovhigh or dod)", e.Cloud)
		cloud = Clouds["public"]
	}
	c.Cloud = cloud

	c.ListenAddr = e.ListenAddr
	listenOK := true
	if err := checkListenAddr(e.ListenAddr); err != nil {
		p.add("LISTEN_ADDR", "%v", err)
		listenOK = false
	}
	c.AdminAddr = e.AdminAddr
	if err := checkListenAddr(e.AdminAddr); err != nil {
		p.add("ADMIN_ADDR", "%v", err)
	}

	c.ClientID = strings.TrimSpace(e.ClientID)
	switch {
	case c.ClientID == "":
		p.add("CLIENT_ID", "is required (the multi-tenant application's client ID; AZURE_CLIENT_ID is also read)")
	case !IsGUID(c.ClientID):
		// Not echoed: a swapped client ID and secret would print the secret.
		p.addVar(e.clientIDVar, "is not a GUID (%d characters; want the application (client) ID, xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", len(c.ClientID))
	}

	cred, err := e.credential()
	if err != nil {
		p = append(p, err.Error())
	}
	c.Credential = cred

	authority := e.AuthorityHost
	if authority == "" {
		authority = cloud.AuthorityHost
	} else if e.authorityVar == "AZURE_AUTHORITY_HOST" && strings.TrimSpace(os.Getenv(Prefix+"_CLOUD")) != "" &&
		!sameHost(authority, cloud.AuthorityHost) {
		// The workload-identity webhook sets AZURE_AUTHORITY_HOST in every
		// labelled pod; it must not quietly move a sovereign-cloud proxy
		// to another cloud's login host.
		p.add("CLOUD", "%s selects %s, but AZURE_AUTHORITY_HOST is %s; set XDRPROXY_AUTHORITY_HOST to say which is meant", cloud.Name, cloud.AuthorityHost, authority)
	}
	if u, err := parseAuthorityHost(authority); err != nil {
		p.addVar(e.authorityVar, "%v", err)
	} else {
		c.AuthorityHost = u
	}
	if c.InstanceDiscovery, err = parseBool(e.InstanceDiscovery); err != nil {
		p.add("INSTANCE_DISCOVERY", "%v", err)
	}

	e.tenants(c, &p)

	upstream := e.UpstreamURL
	if upstream == "" {
		upstream = cloud.UpstreamURL
	}
	if u, err := parseUpstreamURL(upstream); err != nil {
		p.add("UPSTREAM_URL", "%v", err)
	} else {
		c.UpstreamURL = u
	}
	c.Scope = strings.TrimSpace(e.Scope)
	if c.Scope == "" {
		c.Scope = cloud.Scope
	} else if strings.ContainsAny(c.Scope, " \t,") {
		p.add("SCOPE", "%q must be one scope, such as https://api.security.microsoft.com/.default", c.Scope)
	}

	if strings.TrimSpace(e.Routes) != "" {
		if c.Routes, err = ParseRoutes(e.Routes); err != nil {
			p.add("ROUTES", "%v", err)
		}
	}

	for _, role := range strings.Split(e.RequiredRoles, ",") {
		if role = strings.TrimSpace(role); role != "" {
			c.RequiredRoles = append(c.RequiredRoles, role)
		}
	}

	if c.Pprof, err = parseBool(e.Pprof); err != nil {
		p.add("PPROF", "%v", err)
	}
	if c.AllowUnauthenticated, err = parseBool(e.AllowUnauthenticated); err != nil {
		p.add("ALLOW_UNAUTHENTICATED", "%v", err)
	}
	if path := strings.TrimSpace(e.ClientKeysFile); path != "" {
		c.ClientKeysFile = path
		data, err := readFile(path)
		if err == nil {
			c.ClientKeys, err = ParseClientKeys(path, data)
		}
		if err == nil && c.ClientKeys.Len() == 0 {
			err = fmt.Errorf("%s lists no key: every request would be refused", path)
		}
		if err != nil {
			p.add("CLIENT_KEYS_FILE", "%v", err)
		}
		c.ClientKeysFileContent = data
	}
	// A listener other machines can reach must authenticate its clients.
	if !c.AllowUnauthenticated && listenOK && c.ClientKeysFile == "" && !IsLoopbackAddr(c.ListenAddr) {
		p.add("LISTEN_ADDR", "%q is reachable from other machines and no client keys are configured (XDRPROXY_CLIENT_KEYS_FILE); anyone who can reach it would act with your application's access to every tenant. Set XDRPROXY_CLIENT_KEYS_FILE, listen on 127.0.0.1, or set XDRPROXY_ALLOW_UNAUTHENTICATED=true if a network policy already restricts who can connect", c.ListenAddr)
	}
	e.legacy(c, &p)

	if c.LogLevel, err = zapcore.ParseLevel(strings.TrimSpace(e.LogLevel)); err != nil {
		p.add("LOG_LEVEL", "%q is not a level (want debug, info, warn or error)", e.LogLevel)
	}
	c.LogFormat = strings.ToLower(strings.TrimSpace(e.LogFormat))
	if c.LogFormat != "json" && c.LogFormat != "console" {
		p.add("LOG_FORMAT", "%q is not a format (want json or console)", e.LogFormat)
	}

	if c.UpstreamTimeout, err = parseDuration(e.UpstreamTimeout); err != nil {
		p.add("UPSTREAM_TIMEOUT", "%v", err)
	}
	if c.ShutdownTimeout, err = parseDuration(e.ShutdownTimeout); err != nil {
		p.add("SHUTDOWN_TIMEOUT", "%v", err)
	}
	if strings.TrimSpace(e.QueueTimeout) == "0" || strings.TrimSpace(e.QueueTimeout) == "0s" {
		c.QueueTimeout = 0 // answer 429 at once rather than queue
	} else if c.QueueTimeout, err = parseDuration(e.QueueTimeout); err != nil {
		p.add("QUEUE_TIMEOUT", "%v", err)
	}
	switch rl := strings.TrimSpace(e.RateLimits); strings.ToLower(rl) {
	case "":
		c.RateLimits = DefaultRateLimits
	case "off":
	default:
		if c.RateLimits, err = ParseRateLimits(rl); err != nil {
			p.add("RATE_LIMITS", "%v", err)
		}
	}

	// A secret pasted into the wrong variable must not be printed, even
	// when the credential itself was refused.
	for _, secret := range []string{c.Credential.Secret.Reveal(), strings.TrimSpace(e.ClientSecret)} {
		if secret == "" {
			continue
		}
		for i := range p {
			p[i] = strings.ReplaceAll(p[i], secret, "[redacted]")
		}
	}
	// Checked whatever the credential, so a typo is never silently kept.
	if _, err := parseBool(orDefault(os.Getenv(Prefix+"_CLIENT_CERTIFICATE_SEND_X5C"), "false")); err != nil && c.Credential.Kind != ClientCertificate {
		p.add("CLIENT_CERTIFICATE_SEND_X5C", "%v", err)
	}
	return c, p
}

// tenants fills c.Tenants and c.DefaultTenant.
func (e env) tenants(c *Config, p *problems) {
	var all []Tenant
	bad := false
	if e.Tenants != "" {
		list, err := ParseTenantList(e.Tenants)
		if err != nil {
			p.add("TENANTS", "%v", err)
			bad = true
		}
		all = append(all, list...)
		c.StaticTenants = list
	}
	if e.TenantsFile != "" {
		c.TenantsFile = e.TenantsFile
		data, err := readFile(e.TenantsFile)
		var list []Tenant
		if err == nil {
			list, err = parseTenantLines(e.TenantsFile, data)
		} else {
			err = fmt.Errorf("reading tenants file: %w", err)
		}
		if err != nil {
			p.add("TENANTS_FILE", "%v", err)
			bad = true
		}
		c.TenantsFileContent = data
		all = append(all, list...)
	}
	if bad {
		return
	}
	if len(all) == 0 {
		p.add("TENANTS", "no tenant is configured: set XDRPROXY_TENANTS to a comma list of GUID or alias=GUID (or XDRPROXY_TENANTS_FILE)")
		return
	}
	set, err := NewTenantSet(all)
	if err != nil {
		p.add("TENANTS", "%v", err)
		return
	}
	c.Tenants = set
	if name := strings.TrimSpace(e.DefaultTenant); name != "" {
		t, ok := set.Lookup(name)
		if !ok {
			p.add("DEFAULT_TENANT", "%q is not one of the configured tenants (XDRPROXY_TENANTS)", name)
			return
		}
		c.DefaultTenant = t
	}
}

// ReadTenantsFile reads a tenants file: one `GUID` or `alias=GUID` a line,
// `#` starting a comment.
func ReadTenantsFile(path string) ([]Tenant, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tenants file: %w", err)
	}
	return parseTenantLines(path, data)
}

func parseTenantLines(path string, data []byte) ([]Tenant, error) {
	var tenants []Tenant
	var bad []string
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		t, err := ParseTenant(line)
		if err != nil {
			bad = append(bad, fmt.Sprintf("line %d: %v", i+1, err))
			continue
		}
		tenants = append(tenants, t)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: %s", path, strings.Join(bad, "; "))
	}
	return tenants, nil
}

// sameHost reports whether two URLs name the same host, ignoring case and
// a trailing slash.
func sameHost(a, b string) bool {
	ua, err1 := url.Parse(strings.TrimSpace(a))
	ub, err2 := url.Parse(strings.TrimSpace(b))
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Host, ub.Host)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want true or false)", s)
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (such as 30s or 2m)", s)
	}
	return d, nil
}

func parseAuthorityHost(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(s), "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s is not a URL such as https://login.microsoftonline.com", shownURL(s))
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("%s must use https (Entra ID and MSAL accept no other scheme)", shownURL(s))
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%s must be a scheme and host only, with no path or query", shownURL(s))
	}
	return u, nil
}

func parseUpstreamURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s is not a URL such as https://api.security.microsoft.com", shownURL(s))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%s must not carry a query, fragment or user info", shownURL(s))
	}
	switch u.Scheme {
	case "https":
	case "http":
		// Tokens must never cross a network in clear text.
		if !isLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("%s would send bearer tokens in clear text; use https (http is accepted for loopback only)", shownURL(s))
		}
	default:
		return nil, fmt.Errorf("%s must use https", shownURL(s))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (such as 127.0.0.1:8080)", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%q has no valid port", addr)
	}
	if host != "" && host != "localhost" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%q: the host must be an IP address or localhost", addr)
		}
	}
	return nil
}

// IsLoopbackAddr reports whether the listener address host:port can only
// be reached from this machine.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// legacy fills the settings for legacy tools: inbound TLS, tenant
// listeners and token emulation.
func (e env) legacy(c *Config, p *problems) {
	c.TLSCertFile, c.TLSKeyFile = strings.TrimSpace(e.TLSCertFile), strings.TrimSpace(e.TLSKeyFile)
	switch {
	case c.TLSCertFile == "" && c.TLSKeyFile != "":
		p.add("TLS_CERT_FILE", "is required with XDRPROXY_TLS_KEY_FILE (the certificate that goes with the key)")
	case c.TLSCertFile != "" && c.TLSKeyFile == "":
		p.add("TLS_KEY_FILE", "is required with XDRPROXY_TLS_CERT_FILE (the certificate's private key)")
	case c.TLSCertFile != "":
		if _, err := CheckTLSFiles(c.TLSCertFile, c.TLSKeyFile); err != nil {
			*p = append(*p, err.Error()) // names its variable
		}
	}
	if c.TLSClientCAFile = strings.TrimSpace(e.TLSClientCAFile); c.TLSClientCAFile != "" {
		data, err := readFile(c.TLSClientCAFile)
		if err == nil { // the value is a path: name it
			if _, err = ParseClientCAs(data); err != nil {
				err = fmt.Errorf("%s: %w", c.TLSClientCAFile, err)
			}
		}
		if err != nil {
			p.add("TLS_CLIENT_CA_FILE", "%v", err)
		} else if c.TLSCertFile == "" {
			p.add("TLS_CLIENT_CA_FILE", "needs XDRPROXY_TLS_CERT_FILE and XDRPROXY_TLS_KEY_FILE: client certificates are asked for in the TLS handshake")
		}
	}

	if s := strings.TrimSpace(e.TenantListeners); s != "" {
		list, err := ParseTenantListeners(s, c.Tenants, c.ListenAddr, c.AdminAddr)
		if err != nil {
			p.add("TENANT_LISTENERS", "%v", err)
		}
		for _, l := range list {
			if !c.AllowUnauthenticated && c.ClientKeysFile == "" && !IsLoopbackAddr(l.Addr) {
				p.add("TENANT_LISTENERS", "%q is reachable from other machines and no client keys are configured (XDRPROXY_CLIENT_KEYS_FILE); set it, listen on 127.0.0.1, or set XDRPROXY_ALLOW_UNAUTHENTICATED=true if a network policy already restricts who can connect", l.Addr)
			}
		}
		if err == nil {
			c.TenantListeners = list
		}
	}

	var err error
	if c.TokenEmulation, err = parseBool(e.TokenEmulation); err != nil {
		p.add("TOKEN_EMULATION", "%v", err)
	}
	if c.PlaceholderKeyFile = strings.TrimSpace(e.PlaceholderKeyFile); c.PlaceholderKeyFile != "" {
		data, err := readFile(c.PlaceholderKeyFile)
		if err == nil { // the value is a path: name it
			if c.PlaceholderKey, err = ParsePlaceholderKey(data); err != nil {
				err = fmt.Errorf("%s: %w", c.PlaceholderKeyFile, err)
			}
		}
		switch {
		case err != nil:
			p.add("PLACEHOLDER_KEY_FILE", "%v", err)
		case !c.TokenEmulation:
			p.add("PLACEHOLDER_KEY_FILE", "signs placeholder tokens, which only XDRPROXY_TOKEN_EMULATION=true issues; set that or unset this")
		}
	}
}
