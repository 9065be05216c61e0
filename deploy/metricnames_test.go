package deploy

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrproxy/xdrproxy/internal/servertest"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/proxy"
)

// TestMonitoringMetricsExported checks that every metric the alerting
// rules and the dashboard query is one xdrproxy exports, so that a
// renamed metric cannot leave an alert that never fires or an empty
// panel.
func TestMonitoringMetricsExported(t *testing.T) {
	exported := exportedMetrics(t)
	check := func(file, where, expr string) {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: %s: found no metric in %q", file, where, expr)
		}
		for _, n := range names {
			if !exported[n] {
				t.Errorf("%s: %s uses %s, which xdrproxy does not export", file, where, n)
			}
		}
	}
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			check(alertsFile, "alert "+r.Alert+r.Record, r.Expr)
		}
	}
	d := loadDashboard(t)
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			check(dashboardFile, fmt.Sprintf("panel %d %q query %s", p.ID, p.Title, tg.RefID), tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q := variableQuery(t, v.Query)
		m := regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`).FindStringSubmatch(q)
		if m == nil {
			t.Errorf("%s: variable %s: query %q is not label_values(metric, label)", dashboardFile, v.Name, q)
			continue
		}
		check(dashboardFile, "variable "+v.Name, m[1])
	}
}

// exportedMetrics returns the names of the series xdrproxy exports: the
// proxy's metrics as proxy.NewMetrics registers them (their vectors have
// no series until traffic comes), and whatever else the /metrics of a
// real proxy sharing a real Redis shows (the fleet's, Go's, the
// process's). Histograms add _bucket, _sum and _count; Prometheus adds up.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{"up": true}
	addFamily := func(name string, histogram bool) {
		out[name] = true
		if histogram {
			out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = true, true, true
		}
	}
	reg := &recordingRegisterer{Registerer: prometheus.NewRegistry()}
	proxy.NewMetrics(reg)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for _, c := range reg.collectors {
		ch := make(chan *prometheus.Desc)
		go func() { c.Describe(ch); close(ch) }()
		_, histogram := c.(prometheus.ObserverVec)
		if _, ok := c.(prometheus.Histogram); ok {
			histogram = true
		}
		for d := range ch {
			m := fqName.FindStringSubmatch(d.String())
			if m == nil {
				t.Fatalf("no metric name in %s", d)
			}
			addFamily(m[1], histogram)
		}
	}
	if !out["xdrproxy_requests_total"] || !out["xdrproxy_request_duration_seconds_bucket"] {
		t.Fatalf("proxy.NewMetrics registered %v, without the request counter or histogram", slices.Sorted(maps.Keys(out)))
	}
	for name, typ := range scrapeFleetProxy(t) {
		addFamily(name, typ == "histogram" || typ == "summary")
	}
	for _, want := range []string{"xdrproxy_redis_up", "xdrproxy_redis_fallbacks_total", "go_goroutines", "process_resident_memory_bytes"} {
		if !out[want] {
			t.Fatalf("the proxy's /metrics lacks %s", want)
		}
	}
	return out
}

// recordingRegisterer remembers the collectors registered through it.
type recordingRegisterer struct {
	prometheus.Registerer
	collectors []prometheus.Collector
}

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return r.Registerer.Register(c)
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	r.collectors = append(r.collectors, cs...)
	r.Registerer.MustRegister(cs...)
}

// scrapeFleetProxy runs the proxy against the simulator with a real
// Redis, as the gateway runs, reads its admin listener's /metrics once
// and returns each metric family's type by name; the proxy stops when the
// test ends.
func scrapeFleetProxy(t *testing.T) map[string]string {
	t.Helper()
	sim := testutil.StartSimulator(t, nil)
	redis, _ := testutil.StartRedis(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keys := filepath.Join(t.TempDir(), "token-keys")
	if err := os.WriteFile(keys, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := servertest.StartFromEnv(t, sim, map[string]string{
		"XDRPROXY_LISTEN_ADDR":               "127.0.0.1:0",
		"XDRPROXY_ADMIN_ADDR":                "127.0.0.1:0",
		"XDRPROXY_REDIS_URL":                 "redis://" + redis,
		"XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys,
	})
	types, err := scrapeTypes("http://" + a.Admin.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return types
}

// scrapeTypes reads the Prometheus text at url and returns its # TYPE
// lines: the type of each metric family by name.
func scrapeTypes(url string) (map[string]string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	types := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
		}
	}
	return types, sc.Err()
}

// promqlLabelLists are the label lists of grouping and matching clauses:
// by (…), without (…), on (…), ignoring (…), group_left (…), group_right (…).
var promqlLabelLists = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)

// promqlTokens splits PromQL, once strings, label matchers and ranges are
// gone, into identifiers, numbers (durations too), variables and symbols.
var promqlTokens = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*|[0-9][0-9A-Za-z_.]*|\$\w+|\S`)

// promqlIdentifier matches a token that starts like a name.
var promqlIdentifier = regexp.MustCompile(`^[A-Za-z_:]`)

// promqlStripped are what metricNames blanks out before reading names:
// strings, label matchers, ranges and subqueries, and label lists.
var promqlStripped = []*regexp.Regexp{
	regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`"),
	regexp.MustCompile(`\{[^}]*\}`),
	regexp.MustCompile(`\[[^\]]*\]`),
	promqlLabelLists,
}

// metricNames returns the metric names a PromQL expression selects, in
// order of appearance without repeats: the identifiers that are not
// functions (followed by "("), keywords or labels.
func metricNames(expr string) []string {
	for _, re := range promqlStripped {
		expr = re.ReplaceAllString(expr, " ")
	}
	keywords := []string{"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
	var names []string
	locs := promqlTokens.FindAllStringIndex(expr, -1)
	for i, l := range locs {
		tok := expr[l[0]:l[1]]
		if !promqlIdentifier.MatchString(tok) || slices.Contains(keywords, strings.ToLower(tok)) {
			continue
		}
		if i+1 < len(locs) && expr[locs[i+1][0]:locs[i+1][1]] == "(" {
			continue // a function or an aggregation
		}
		if !slices.Contains(names, tok) {
			names = append(names, tok)
		}
	}
	return names
}

// TestMetricNames checks the PromQL reading of TestMonitoringMetricsExported
// on expressions shaped like the rules' and the dashboard's.
func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up == 0`, []string{"up"}},
		{`sum by (le, route) (rate(a_bucket{route="x(y)",code=~"5.."}[$__rate_interval]))`, []string{"a_bucket"}},
		{`sum(rate(a[5m])) by (tenant) / on (tenant) group_left (scope) b offset 1h > 0.5 unless c`, []string{"a", "b", "c"}},
		{"histogram_quantile(0.99, x) and on(job, instance) last_over_time(y[1d]) or vector(0) - time() * 1e3", []string{"x", "y"}},
		{`max by (tenant, scope) (e{tenant=~"$tenant"}) - time() < 600 or bottomk(20, e) OR Inf`, []string{"e"}},
		{`count(a unless a offset 1h) > bool 2`, []string{"a"}},
		{`increase(m:recorded[1h:5m])`, []string{"m:recorded"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
