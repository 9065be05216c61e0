package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy"
)

// series returns the values of the metric name gathered from reg, keyed
// by its labels as `k=v,…` in the order the registry sorts them.
func series(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out[strings.Join(labels, ",")] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return out
}

func TestRequestsTenantLabelCap(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := proxy.NewMetrics(reg)
	s := newStack(t, stackOptions{metrics: m})
	set, err := config.NewTenantSet(testTenants)
	if err != nil {
		t.Fatal(err)
	}
	send := func(tenants ...string) {
		t.Helper()
		for _, tenant := range tenants {
			s.do(t, "GET", "/api/incidents", tenantHeader(tenant), nil)
		}
	}
	check := func(step string, want map[string]float64) {
		t.Helper()
		got := series(t, reg, "xdrproxy_requests_total")
		if len(got) != len(want) {
			t.Errorf("%s: series %v, want %v", step, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v (all: %v)", step, k, got[k], v, got)
			}
		}
	}

	// Two labels for three tenants: contoso and fabrikam come first by
	// name; northwind (not consented: 502) is counted as (other).
	m.LabelTenants(set, 2)
	send("contoso", "fabrikam", "northwind", "northwind")
	check("limit 2", map[string]float64{
		"code=200,route=default,tenant=contoso":  1,
		"code=200,route=default,tenant=fabrikam": 1,
		"code=502,route=default,tenant=(other)":  2,
	})

	// Lowering the limit drops the series of the tenant that lost its label.
	m.LabelTenants(set, 1)
	send("fabrikam")
	check("limit 1", map[string]float64{
		"code=200,route=default,tenant=contoso": 1,
		"code=502,route=default,tenant=(other)": 2,
		"code=200,route=default,tenant=(other)": 1,
	})

	// Every tenant labelled: (other) is gone, refusals stay "none".
	m.LabelTenants(set, -1)
	send("northwind", "nobody")
	check("no limit", map[string]float64{
		"code=200,route=default,tenant=contoso":   1,
		"code=502,route=default,tenant=northwind": 1,
		"code=400,route=none,tenant=none":         1,
	})
}

func TestUpstream429Counted(t *testing.T) {
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(429)
		io.WriteString(w, `{"error":{"code":"TooManyRequests","message":"slow down"}}`)
	})
	reg := prometheus.NewRegistry()
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), rateLimits: config.DefaultRateLimits, metrics: proxy.NewMetrics(reg)})
	for i := 0; i < 2; i++ { // Microsoft's 429, then the proxy's own during the hold
		if resp, _ := s.do(t, "GET", "/api/incidents", tenantHeader("contoso"), nil); resp.StatusCode != 429 {
			t.Fatalf("request %d: %d, want 429", i, resp.StatusCode)
		}
	}
	want := map[string]float64{"route=default,tenant=contoso": 1}
	for _, name := range []string{"xdrproxy_upstream_throttled_total", "xdrproxy_rate_limited_total"} {
		if got := series(t, reg, name); len(got) != 1 || got["route=default,tenant=contoso"] != 1 {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}
