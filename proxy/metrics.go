package proxy

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrproxy/xdrproxy/tokencache"
)

// Metrics are the proxy's Prometheus metrics. Tenants are labelled by
// alias where they have one; requests refused before their tenant or
// route was known are labelled "none". Series per tenant: requests_total
// one per (route, status code) seen, for the tenants LabelTenants keeps
// (the others share tenant="(other)"); rate_limited_total and
// upstream_throttled_total one per route, only for tenants that were
// refused or throttled; token_acquisitions_total one per outcome seen;
// token_expiry one per scope. The duration histograms are labelled by
// route only.
type Metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	upstream    *prometheus.HistogramVec
	inflight    prometheus.Gauge
	rateLimited *prometheus.CounterVec
	throttled   *prometheus.CounterVec
	tokens      *tokenMetrics

	// labels are the tenant labels requests_total keeps (see
	// LabelTenants); nil keeps every tenant's. labelMu orders their
	// writers.
	labels  atomic.Pointer[requestLabels]
	labelMu sync.Mutex
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	buckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 210}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xdrproxy_requests_total", Help: "Requests answered, by tenant, route and HTTP status code.",
		}, []string{"tenant", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "xdrproxy_request_duration_seconds", Help: "Time from request to the end of the response, by route.", Buckets: buckets,
		}, []string{"route"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "xdrproxy_upstream_duration_seconds", Help: "Time the upstream took to send response headers, by route.", Buckets: buckets,
		}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "xdrproxy_inflight_requests", Help: "Requests being served now.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xdrproxy_rate_limited_total", Help: "Requests answered 429 RateLimited by the proxy, by tenant and route.",
		}, []string{"tenant", "route"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xdrproxy_upstream_throttled_total", Help: "Upstream 429 answers (Microsoft throttling), passed back to the client, by tenant and route.",
		}, []string{"tenant", "route"}),
		tokens: newTokenMetrics(),
	}
	reg.MustRegister(m.requests, m.duration, m.upstream, m.inflight, m.rateLimited, m.throttled, m.tokens)
	return m
}

// ObserveAcquisition records an acquisition's outcome for tenant (its
// label) and scope.
func (m *Metrics) ObserveAcquisition(tenant, scope string, expires time.Time, err error) {
	if m == nil {
		return
	}
	if err == nil {
		m.tokens.observe(tenant, scope, "success", expires)
		return
	}
	result := string(tokencache.ClassUnknown)
	var ae *tokencache.AcquisitionError
	if errors.As(err, &ae) {
		result = string(ae.Class())
	}
	m.tokens.observe(tenant, scope, result, time.Time{})
}

// ForgetTenant drops every series of a tenant no longer served.
func (m *Metrics) ForgetTenant(tenant string) {
	if m == nil {
		return
	}
	for _, v := range []*prometheus.CounterVec{m.requests, m.rateLimited, m.throttled} {
		v.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
	}
	m.tokens.forget(tenant)
}

func (m *Metrics) request(tenant, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(m.requestTenant(tenant), route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *Metrics) rateLimit(tenant, route string) {
	if m != nil {
		m.rateLimited.WithLabelValues(tenant, route).Inc()
	}
}

func (m *Metrics) upstreamThrottled(tenant, route string) {
	if m != nil {
		m.throttled.WithLabelValues(tenant, route).Inc()
	}
}

func (m *Metrics) upstreamTime(route string, d time.Duration) {
	if m != nil {
		m.upstream.WithLabelValues(route).Observe(d.Seconds())
	}
}

func (m *Metrics) inflightAdd(n float64) {
	if m != nil {
		m.inflight.Add(n)
	}
}
