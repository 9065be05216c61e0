package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The monitoring files, relative to this package.
const (
	alertsFile    = "monitoring/alerts.yaml"
	dashboardFile = "monitoring/grafana-dashboard.json"
)

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert,omitempty"`
			Record      string            `json:"record,omitempty"`
			Expr        string            `json:"expr"`
			For         string            `json:"for,omitempty"`
			Labels      map[string]string `json:"labels,omitempty"`
			Annotations map[string]string `json:"annotations,omitempty"`
		} `json:"rules"`
	} `json:"groups"`
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasourceRef  `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

// panel is one dashboard panel.
type panel struct {
	ID         int            `json:"id"`
	Title      string         `json:"title"`
	Type       string         `json:"type"`
	Datasource *datasourceRef `json:"datasource"`
	Targets    []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
}

// datasourceRef names a Grafana data source.
type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// promtool returns the path of Prometheus's promtool, failing the test
// when it is missing: the checks must run, not skip.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed (it checks the alerting rules and the dashboard's queries); install it: apt-get install -y prometheus")
	}
	return path
}

// runPromtool runs promtool with args and fails the test with its output
// when it fails.
func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	data, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.UnmarshalStrict(data, &rf); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	return rf
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s does not parse: %v", dashboardFile, err)
	}
	return d
}

// TestAlertRules checks the rule file with promtool, then runs its unit
// tests (testdata/alerts_test.yaml) against a copy without annotations,
// which promtool would otherwise compare whole. Each alert says how long
// it waits, how bad it is, and what to do.
func TestAlertRules(t *testing.T) {
	runPromtool(t, "check", "rules", alertsFile)

	rf := loadRules(t)
	alerts := 0
	for _, g := range rf.Groups {
		for i := range g.Rules {
			r := &g.Rules[i]
			if r.Alert == "" {
				continue
			}
			alerts++
			if r.For == "" {
				t.Errorf("%s: alert %s has no for:", alertsFile, r.Alert)
			}
			if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
				t.Errorf("%s: alert %s has severity %q, want critical, warning or info", alertsFile, r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || len(r.Annotations["description"]) < 80 {
				t.Errorf("%s: alert %s needs a summary and a description that says what to do", alertsFile, r.Alert)
			}
			r.Annotations = nil
		}
	}
	if alerts == 0 {
		t.Fatalf("%s holds no alert", alertsFile)
	}
	dir := t.TempDir()
	bare, err := yaml.Marshal(rf)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("testdata/alerts_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"alerts.yaml": bare, "alerts_test.yaml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runPromtool(t, "test", "rules", filepath.Join(dir, "alerts_test.yaml"))
}

// TestDashboard checks the Grafana dashboard: it parses, its schema is
// recent, it has the Prometheus data source and tenant variables, every
// panel has a unique id, that data source and a query, and every query
// parses (promtool checks them as recording rules, Grafana's variables
// replaced by values).
func TestDashboard(t *testing.T) {
	d := loadDashboard(t)
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want 36 or later", d.SchemaVersion)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		if v.Name == "tenant" {
			if q := variableQuery(t, v.Query); q != "label_values(xdrproxy_requests_total, tenant)" {
				t.Errorf("the tenant variable's query is %q", q)
			}
			if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
				t.Errorf("the tenant variable's data source is %+v, want ${datasource}", v.Datasource)
			}
		}
	}
	if vars["datasource"] != "datasource" || vars["tenant"] != "query" {
		t.Errorf("variables %v: want a datasource variable \"datasource\" and a query variable \"tenant\"", vars)
	}
	ids := map[int]string{}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for _, p := range d.Panels {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if prev, dup := ids[p.ID]; dup || p.ID == 0 {
			t.Errorf("%s: id %d is zero or also %q's", where, p.ID, prev)
		}
		ids[p.ID] = p.Title
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
			t.Errorf("%s: data source %+v, want the prometheus ${datasource}", where, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s has no query", where)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" || (tg.Datasource != nil && tg.Datasource.UID != "${datasource}") {
				t.Errorf("%s: query %s is empty or on another data source", where, tg.RefID)
			}
			expr := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "$tenant", ".*").Replace(tg.Expr)
			fmt.Fprintf(&rules, "      - record: panel_%d_%s\n        expr: %q\n", p.ID, tg.RefID, expr)
		}
	}
	path := filepath.Join(t.TempDir(), "dashboard-queries.yaml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, "check", "rules", path)
}

// variableQuery returns a Grafana query variable's query, a string or,
// in recent schemas, an object holding it.
func variableQuery(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var q struct{ Query string }
	if err := json.Unmarshal(raw, &q); err != nil {
		t.Errorf("variable query %s: %v", raw, err)
	}
	return q.Query
}

// TestMonitoringKustomization checks deploy/monitoring's kustomization:
// it only generates ConfigMaps (no custom resources, which a cluster
// without their operator refuses) from files that exist.
func TestMonitoringKustomization(t *testing.T) {
	data, err := os.ReadFile("monitoring/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion       string `json:"apiVersion"`
		Kind             string `json:"kind"`
		GeneratorOptions struct {
			DisableNameSuffixHash bool `json:"disableNameSuffixHash"`
		} `json:"generatorOptions"`
		ConfigMapGenerator []struct {
			Name    string   `json:"name"`
			Files   []string `json:"files"`
			Options struct {
				Labels map[string]string `json:"labels,omitempty"`
			} `json:"options"`
		} `json:"configMapGenerator"`
	}
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("monitoring/kustomization.yaml: %v", err)
	}
	var files []string
	for _, g := range k.ConfigMapGenerator {
		for _, f := range g.Files {
			src := f
			if _, after, ok := strings.Cut(f, "="); ok {
				src = after // key=file
			}
			if _, err := os.Stat(filepath.Join("monitoring", src)); err != nil {
				t.Errorf("ConfigMap %s: %v", g.Name, err)
			}
			files = append(files, src)
		}
	}
	sort.Strings(files)
	if want := []string{"alerts.yaml", "grafana-dashboard.json"}; !slices.Equal(files, want) {
		t.Errorf("the ConfigMaps hold %v, want %v", files, want)
	}
}

// TestREADMEAlertExcerpt checks that the alerts the README quotes are
// the rule file's, word for word in what they compute.
func TestREADMEAlertExcerpt(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string][2]string{}
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			rules[r.Alert] = [2]string{strings.Join(strings.Fields(r.Expr), " "), r.For}
		}
	}
	quoted := 0
	for _, block := range regexp.MustCompile("(?s)```yaml\n(- alert:.*?)```").FindAllStringSubmatch(string(data), -1) {
		var excerpt []struct {
			Alert, Expr, For string
		}
		if err := yaml.Unmarshal([]byte(block[1]), &excerpt); err != nil {
			t.Fatalf("README's alerts: %v", err)
		}
		for _, a := range excerpt {
			quoted++
			got := [2]string{strings.Join(strings.Fields(a.Expr), " "), a.For}
			if want, ok := rules[a.Alert]; !ok || got != want {
				t.Errorf("README quotes %s as %q, but %s has %q", a.Alert, got, alertsFile, want)
			}
		}
	}
	if quoted == 0 {
		t.Errorf("README quotes no alert from %s", alertsFile)
	}
}
