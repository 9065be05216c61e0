package proxy_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrproxy/xdrproxy/proxy"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

func TestTokenMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := proxy.NewMetrics(reg)
	const defender, graph = "https://api.security.microsoft.com/.default", "https://graph.microsoft.com/.default"
	exp := time.Unix(1_800_000_000, 0)
	consent := &tokencache.AcquisitionError{Status: 400, Codes: []int{65001}}
	m.ObserveAcquisition("contoso", defender, exp, nil)
	m.ObserveAcquisition("contoso", defender, exp.Add(time.Hour), nil) // the later expiry replaces the first
	m.ObserveAcquisition("contoso", graph, exp, nil)
	m.ObserveAcquisition("contoso", graph, time.Time{}, errors.New("no answer")) // the expiry stays
	m.ObserveAcquisition("northwind", defender, time.Time{}, consent)
	m.ObserveAcquisition("northwind", defender, time.Time{}, consent)
	m.ObserveAcquisition("gone", defender, exp, nil)
	m.ForgetTenant("gone")

	for _, tt := range []struct {
		name string
		want map[string]float64
	}{
		{"xdrproxy_token_acquisitions_total", map[string]float64{
			"result=success,tenant=contoso":            3,
			"result=unknown,tenant=contoso":            1,
			"result=consent_required,tenant=northwind": 2,
		}},
		{"xdrproxy_token_expiry_timestamp_seconds", map[string]float64{
			"scope=" + defender + ",tenant=contoso": float64(exp.Unix() + 3600),
			"scope=" + graph + ",tenant=contoso":    float64(exp.Unix()),
		}},
	} {
		got := series(t, reg, tt.name)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.name, got, tt.want)
		}
	}
}

// TestTokenMetricsScrapedWhileObserved scrapes while acquisitions are
// recorded (run with -race).
func TestTokenMetricsScrapedWhileObserved(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := proxy.NewMetrics(reg)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				m.ObserveAcquisition(fmt.Sprintf("tenant-%d", i%50), "scope", time.Unix(int64(i), 0), nil)
			}
		}()
	}
	for i := 0; i < 20; i++ {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	got := series(t, reg, "xdrproxy_token_acquisitions_total")
	total := 0.0
	for _, v := range got {
		total += v
	}
	if len(got) != 50 || total != 2000 {
		t.Errorf("%d series counting %v acquisitions, want 50 counting 2000", len(got), total)
	}
}
