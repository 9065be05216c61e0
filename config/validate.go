package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.uber.org/zap/zapcore"
)

// problems gathers validation errors, one per variable.
type problems []string

// add records a problem with the variable named without its prefix.
func (p *problems) add(variable, format string, args ...any) {
	p.addVar(Prefix+"_"+variable, format, args...)
}

// addVar records a problem with the variable named in full.
func (p *problems) addVar(variable, format string, args ...any) {
	*p = append(*p, variable+": "+fmt.Sprintf(format, args...))
}

// addErr records an error whose text already starts with the variables
// it is about.
func (p *problems) addErr(err error) {
	*p = append(*p, err.Error())
}

// err returns every problem in one error, a line each; nil when there
// is none.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.New("invalid configuration:\n  " + strings.Join(p, "\n  "))
}

// validate returns the Config, or the error that lists every problem:
// the environment's unknown XDRPROXY_ variables, then each bad value.
func (e env) validate() (*Config, error) {
	c, p := e.check()
	if err := append(unknownProblems(), p...).err(); err != nil {
		return nil, err
	}
	return c, nil
}

// check parses every variable into a Config and lists every problem, in
// the order of the steps below. A step may use what earlier steps filled
// in (the cloud's defaults, the tenants, the listen address).
func (e env) check() (*Config, problems) {
	var p problems
	c := &Config{}
	e.cloud(c, &p)
	e.listenAddrs(c, &p)
	e.application(c, &p)
	e.authority(c, &p)
	e.tenants(c, &p)
	e.upstream(c, &p)
	e.routes(c, &p)
	e.switches(c, &p)
	e.clientKeys(c, &p)
	c.checkListenerExposure(&p) // needs the switches and client keys
	e.adminKeys(c, &p)
	c.checkAdminExposure(&p) // needs the switches and admin keys
	e.inboundTLS(c, &p)
	e.tenantListeners(c, &p) // needs the tenants, addresses and keys
	e.tokenEmulation(c, &p)
	e.publicURL(c, &p)
	e.logging(c, &p)
	e.timeouts(c, &p)
	e.maxConnections(c, &p)
	e.metricsTenantLabels(c, &p)
	e.rateLimits(c, &p)
	e.fleet(c, &p)
	e.redactSecrets(c, p) // once every value that might be quoted is
	checkSendX5C(c, &p)
	return c, p
}

// cloud fills c.Cloud from XDRPROXY_CLOUD; an unknown cloud is reported
// and the public cloud's defaults apply to the other steps.
func (e env) cloud(c *Config, p *problems) {
	cloud, ok := Clouds[strings.ToLower(strings.TrimSpace(e.Cloud))]
	if !ok {
		p.add("CLOUD", "%q is not a known cloud (want public, usgov, usgovhigh or dod)", e.Cloud)
		cloud = Clouds["public"]
	}
	c.Cloud = cloud
}

// listenAddrs fills the proxy's and the admin listener's addresses.
func (e env) listenAddrs(c *Config, p *problems) {
	c.ListenAddr = e.ListenAddr
	if err := checkListenAddr(e.ListenAddr); err != nil {
		p.add("LISTEN_ADDR", "%v", err)
	}
	c.AdminAddr = e.AdminAddr
	if err := checkListenAddr(e.AdminAddr); err != nil {
		p.add("ADMIN_ADDR", "%v", err)
	}
}

// application fills what describes the application: its client ID, its
// one credential, and the roles its tokens must carry.
func (e env) application(c *Config, p *problems) {
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
		p.addErr(err) // names every variable involved
	}
	c.Credential = cred
	c.RequiredRoles = commaList(e.RequiredRoles)
}

// authority fills Entra ID's authority host, the cloud's unless set, and
// whether MSAL runs instance discovery.
func (e env) authority(c *Config, p *problems) {
	authority := e.AuthorityHost
	if authority == "" {
		authority = c.Cloud.AuthorityHost
	} else if e.authorityVar == "AZURE_AUTHORITY_HOST" && strings.TrimSpace(os.Getenv(Prefix+"_CLOUD")) != "" &&
		!sameHost(authority, c.Cloud.AuthorityHost) {
		// The workload-identity webhook sets AZURE_AUTHORITY_HOST in every
		// labelled pod; it must not quietly move a sovereign-cloud proxy
		// to another cloud's login host.
		p.add("CLOUD", "%s selects %s, but AZURE_AUTHORITY_HOST is %s; set XDRPROXY_AUTHORITY_HOST to say which is meant", c.Cloud.Name, c.Cloud.AuthorityHost, authority)
	}
	if u, err := parseAuthorityHost(authority); err != nil {
		p.addVar(e.authorityVar, "%v", err)
	} else {
		c.AuthorityHost = u
	}
	var err error
	if c.InstanceDiscovery, err = parseBool(e.InstanceDiscovery); err != nil {
		p.add("INSTANCE_DISCOVERY", "%v", err)
	}
}

// upstream fills the default upstream and its scope, the cloud's unless
// set.
func (e env) upstream(c *Config, p *problems) {
	upstream := e.UpstreamURL
	if upstream == "" {
		upstream = c.Cloud.UpstreamURL
	}
	if u, err := parseUpstreamURL(upstream); err != nil {
		p.add("UPSTREAM_URL", "%v", err)
	} else {
		c.UpstreamURL = u
	}
	c.Scope = strings.TrimSpace(e.Scope)
	if c.Scope == "" {
		c.Scope = c.Cloud.Scope
	} else if strings.ContainsAny(c.Scope, " \t,") {
		p.add("SCOPE", "%q must be one scope, such as https://api.security.microsoft.com/.default", c.Scope)
	}
}

// routes fills the routes to other upstreams; none when unset.
func (e env) routes(c *Config, p *problems) {
	if strings.TrimSpace(e.Routes) == "" {
		return
	}
	var err error
	if c.Routes, err = ParseRoutes(e.Routes); err != nil {
		p.add("ROUTES", "%v", err)
	}
}

// switches fills the on/off settings of the admin listener and of client
// authentication.
func (e env) switches(c *Config, p *problems) {
	var err error
	if c.Pprof, err = parseBool(e.Pprof); err != nil {
		p.add("PPROF", "%v", err)
	}
	if c.AllowUnauthenticated, err = parseBool(e.AllowUnauthenticated); err != nil {
		p.add("ALLOW_UNAUTHENTICATED", "%v", err)
	}
}

// clientKeys reads the client keys file, which must list a key.
func (e env) clientKeys(c *Config, p *problems) {
	path := strings.TrimSpace(e.ClientKeysFile)
	if path == "" {
		return
	}
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

// adminKeys reads the admin keys file, which must list a key.
func (e env) adminKeys(c *Config, p *problems) {
	path := strings.TrimSpace(e.AdminKeysFile)
	if path == "" {
		return
	}
	c.AdminKeysFile = path
	data, err := readFile(path)
	if err == nil {
		c.AdminKeys, err = ParseAdminKeys(path, data)
	}
	if err == nil && c.AdminKeys.Len() == 0 {
		err = fmt.Errorf("%s lists no key: every request for /tenants would be refused", path)
	}
	if err != nil {
		p.add("ADMIN_KEYS_FILE", "%v", err)
	}
	c.AdminKeysFileContent = data
}

// AdminKeysMissing reports whether the admin listener can be reached
// from other machines and no admin keys are configured: /tenants and
// /debug/pprof/ then answer 403 to everyone, which start-up warns about.
func (c *Config) AdminKeysMissing() bool {
	return c.AdminKeysFile == "" && !IsLoopbackAddr(c.AdminAddr)
}

// checkAdminExposure refuses XDRPROXY_PPROF=true on an admin listener
// that other machines can reach without admin keys: profiling was asked
// for, and it could never be served. An admin address already reported
// as bad is not reported again.
func (c *Config) checkAdminExposure(p *problems) {
	if c.Pprof && checkListenAddr(c.AdminAddr) == nil && c.AdminKeysMissing() {
		p.add("PPROF", "is true, but the admin listener %q is reachable from other machines and no admin keys are configured: set XDRPROXY_ADMIN_KEYS_FILE (pprof then needs Authorization: Bearer <admin key>) or put XDRPROXY_ADMIN_ADDR on 127.0.0.1", c.AdminAddr)
	}
}

// openToAnyone reports whether a proxy listener on addr would act for
// other machines without authenticating them: it is not on loopback, no
// client keys are configured, and XDRPROXY_ALLOW_UNAUTHENTICATED does not
// say that a network policy restricts who can connect.
func (c *Config) openToAnyone(addr string) bool {
	return !c.AllowUnauthenticated && c.ClientKeysFile == "" && !IsLoopbackAddr(addr)
}

// checkListenerExposure refuses a proxy listener that is open to anyone.
// A listen address already reported as bad is not reported again.
func (c *Config) checkListenerExposure(p *problems) {
	if checkListenAddr(c.ListenAddr) == nil && c.openToAnyone(c.ListenAddr) {
		p.add("LISTEN_ADDR", "%q is reachable from other machines and no client keys are configured (XDRPROXY_CLIENT_KEYS_FILE); anyone who can reach it would act with your application's access to every tenant. Set XDRPROXY_CLIENT_KEYS_FILE, listen on 127.0.0.1, or set XDRPROXY_ALLOW_UNAUTHENTICATED=true if a network policy already restricts who can connect", c.ListenAddr)
	}
}

// logging fills the log level and format.
func (e env) logging(c *Config, p *problems) {
	var err error
	if c.LogLevel, err = zapcore.ParseLevel(strings.TrimSpace(e.LogLevel)); err != nil {
		p.add("LOG_LEVEL", "%q is not a level (want debug, info, warn or error)", e.LogLevel)
	}
	c.LogFormat = strings.ToLower(strings.TrimSpace(e.LogFormat))
	if c.LogFormat != "json" && c.LogFormat != "console" {
		p.add("LOG_FORMAT", "%q is not a format (want json or console)", e.LogFormat)
	}
}

// timeouts fills the upstream, shutdown and queue timeouts.
func (e env) timeouts(c *Config, p *problems) {
	var err error
	if c.UpstreamTimeout, err = parseDuration(e.UpstreamTimeout); err != nil {
		p.add("UPSTREAM_TIMEOUT", "%v", err)
	}
	if c.ShutdownTimeout, err = parseDuration(e.ShutdownTimeout); err != nil {
		p.add("SHUTDOWN_TIMEOUT", "%v", err)
	}
	if c.BodyIdleTimeout, err = parseDuration(e.BodyIdleTimeout); err != nil {
		p.add("BODY_IDLE_TIMEOUT", "%v", err)
	}
	if strings.TrimSpace(e.QueueTimeout) == "0" || strings.TrimSpace(e.QueueTimeout) == "0s" {
		c.QueueTimeout = 0 // answer 429 at once rather than queue
	} else if c.QueueTimeout, err = parseDuration(e.QueueTimeout); err != nil {
		p.add("QUEUE_TIMEOUT", "%v", err)
	}
}

// maxConnections fills the cap on each proxy listener's open
// connections: a whole number, 0 for none.
func (e env) maxConnections(c *Config, p *problems) {
	n, err := strconv.Atoi(strings.TrimSpace(e.MaxConnections))
	if err != nil || n < 0 {
		p.add("MAX_CONNECTIONS", "%q is not a number of connections (want a whole number; 0 for no cap)", e.MaxConnections)
		return
	}
	c.MaxConnections = n
}

// metricsTenantLabels fills how many tenants get a label of their own on
// the request counter: a whole number, 0 for none.
func (e env) metricsTenantLabels(c *Config, p *problems) {
	n, err := strconv.Atoi(strings.TrimSpace(e.MetricsTenantLabels))
	if err != nil || n < 0 {
		p.add("METRICS_TENANT_LABELS", "%q is not a number of tenants (want a whole number; 0 for none)", e.MetricsTenantLabels)
		return
	}
	c.MetricsTenantLabels = n
}

// rateLimits fills the per-tenant limits: Microsoft's published ones
// unless set, none when "off".
func (e env) rateLimits(c *Config, p *problems) {
	switch rl := strings.TrimSpace(e.RateLimits); strings.ToLower(rl) {
	case "":
		c.RateLimits = DefaultRateLimits
	case "off":
	default:
		var err error
		if c.RateLimits, err = ParseRateLimits(rl); err != nil {
			p.add("RATE_LIMITS", "%v", err)
		}
	}
}
