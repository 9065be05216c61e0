package admin

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

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

// readyz is 503 while warming up or draining, and, when
// XDRPROXY_REQUIRED_ROLES is set, until every tenant holds tokens that
// carry those roles (between them, across the APIs).
func (e *endpoints) readyz(w http.ResponseWriter, r *http.Request) {
	switch {
	case e.Readiness.Draining():
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	case !e.Readiness.warm.Load():
		http.Error(w, "warming up: acquiring tenant tokens", http.StatusServiceUnavailable)
		return
	}
	if missing := e.missingRoles(); len(missing) > 0 {
		http.Error(w, "tenants without a token carrying XDRPROXY_REQUIRED_ROLES: "+strings.Join(missing, ", "), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// missingRoles lists, as "tenant: role", each role of
// XDRPROXY_REQUIRED_ROLES that no token of the tenant carries.
func (e *endpoints) missingRoles() []string {
	if len(e.Config.RequiredRoles) == 0 {
		return nil
	}
	var missing []string
	for _, t := range e.Tenants.Tenants().All() {
		var roles []string
		for _, scope := range e.Config.Scopes() {
			if st, ok := e.Tokens.Status(tokencache.Key{TenantID: t.ID, Scope: scope}); ok && st.HasToken {
				roles = append(roles, st.Roles...)
			}
		}
		for _, want := range tokencache.MissingRoles(roles, e.Config.RequiredRoles) {
			missing = append(missing, t.Name()+": "+want)
		}
	}
	return missing
}
