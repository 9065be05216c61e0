package proxy

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// TestMetricNames keeps the metric names and labels, which dashboards and
// alerts depend on, in testdata/metrics.txt (go test -update rewrites it).
func TestMetricNames(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	ch := make(chan *prometheus.Desc, 64)
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.upstream, m.inflight, m.rateLimited, m.throttled, m.tokens} {
		c.Describe(ch)
	}
	close(ch)
	re := regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)
	var lines []string
	for d := range ch {
		if sub := re.FindStringSubmatch(d.String()); sub != nil {
			lines = append(lines, sub[1]+"{"+sub[2]+"}")
		}
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	testutil.Golden(t, "metrics.txt", []byte(got))
}
