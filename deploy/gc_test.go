package deploy

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// TestDockerfileGarbageCollection checks the image's collector settings:
// GOGC above the default (its CPU was measured), and GOMEMLIMIT, a soft
// limit, below the base deployment's container memory limit, so that a
// large heap is collected harder before the container is killed.
func TestDockerfileGarbageCollection(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "ENV "); ok {
			for _, kv := range strings.Fields(rest) {
				if k, v, ok := strings.Cut(kv, "="); ok {
					env[k] = v
				}
			}
		}
	}
	if gogc, err := strconv.Atoi(env["GOGC"]); err != nil || gogc <= 100 {
		t.Errorf("GOGC=%q, want a number above the default 100", env["GOGC"])
	}
	limit, ok := memLimitBytes(env["GOMEMLIMIT"])
	if !ok {
		t.Fatalf("GOMEMLIMIT=%q, want a size such as 200MiB", env["GOMEMLIMIT"])
	}
	data, err = os.ReadFile("kubernetes/base/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name != "xdrproxy" {
			continue
		}
		mem := c.Resources.Limits.Memory()
		if mem.IsZero() || limit >= mem.Value() {
			t.Errorf("GOMEMLIMIT %s is not below the base deployment's memory limit %s", env["GOMEMLIMIT"], mem)
		}
		return
	}
	t.Error("the base deployment has no xdrproxy container")
}

// memLimitBytes parses a GOMEMLIMIT value: a number of bytes with an
// optional B, KiB, MiB, GiB or TiB suffix, as the Go runtime reads it.
func memLimitBytes(s string) (int64, bool) {
	m := regexp.MustCompile(`^([0-9]+)(B|KiB|MiB|GiB|TiB)?$`).FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	shift := map[string]uint{"": 0, "B": 0, "KiB": 10, "MiB": 20, "GiB": 30, "TiB": 40}[m[2]]
	return n << shift, true
}
