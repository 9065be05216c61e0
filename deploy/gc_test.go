package deploy

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDockerfileGarbageCollection checks the image's collector settings:
// GOGC above the default (its CPU was measured) and a GOMEMLIMIT, which
// TestOverlaysMemoryLimit compares with each overlay's memory limit.
func TestDockerfileGarbageCollection(t *testing.T) {
	env := dockerfileEnv(t)
	if gogc, err := strconv.Atoi(env["GOGC"]); err != nil || gogc <= 100 {
		t.Errorf("GOGC=%q, want a number above the default 100", env["GOGC"])
	}
	if _, ok := memLimitBytes(env["GOMEMLIMIT"]); !ok {
		t.Fatalf("GOMEMLIMIT=%q, want a size such as 200MiB", env["GOMEMLIMIT"])
	}
}

// TestOverlaysMemoryLimit checks that in every overlay the soft memory
// limit xdrproxy runs with (the overlay's GOMEMLIMIT, else the image's)
// sits between 60% and 90% of its container's memory limit: below it, so
// a large heap is collected harder before the container is killed, and
// not so far below that the collector runs hard with memory to spare.
func TestOverlaysMemoryLimit(t *testing.T) {
	image := dockerfileEnv(t)["GOMEMLIMIT"]
	for _, name := range []string{"sidecar", "sidecar-workload-identity", "gateway"} {
		t.Run(name, func(t *testing.T) {
			o := loadOverlay(t, name)
			value, ok := o.env("GOMEMLIMIT")
			if !ok {
				value = image
			}
			soft, ok := memLimitBytes(value)
			if !ok {
				t.Fatalf("GOMEMLIMIT=%q, want a size such as 200MiB", value)
			}
			mem := o.container.Resources.Limits.Memory()
			if mem.IsZero() {
				t.Fatal("the xdrproxy container has no memory limit")
			}
			if ratio := float64(soft) / float64(mem.Value()); ratio < 0.6 || ratio > 0.9 {
				t.Errorf("GOMEMLIMIT %s is %.0f%% of the container's memory limit %s, want 60-90%%", value, 100*ratio, mem)
			}
		})
	}
}

// dockerfileEnv returns the variables the Dockerfile's ENV lines set.
func dockerfileEnv(t *testing.T) map[string]string {
	t.Helper()
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
	return env
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
