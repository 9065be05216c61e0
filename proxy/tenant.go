package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
)

// TenantHeader is the request header that names the tenant.
const TenantHeader = "X-Tenant-ID"

// tenantPrefix is the path prefix that names the tenant: /tenants/{tenant}/….
const tenantPrefix = "/tenants/"

// target is where a request goes: its tenant and the path to forward.
type target struct {
	tenant config.Tenant
	// req is the request's path after any /tenants/{tenant} prefix: what
	// routes and limits match.
	req requestPath
	// path and rawPath are the path to forward, decoded and as the client
	// spelled it, with a route's prefix replaced (routeTable.pick).
	path, rawPath string
	// tenantPrefix is the /tenants/{tenant} prefix as the client spelled
	// it (escaped), or "" when the path named no tenant.
	tenantPrefix string
	// named are the tenants a request named (header, prefix,
	// placeholder, listener) when they conflict; nil otherwise.
	named []config.Tenant
}

// resolve finds the request's tenant and the path to forward. A key
// limited to some tenants learns nothing about the others: unknown,
// served elsewhere or in conflict all read the same 403.
func resolve(r *http.Request, p requestPath, served *servedConfig, pin string, who caller) (target, error) {
	t, perr := resolveTarget(r, p, served, pin, who.placeholder)
	if who.keyed && !who.key.AllTenants && !limitedKeyMaySee(who.key, t, perr) {
		perr = keyMayNotUseTenant()
	}
	if perr != nil {
		return t, perr
	}
	return t, nil
}

// resolveTarget finds the request's tenant among served's and its path p
// (admitted by parsePath), with any /tenants/{tenant} prefix stripped.
// The tenant is named by the X-Tenant-ID header, the path prefix, the
// placeholder token the request bears (ph, or nil) and the tenant
// listener it arrived on (pin, or ""); when several name one, they must
// agree. With none, the default tenant serves.
func resolveTarget(r *http.Request, p requestPath, served *servedConfig, pin string, ph *placeholder.Claims) (target, *Error) {
	t := target{req: p}
	tenants := served.tenants
	var buf [4]namedBy // on the stack: no allocation per request
	named := buf[:0]
	fromHeader, ok, err := tenantFromHeader(r, served)
	if err != nil {
		return t, err
	}
	if ok {
		named = append(named, namedBy{fromHeader, "the " + TenantHeader + " header names tenant %s"})
	}
	fromPath, ok, err := tenantFromPath(served, &t)
	if err != nil {
		return t, err
	}
	if ok {
		named = append(named, namedBy{fromPath, "the path names tenant %s"})
	}
	if ph != nil {
		fromToken, ok := tenants.Lookup(ph.TenantID)
		if !ok {
			return t, &Error{Status: http.StatusForbidden, Code: CodeTenantNotAllowed,
				Message: fmt.Sprintf("tenant %s of the placeholder token is no longer served by this proxy", ph.TenantID)}
		}
		named = append(named, namedBy{fromToken, "the placeholder token is for tenant %s"})
	}
	if pin != "" {
		pinned, ok := tenants.Lookup(pin)
		if !ok {
			return t, &Error{Status: http.StatusForbidden, Code: CodeTenantNotAllowed,
				Message: fmt.Sprintf("tenant %s of this listener (XDRPROXY_TENANT_LISTENERS) is no longer served by this proxy", pin)}
		}
		named = append(named, namedBy{pinned, "this listener serves tenant %s only"})
	}
	return agree(t, named, served.def, pin != "")
}

// tenantFromHeader reads the X-Tenant-ID header; ok is false when it names
// no tenant (absent or empty).
func tenantFromHeader(r *http.Request, served *servedConfig) (config.Tenant, bool, *Error) {
	values := r.Header.Values(TenantHeader)
	if len(values) == 0 || len(values) == 1 && strings.TrimSpace(values[0]) == "" {
		return config.Tenant{}, false, nil
	}
	if len(values) > 1 || strings.Contains(values[0], ",") {
		return config.Tenant{}, false, invalidTenant("the %s header must name one tenant", TenantHeader)
	}
	tenant, err := lookupTenant(strings.TrimSpace(values[0]), served, TenantHeader+" header")
	return tenant, err == nil, err
}

// tenantFromPath reads a /tenants/{tenant}/ prefix, in any case or
// spelling, and strips it from t's path; ok is false when the path has
// none.
func tenantFromPath(served *servedConfig, t *target) (config.Tenant, bool, *Error) {
	if !strings.HasPrefix(t.req.canon, tenantPrefix) {
		return config.Tenant{}, false, nil
	}
	head, rest := t.req.cut(2)
	segment := head.escaped[strings.LastIndexByte(head.escaped, '/')+1:]
	name, err := url.PathUnescape(segment)
	if err != nil || name == "" {
		return config.Tenant{}, false, invalidTenant("the path %s/ does not name a tenant", head.escaped)
	}
	tenant, perr := lookupTenant(name, served, "path")
	if perr != nil {
		return config.Tenant{}, false, perr
	}
	t.tenantPrefix = head.escaped
	if rest.escaped == "" {
		rest = requestPath{escaped: "/", canon: "/"}
	}
	t.req = rest
	return tenant, true, nil
}

// agree picks the one tenant every namer names, or def when none named
// one. pinned says the request came on a tenant listener, where the
// conflict message cannot ask the client to name one.
func agree(t target, named []namedBy, def config.Tenant, pinned bool) (target, *Error) {
	if len(named) == 0 {
		if def.ID == "" {
			return t, &Error{Status: http.StatusBadRequest, Code: CodeMissingTenant,
				Message: fmt.Sprintf("no tenant named: send the %s header (a tenant GUID or alias), or prefix the path with %s{tenant}/", TenantHeader, tenantPrefix)}
		}
		t.tenant = def
		return t, nil
	}
	for _, other := range named[1:] {
		if other.tenant.ID != named[0].tenant.ID {
			for _, n := range named {
				t.named = append(t.named, n.tenant)
			}
			msg := named[0].say() + " but " + other.say()
			if !pinned {
				msg += "; name one"
			}
			return t, invalidTenant("%s", msg)
		}
	}
	t.tenant = named[0].tenant
	return t, nil
}

// namedBy is a tenant and what named it, for conflict messages.
type namedBy struct {
	tenant config.Tenant
	says   string // with %s for the tenant's name
}

func (n namedBy) say() string { return fmt.Sprintf(n.says, n.tenant.Name()) }

// lookupTenant resolves a GUID or alias against the served tenants. A
// refusal names what the operator edits to serve it, or, for a domain
// name, how the client finds the tenant's GUID.
func lookupTenant(name string, served *servedConfig, where string) (config.Tenant, *Error) {
	if t, ok := served.tenants.Lookup(name); ok {
		return t, nil
	}
	switch {
	case config.IsGUID(name):
		return config.Tenant{}, &Error{Status: http.StatusForbidden, Code: CodeTenantNotAllowed,
			Message: fmt.Sprintf("tenant %s (from the %s) is not one this proxy serves; add it to %s", strings.ToLower(name), where, served.tenantsSource)}
	case looksLikeDomain(name):
		return config.Tenant{}, invalidTenant("%q (from the %s) is a domain name, which the proxy does not resolve: name the tenant by its GUID or by an alias configured in %s. "+
			"The GUID is in the issuer of %s/%s/v2.0/.well-known/openid-configuration",
			name, where, served.tenantsSource, served.authority, strings.ToLower(name))
	case config.IsAlias(name):
		return config.Tenant{}, invalidTenant("%q (from the %s) is not a tenant alias configured in %s", name, where, served.tenantsSource)
	}
	return config.Tenant{}, invalidTenant("the %s does not name a tenant: want a tenant GUID or a configured alias", where)
}

// looksLikeDomain reports whether name looks like a DNS name, such as
// contoso.onmicrosoft.com: dot-separated labels of letters, digits and
// inner hyphens, the last one letters only, as top-level domains are.
func looksLikeDomain(name string) bool {
	labels := strings.Split(name, ".")
	if len(name) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
			strings.IndexFunc(l, func(c rune) bool { return !isASCIILetter(c) && !('0' <= c && c <= '9') && c != '-' }) >= 0 {
			return false
		}
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && strings.IndexFunc(tld, func(c rune) bool { return !isASCIILetter(c) }) < 0
}

func isASCIILetter(c rune) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func invalidTenant(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidTenant, Message: fmt.Sprintf(format, args...)}
}
