package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/xdrproxy/xdrproxy/config"
)

// TenantHeader is the request header that names the tenant.
const TenantHeader = "X-Tenant-ID"

// tenantPrefix is the path prefix that names the tenant: /tenants/{tenant}/….
const tenantPrefix = "/tenants/"

// target is where a request goes: its tenant and the path to forward.
type target struct {
	tenant  config.Tenant
	path    string // decoded path to forward
	rawPath string // its escaped form when it differs from the default encoding, else ""
}

// resolveTarget finds the request's tenant (header, then path prefix, then
// the default) and the path to forward, with the prefix stripped.
func resolveTarget(r *http.Request, tenants *config.TenantSet, def config.Tenant) (target, *Error) {
	t := target{path: r.URL.Path, rawPath: r.URL.RawPath}
	if !strings.HasPrefix(t.path, "/") {
		return t, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: "the request path must start with /"}
	}
	if hasDotSegment(t.path) {
		return t, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: "the request path must not contain . or .. segments"}
	}

	var fromHeader, fromPath config.Tenant
	var haveHeader, havePath bool

	// An empty header names no tenant, like an absent one.
	if values := r.Header.Values(TenantHeader); len(values) > 0 && !(len(values) == 1 && strings.TrimSpace(values[0]) == "") {
		if len(values) > 1 || strings.Contains(values[0], ",") {
			return t, invalidTenant("the %s header must name one tenant", TenantHeader)
		}
		name := strings.TrimSpace(values[0])
		tenant, err := lookupTenant(name, tenants, TenantHeader+" header")
		if err != nil {
			return t, err
		}
		fromHeader, haveHeader = tenant, true
	}

	if escaped := r.URL.EscapedPath(); strings.HasPrefix(escaped, tenantPrefix) {
		segment, rest, _ := strings.Cut(escaped[len(tenantPrefix):], "/")
		name, err := url.PathUnescape(segment)
		if err != nil || name == "" {
			return t, invalidTenant("the path %s%s/ does not name a tenant", tenantPrefix, segment)
		}
		tenant, perr := lookupTenant(name, tenants, "path")
		if perr != nil {
			return t, perr
		}
		fromPath, havePath = tenant, true
		rest = "/" + rest
		decoded, err := url.PathUnescape(rest)
		if err != nil {
			return t, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: "the request path is not validly escaped"}
		}
		t.path, t.rawPath = decoded, ""
		if decoded != rest && (&url.URL{Path: decoded}).EscapedPath() != rest {
			t.rawPath = rest
		}
	}

	switch {
	case haveHeader && havePath && fromHeader.ID != fromPath.ID:
		return t, invalidTenant("the %s header names tenant %s but the path names tenant %s; name one", TenantHeader, fromHeader.Name(), fromPath.Name())
	case haveHeader:
		t.tenant = fromHeader
	case havePath:
		t.tenant = fromPath
	case def.ID != "":
		t.tenant = def
	default:
		return t, &Error{Status: http.StatusBadRequest, Code: CodeMissingTenant,
			Message: fmt.Sprintf("no tenant named: send the %s header (a tenant GUID or alias), or prefix the path with %s{tenant}/", TenantHeader, tenantPrefix)}
	}
	return t, nil
}

// lookupTenant resolves a GUID or alias against the configured tenants.
func lookupTenant(name string, tenants *config.TenantSet, where string) (config.Tenant, *Error) {
	if t, ok := tenants.Lookup(name); ok {
		return t, nil
	}
	if config.IsGUID(name) {
		return config.Tenant{}, &Error{Status: http.StatusForbidden, Code: CodeTenantNotAllowed,
			Message: fmt.Sprintf("tenant %s (from the %s) is not one this proxy serves; add it to XDRPROXY_TENANTS", strings.ToLower(name), where)}
	}
	if config.IsAlias(name) {
		return config.Tenant{}, invalidTenant("%q (from the %s) is not a configured tenant alias", name, where)
	}
	return config.Tenant{}, invalidTenant("the %s does not name a tenant: want a tenant GUID or a configured alias", where)
}

func invalidTenant(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidTenant, Message: fmt.Sprintf(format, args...)}
}

// hasDotSegment reports whether the slash-separated path has a "." or ".."
// segment, which could otherwise steer a request outside a route.
func hasDotSegment(p string) bool {
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
