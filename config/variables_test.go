package config

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestKnownVariables: the table the help and the unknown-variable check
// read names each variable once, with a group and a meaning.
func TestKnownVariables(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Known {
		if seen[v.Name] {
			t.Errorf("%s is listed twice", v.Name)
		}
		seen[v.Name] = true
		if !strings.HasPrefix(v.Name, Prefix+"_") || v.Group == "" || v.Meaning == "" || strings.Contains(v.Meaning, "\n") {
			t.Errorf("%+v: want a prefixed name, a group and a one-line meaning", v)
		}
		if got, ok := LookupVariable(v.Name); !ok || got != v {
			t.Errorf("LookupVariable(%s) = %+v, %v", v.Name, got, ok)
		}
	}
	if _, ok := LookupVariable("XDRPROXY_CLIENT_KEY_FILE"); ok {
		t.Error("LookupVariable found a variable that does not exist")
	}
}

// TestDefaultsAreKnowns: what Load applies to an unset variable is the
// default the help shows.
func TestDefaultsAreKnowns(t *testing.T) {
	setEnv(t, minimalEnv())
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{
		"LISTEN_ADDR": c.ListenAddr, "ADMIN_ADDR": c.AdminAddr, "LOG_FORMAT": c.LogFormat,
		"LOG_LEVEL": c.LogLevel.String(), "CLOUD": c.Cloud.Name, "MAX_CONNECTIONS": strconv.Itoa(c.MaxConnections),
		"METRICS_TENANT_LABELS": strconv.Itoa(c.MetricsTenantLabels),
		"QUEUE_TIMEOUT":         c.QueueTimeout.String(), "UPSTREAM_TIMEOUT": c.UpstreamTimeout.String(),
		"SHUTDOWN_TIMEOUT": c.ShutdownTimeout.String(), "BODY_IDLE_TIMEOUT": c.BodyIdleTimeout.String(),
	} {
		v, _ := LookupVariable(Prefix + "_" + name)
		want := v.Default
		if d, err := time.ParseDuration(want); err == nil {
			want = d.String()
		}
		if got != want {
			t.Errorf("%s: Load applied %q, the help shows %q", v.Name, got, v.Default)
		}
	}
}
