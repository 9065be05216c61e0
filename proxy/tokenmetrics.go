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
// good (10,000 tenants: 12 MB), the table about 100 bytes a tenant.
type tokenMetrics struct {
	acquired, expiry *prometheus.Desc

	mu      sync.Mutex
	tenants map[string]*tenantTokens // by tenant label
}

// tenantTokens is one tenant's token metrics: a count per result seen and
// the last expiry per scope, in the order first seen. The first result
// and scope are held in place; most tenants have no other (one scope,
// every acquisition a success), so more is nil. The strings are shared
// with the configuration and the result classes.
type tenantTokens struct {
	result resultCount // the first result seen; "" before any
	expiry scopeExpiry // the first scope that got a token; "" before any
	more   *moreTokens
}

// moreTokens are a tenant's results and scopes after its first.
type moreTokens struct {
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
		tenants: map[string]*tenantTokens{},
	}
}

// observe counts an acquisition of tenant's token for scope with result;
// a success (expires not zero) also records the new expiry, which stays
// after later failures so that an expired token keeps its alert firing.
func (m *tokenMetrics) observe(tenant, scope, result string, expires time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenants[tenant]
	if t == nil {
		t = &tenantTokens{}
		m.tenants[tenant] = t
	}
	t.count(result)
	if !expires.IsZero() {
		t.expires(scope, float64(expires.Unix()))
	}
}

// count adds one to result's count.
func (t *tenantTokens) count(result string) {
	if t.result.result == "" || t.result.result == result {
		t.result.result = result
		t.result.n++
		return
	}
	if t.more == nil {
		t.more = &moreTokens{}
	}
	if i := slices.IndexFunc(t.more.results, func(r resultCount) bool { return r.result == result }); i >= 0 {
		t.more.results[i].n++
	} else {
		t.more.results = append(t.more.results, resultCount{result: result, n: 1})
	}
}

// expires records scope's new expiry.
func (t *tenantTokens) expires(scope string, unix float64) {
	if t.expiry.scope == "" || t.expiry.scope == scope {
		t.expiry = scopeExpiry{scope: scope, unix: unix}
		return
	}
	if t.more == nil {
		t.more = &moreTokens{}
	}
	if i := slices.IndexFunc(t.more.expiry, func(e scopeExpiry) bool { return e.scope == scope }); i >= 0 {
		t.more.expiry[i].unix = unix
	} else {
		t.more.expiry = append(t.more.expiry, scopeExpiry{scope: scope, unix: unix})
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
		out = t.samples(tenant, out)
	}
	return out
}

// samples appends t's series to out.
func (t *tenantTokens) samples(tenant string, out []tokenSample) []tokenSample {
	if t.result.result != "" {
		out = append(out, tokenSample{tenant: tenant, label: t.result.result, value: t.result.n})
	}
	if t.expiry.scope != "" {
		out = append(out, tokenSample{tenant: tenant, label: t.expiry.scope, value: t.expiry.unix, expiry: true})
	}
	if t.more == nil {
		return out
	}
	for _, r := range t.more.results {
		out = append(out, tokenSample{tenant: tenant, label: r.result, value: r.n})
	}
	for _, e := range t.more.expiry {
		out = append(out, tokenSample{tenant: tenant, label: e.scope, value: e.unix, expiry: true})
	}
	return out
}

var _ prometheus.Collector = (*tokenMetrics)(nil)
