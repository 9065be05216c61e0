package proxy

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrproxy/xdrproxy/tokencache"
)

// Metrics are the proxy's Prometheus metrics. Tenants are labelled by
// alias where they have one; requests refused before their tenant or
// route was known are labelled "none". Series per tenant: requests_total
// one per (route, status code) seen, rate_limited_total one per route,
// token_acquisitions_total one per outcome seen, token_expiry one per
// scope. The duration histograms are labelled by route only.
type Metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	upstream    *prometheus.HistogramVec
	inflight    prometheus.Gauge
	rateLimited *prometheus.CounterVec
	acquired    *prometheus.CounterVec
	expiry      *prometheus.GaugeVec
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
		acquired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xdrproxy_token_acquisitions_total", Help: "Token acquisitions from Entra ID, by tenant and result (success or the failure class).",
		}, []string{"tenant", "result"}),
		expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "xdrproxy_token_expiry_timestamp_seconds", Help: "Expiry of the token held, as a Unix time, by tenant and scope.",
		}, []string{"tenant", "scope"}),
	}
	reg.MustRegister(m.requests, m.duration, m.upstream, m.inflight, m.rateLimited, m.acquired, m.expiry)
	return m
}

// ObserveAcquisition records an acquisition's outcome for tenant (its
// label) and scope.
func (m *Metrics) ObserveAcquisition(tenant, scope string, expires time.Time, err error) {
	if m == nil {
		return
	}
	if err == nil {
		m.acquired.WithLabelValues(tenant, "success").Inc()
		m.expiry.WithLabelValues(tenant, scope).Set(float64(expires.Unix()))
		return
	}
	result := string(tokencache.ClassUnknown)
	var ae *tokencache.AcquisitionError
	if errors.As(err, &ae) {
		result = string(ae.Class())
	}
	m.acquired.WithLabelValues(tenant, result).Inc()
}

// ForgetTenant drops every series of a tenant no longer served.
func (m *Metrics) ForgetTenant(tenant string) {
	if m == nil {
		return
	}
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.requests, m.rateLimited, m.acquired, m.expiry} {
		v.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
	}
}

func (m *Metrics) request(tenant, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(tenant, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *Metrics) rateLimit(tenant, route string) {
	if m != nil {
		m.rateLimited.WithLabelValues(tenant, route).Inc()
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
