package proxy

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricNames keeps the metric names and labels, which dashboards and
// alerts depend on, in testdata/metrics.txt (UPDATE_GOLDEN=1 rewrites it).
func TestMetricNames(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	ch := make(chan *prometheus.Desc, 64)
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.upstream, m.inflight, m.rateLimited, m.acquired, m.expiry} {
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
	path := filepath.Join("testdata", "metrics.txt")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("metric names changed:\n got:\n%s\nwant:\n%s", got, want)
	}
}
