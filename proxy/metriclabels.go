package proxy

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrproxy/xdrproxy/config"
)

// otherTenants is the tenant label of xdrproxy_requests_total for the
// requests of tenants beyond the cap LabelTenants sets. Parentheses
// cannot appear in an alias or a GUID, so it names no tenant.
const otherTenants = "(other)"

// LabelTenants chooses which of set's tenants keep a tenant label of
// their own on xdrproxy_requests_total: the first limit of them in the
// order of their label (alias, else GUID), the same on every replica
// serving the same tenants. The requests of the others are counted under
// tenant="(other)". A negative limit labels every tenant. The request
// series of a tenant that loses its label are dropped. Until it is first
// called, every tenant has its own label.
//
// xdrproxy_requests_total has a series per tenant, route and status
// code, so its cardinality grows with the tenants times everything else;
// the per-tenant alerts use the token, rate-limit and throttling metrics,
// which keep every tenant's label and hold little per tenant.
func (m *Metrics) LabelTenants(set *config.TenantSet, limit int) {
	if m == nil {
		return
	}
	names := make([]string, 0, set.Len())
	for _, t := range set.All() {
		names = append(names, t.Name())
	}
	slices.Sort(names)
	if limit >= 0 && len(names) > limit {
		names = names[:limit]
	}
	next := &requestLabels{all: len(names) == set.Len(), names: make(map[string]bool, len(names))}
	for _, n := range names {
		next.names[n] = true
	}
	m.labelMu.Lock()
	defer m.labelMu.Unlock()
	old := m.labels.Swap(next)
	if old == nil {
		return
	}
	for n := range old.names {
		if !next.names[n] {
			m.requests.DeletePartialMatch(prometheus.Labels{"tenant": n})
		}
	}
	if next.all {
		m.requests.DeletePartialMatch(prometheus.Labels{"tenant": otherTenants})
	}
}

// requestLabels are the tenants that keep their label on the request
// counter.
type requestLabels struct {
	all   bool // every tenant served: no look-up per request
	names map[string]bool
}

// requestTenant is the tenant label a request of tenant is counted under.
func (m *Metrics) requestTenant(tenant string) string {
	l := m.labels.Load()
	if l == nil || l.all || tenant == "none" || l.names[tenant] {
		return tenant
	}
	return otherTenants
}
