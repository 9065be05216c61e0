package admin

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// Readiness is the process's start-up and shutdown state, as /readyz
// reports it: not ready until the start-up warm-up has tried every
// tenant, and not ready again once shutdown began. Its zero value is
// warming up. It is safe for concurrent use.
type Readiness struct {
	warm, draining atomic.Bool
}

// MarkWarm records that the start-up warm-up has tried every tenant.
func (r *Readiness) MarkWarm() { r.warm.Store(true) }

// MarkDraining records that shutdown began.
func (r *Readiness) MarkDraining() { r.draining.Store(true) }

// Draining reports whether shutdown began.
func (r *Readiness) Draining() bool { return r.draining.Load() }

// readyz is the pod's readiness: 503 while warming up, while draining,
// and while no tenant at all can be served (every tenant's every token
// failed: the proxy's own credential is refused, or Entra ID cannot be
// reached). One customer's missing consent or roles never makes it 503:
// that would take every other customer out of service with it.
// /readyz?tenant=T is the strict form for one tenant, for monitoring it.
//
// On a listener that asks for admin keys, /readyz stays open to probes,
// but only a request with an admin key is told why: the reasons name
// tenants, Entra ID's answers and consent links, which /tenants guards.
// Without one, the status alone answers, and a tenant not served is "not
// ready" like one that fails, so the answers list no tenant.
func (e *endpoints) readyz(w http.ResponseWriter, r *http.Request) {
	detailed := !e.RequireKeys || authorize(e.Keys, r) == nil
	if r.URL.Query().Has("tenant") && !e.Readiness.Draining() {
		e.readyTenant(w, r.URL.Query().Get("tenant"), detailed)
		return
	}
	if why := e.notReady(); why != "" {
		http.Error(w, reason(why, detailed), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// reason is why, or "not ready" when the caller may not be told why.
func reason(why string, detailed bool) string {
	if !detailed {
		return "not ready (send an admin key to be told why)"
	}
	return why
}

// notReady says why the pod is not ready, as /readyz answers it, or
// returns "" when it is.
func (e *endpoints) notReady() string {
	switch {
	case e.Readiness.Draining():
		return "draining"
	case !e.Readiness.warm.Load():
		return "warming up: acquiring tenant tokens"
	}
	return e.noTenantServed()
}

// noTenantServed explains why no tenant can be served, or returns "" when
// one can (or might: a tenant not yet tried counts as servable).
func (e *endpoints) noTenantServed() string {
	tenants := e.Tenants.Tenants().All()
	var lastErr error
	for _, t := range tenants {
		for _, scope := range e.Config.Scopes() {
			st, ok := e.Tokens.Status(tokencache.Key{TenantID: t.ID, Scope: scope})
			if !ok || st.HasToken || st.LastError == nil {
				return ""
			}
			lastErr = st.LastError
		}
	}
	if lastErr == nil {
		return "" // no tenant configured: nothing has failed
	}
	return fmt.Sprintf("no tenant can be served: every token acquisition of all %d tenants failed; the last one%s",
		len(tenants), tokencache.Diagnose(lastErr, nil).Explain())
}

// readyTenant answers /readyz?tenant=name: 200 while the tenant holds a
// token for every API the proxy serves, carrying XDRPROXY_REQUIRED_ROLES
// when set; 503 saying what is missing; 404 for a tenant not served.
func (e *endpoints) readyTenant(w http.ResponseWriter, name string, detailed bool) {
	t, ok := e.Tenants.Tenants().Lookup(name)
	switch {
	case !ok && !detailed:
		http.Error(w, reason("", false), http.StatusServiceUnavailable)
	case !ok:
		http.Error(w, e.notServed(name), http.StatusNotFound)
	default:
		if missing := e.tenantProblems(t); len(missing) > 0 {
			http.Error(w, reason(t.Name()+" is not ready: "+strings.Join(missing, "; "), detailed), http.StatusServiceUnavailable)
			return
		}
		if detailed {
			fmt.Fprint(w, t.Name()+" ")
		}
		fmt.Fprintln(w, "ready")
	}
}

// tenantProblems lists what keeps t from being served on every API: a
// scope without a token (with why), a role of XDRPROXY_REQUIRED_ROLES
// that none of its tokens carries.
func (e *endpoints) tenantProblems(t config.Tenant) []string {
	var problems, roles []string
	for _, scope := range e.Config.Scopes() {
		st, ok := e.Tokens.Status(tokencache.Key{TenantID: t.ID, Scope: scope})
		switch {
		case ok && st.HasToken:
			roles = append(roles, st.Roles...)
		case ok && st.LastError != nil:
			problems = append(problems, "no token for "+scope+tokencache.Diagnose(st.LastError, e.consentLinks()).Explain())
		default:
			problems = append(problems, "no token for "+scope+" yet")
		}
	}
	for _, want := range tokencache.MissingRoles(roles, e.Config.RequiredRoles) {
		problems = append(problems, "no token carries the role "+want+" (XDRPROXY_REQUIRED_ROLES)")
	}
	return problems
}

// notServed says that the tenant named name is not served, and where the
// tenants are configured.
func (e *endpoints) notServed(name string) string {
	return fmt.Sprintf("tenant %q is not served (not in %s)", name, e.Config.TenantsSource())
}

// consentLinks makes the admin-consent link of a tenant.
func (e *endpoints) consentLinks() func(string) string {
	return tokencache.ConsentLinks(e.Config.AuthorityHost, e.Config.ClientID)
}
