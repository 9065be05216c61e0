package proxy

import (
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// tokenMetrics exports xdrproxy_token_acquisitions_total{tenant, result}
// and xdrproxy_token_expiry_timestamp_seconds{tenant, scope} from a
// compact table, building the series only when /metrics is scraped. Both
// metrics have a series per tenant, which the per-tenant alerts need; as
// a CounterVec and a GaugeVec each series costs about 600 bytes held for
// good (10,000 tenants: 12 MB), the table under 200 bytes a tenant.
type tokenMetrics struct {
	acquired, expiry *prometheus.Desc

	mu      sync.Mutex
	tenants map[string]tenantTokens // by tenant label
}

// tenantTokens is one tenant's token metrics: a count per result seen and
// the last expiry per scope, in the order first seen. The strings are
// shared with the configuration and the result classes.
type tenantTokens struct {
	results []resultCount
	expiry  []scopeExpiry
}

type resultCount struct {
	result string
	n      float64
}

type scopeExpiry struct {
	scope string
	unix  float64
}

// tokenSample is one series of a scrape: a result's count, or a scope's
// expiry.
type tokenSample struct {
	tenant, label string // label is the result, or the scope of an expiry
	value         float64
	expiry        bool
}

func newTokenMetrics() *tokenMetrics {
	return &tokenMetrics{
		acquired: prometheus.NewDesc("xdrproxy_token_acquisitions_total",
			"Token acquisitions from Entra ID, by tenant and result (success or the failure class).", []string{"tenant", "result"}, nil),
		expiry: prometheus.NewDesc("xdrproxy_token_expiry_timestamp_seconds",
			"Expiry of the token held, as a Unix time, by tenant and scope.", []string{"tenant", "scope"}, nil),
		tenants: map[string]tenantTokens{},
	}
}

// observe counts an acquisition of tenant's token for scope with result;
// a success (expires not zero) also records the new expiry, which stays
// after later failures so that an expired token keeps its alert firing.
func (m *tokenMetrics) observe(tenant, scope, result string, expires time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenants[tenant]
	defer func() { m.tenants[tenant] = t }()
	if i := slices.IndexFunc(t.results, func(r resultCount) bool { return r.result == result }); i >= 0 {
		t.results[i].n++
	} else {
		t.results = append(t.results, resultCount{result: result, n: 1})
	}
	if expires.IsZero() {
		return
	}
	unix := float64(expires.Unix())
	if i := slices.IndexFunc(t.expiry, func(e scopeExpiry) bool { return e.scope == scope }); i >= 0 {
		t.expiry[i].unix = unix
	} else {
		t.expiry = append(t.expiry, scopeExpiry{scope: scope, unix: unix})
	}
}

// forget drops every series of tenant.
func (m *tokenMetrics) forget(tenant string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tenants, tenant)
}

// Describe sends the two metrics' descriptions.
func (m *tokenMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.acquired
	ch <- m.expiry
}

// Collect sends a series per tenant and result, and per tenant and
// scope. The table is copied under the lock and the series built outside
// it, so an acquisition never waits for a scrape.
func (m *tokenMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, s := range m.snapshot() {
		if s.expiry {
			ch <- prometheus.MustNewConstMetric(m.expiry, prometheus.GaugeValue, s.value, s.tenant, s.label)
		} else {
			ch <- prometheus.MustNewConstMetric(m.acquired, prometheus.CounterValue, s.value, s.tenant, s.label)
		}
	}
}

// snapshot copies the table.
func (m *tokenMetrics) snapshot() []tokenSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]tokenSample, 0, 2*len(m.tenants))
	for tenant, t := range m.tenants {
		for _, r := range t.results {
			out = append(out, tokenSample{tenant: tenant, label: r.result, value: r.n})
		}
		for _, e := range t.expiry {
			out = append(out, tokenSample{tenant: tenant, label: e.scope, value: e.unix, expiry: true})
		}
	}
	return out
}

var _ prometheus.Collector = (*tokenMetrics)(nil)
