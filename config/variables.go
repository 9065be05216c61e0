package config

import "strconv"

// Variable is one XDRPROXY_ variable: its name, default and one-line
// meaning, as `xdrproxy help serve` lists it.
type Variable struct {
	// Name is the full name, such as XDRPROXY_LISTEN_ADDR.
	Name string
	// Group is the heading the help lists it under.
	Group string
	// Default is the value used when the variable is unset or empty, as
	// Load applies it; empty means none, or one that Meaning describes
	// (the cloud's, an AZURE_* fallback).
	Default string
	// Meaning says what it sets, in one line.
	Meaning string
}

// DefaultMaxConnections is XDRPROXY_MAX_CONNECTIONS's default.
const DefaultMaxConnections = 10000

// DefaultMetricsTenantLabels is XDRPROXY_METRICS_TENANT_LABELS's default.
const DefaultMetricsTenantLabels = 1000

// Known lists every XDRPROXY_ variable xdrproxy reads, grouped, in the
// order the help shows them. Variables, the defaults Load applies and the
// check for unknown variables all come from it.
var Known = withPrefix([]Variable{
	{Group: appGroup, Name: "CLIENT_ID", Meaning: "the multi-tenant application's client ID (else AZURE_CLIENT_ID)"},
	{Group: appGroup, Name: "CLIENT_SECRET", Meaning: "the client secret, at least 16 characters"},
	{Group: appGroup, Name: "CLIENT_SECRET_FILE", Meaning: "a file holding the client secret, re-read when it changes"},
	{Group: appGroup, Name: "CLIENT_CERTIFICATE_FILE", Meaning: "PEM certificate and unencrypted RSA key, re-read when it changes"},
	{Group: appGroup, Name: "CLIENT_CERTIFICATE_SEND_X5C", Default: "false", Meaning: "send the certificate chain (subject name/issuer authentication)"},
	{Group: appGroup, Name: "FEDERATED_TOKEN_FILE", Meaning: "client assertion file of workload identity (else AZURE_FEDERATED_TOKEN_FILE)"},
	{Group: appGroup, Name: "REQUIRED_ROLES", Meaning: "comma list of app roles each tenant's token must carry (check, /readyz?tenant=T)"},

	{Group: cloudGroup, Name: "CLOUD", Default: "public", Meaning: "public, usgov, usgovhigh or dod: the default authority host, upstream and scope"},
	{Group: cloudGroup, Name: "AUTHORITY_HOST", Meaning: "Entra ID's https host (else AZURE_AUTHORITY_HOST, else the cloud's)"},
	{Group: cloudGroup, Name: "INSTANCE_DISCOVERY", Default: "true", Meaning: "false for authority hosts that are not Microsoft's (the simulator)"},
	{Group: cloudGroup, Name: "UPSTREAM_URL", Meaning: "where requests go (else the cloud's Defender XDR API)"},
	{Group: cloudGroup, Name: "SCOPE", Meaning: "scope of the tokens (else the cloud's Defender XDR scope)"},
	{Group: cloudGroup, Name: "ROUTES", Meaning: "more upstreams by path prefix: PREFIX=URL or PREFIX=URL|SCOPE, comma-separated"},

	{Group: tenantGroup, Name: "TENANTS", Meaning: "comma list of GUID or alias=GUID (this or TENANTS_FILE is required)"},
	{Group: tenantGroup, Name: "TENANTS_FILE", Meaning: "tenants one a line (GUID or alias=GUID, # comments), re-read when it changes"},
	{Group: tenantGroup, Name: "DEFAULT_TENANT", Meaning: "tenant (GUID or alias) of requests that name none"},

	{Group: listenGroup, Name: "LISTEN_ADDR", Default: "127.0.0.1:8080", Meaning: "the proxy listener's host:port"},
	{Group: listenGroup, Name: "ADMIN_ADDR", Default: "127.0.0.1:9090", Meaning: "/healthz, /readyz, /metrics, /tenants"},
	{Group: listenGroup, Name: "TENANT_LISTENERS", Meaning: "more listeners pinned to one tenant each: comma list of ADDR=TENANT"},
	{Group: listenGroup, Name: "PUBLIC_URL", Meaning: "origin clients reach the proxy at, behind a TLS-terminating front"},
	{Group: listenGroup, Name: "TLS_CERT_FILE", Meaning: "PEM certificate chain: serve the proxy listeners over TLS"},
	{Group: listenGroup, Name: "TLS_KEY_FILE", Meaning: "the unencrypted PEM key of TLS_CERT_FILE"},
	{Group: listenGroup, Name: "TLS_CLIENT_CA_FILE", Meaning: "CAs of the client certificates required (mutual TLS)"},
	{Group: listenGroup, Name: "MAX_CONNECTIONS", Default: strconv.Itoa(DefaultMaxConnections), Meaning: "open client connections per proxy listener (0: no cap)"},

	{Group: accessGroup, Name: "CLIENT_KEYS_FILE", Meaning: "client keys (SHA-256 lines with their tenants), re-read when it changes"},
	{Group: accessGroup, Name: "ALLOW_UNAUTHENTICATED", Default: "false", Meaning: "permit a listener other machines can reach without client keys"},
	{Group: accessGroup, Name: "ADMIN_KEYS_FILE", Meaning: "SHA-256 of admin keys, one a line, for /, /tenants, retry and pprof"},
	{Group: accessGroup, Name: "PPROF", Default: "false", Meaning: "serve /debug/pprof/ on the admin listener"},

	{Group: limitGroup, Name: "RATE_LIMITS", Meaning: "per-tenant limits, PREFIX=N/s|N/m|N/h comma list, or off (else Microsoft's)"},
	{Group: limitGroup, Name: "QUEUE_TIMEOUT", Default: "30s", Meaning: "longest a request waits for its tenant's limit (0: refuse at once)"},
	{Group: limitGroup, Name: "UPSTREAM_TIMEOUT", Default: "210s", Meaning: "longest wait for the upstream's response headers"},
	{Group: limitGroup, Name: "BODY_IDLE_TIMEOUT", Default: "60s", Meaning: "longest a request body may make no progress"},
	{Group: limitGroup, Name: "SHUTDOWN_TIMEOUT", Default: "25s", Meaning: "how long in-flight requests may finish on SIGTERM"},

	{Group: legacyGroup, Name: "TOKEN_EMULATION", Default: "false", Meaning: "answer Entra ID token requests with placeholder tokens"},
	{Group: legacyGroup, Name: "PLACEHOLDER_KEY_FILE", Meaning: "PEM private key that signs placeholders (else one made at start)"},

	{Group: fleetGroup, Name: "REDIS_URL", Meaning: "redis:// or rediss:// URL of the Redis the replicas share"},
	{Group: fleetGroup, Name: "REDIS_PASSWORD_FILE", Meaning: "a file holding Redis's password"},
	{Group: fleetGroup, Name: "REDIS_KEY_PREFIX", Default: "xdrproxy:", Meaning: "prefix of every Redis key"},
	{Group: fleetGroup, Name: "TOKEN_ENCRYPTION_KEY_FILE", Meaning: "32-byte base64 keys, one a line, sealing tokens put in Redis"},

	{Group: logGroup, Name: "LOG_LEVEL", Default: "info", Meaning: "debug, info, warn or error"},
	{Group: logGroup, Name: "LOG_FORMAT", Default: "json", Meaning: "json or console"},

	{Group: metricGroup, Name: "METRICS_TENANT_LABELS", Default: strconv.Itoa(DefaultMetricsTenantLabels), Meaning: "tenants with their own label on xdrproxy_requests_total, first by name"},
})

// The groups of Known, in the help's words.
const (
	appGroup    = "Application and credential"
	cloudGroup  = "Cloud and upstream"
	tenantGroup = "Tenants"
	listenGroup = "Listeners"
	accessGroup = "Who may use it"
	limitGroup  = "Limits and timeouts"
	legacyGroup = "Legacy tools"
	fleetGroup  = "Replicas sharing state"
	logGroup    = "Logging"
	metricGroup = "Metrics"
)

// withPrefix puts Prefix before each name of vars.
func withPrefix(vars []Variable) []Variable {
	for i := range vars {
		vars[i].Name = Prefix + "_" + vars[i].Name
	}
	return vars
}

// Variables lists the name of every XDRPROXY_ variable xdrproxy reads,
// in Known's order.
var Variables = func() []string {
	names := make([]string, len(Known))
	for i, v := range Known {
		names[i] = v.Name
	}
	return names
}()

// LookupVariable returns the Variable named name (in full), and whether
// there is one.
func LookupVariable(name string) (Variable, bool) {
	for _, v := range Known {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}
