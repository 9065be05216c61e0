package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseRateLimits(t *testing.T) {
	l, err := ParseRateLimits("/api/incidents=50/m, /api/incidents=1500/h,/api/advancedhunting/run=45/m,/x=3/s")
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 4 || l[0].Prefix != "/api/advancedhunting/run" || l[0].N != 45 || l[0].Per != time.Minute {
		t.Errorf("parsed %v, want 4 limits, longest prefix first", l)
	}
	for _, bad := range []string{"/api=0/m", "/api=5/d", "api=5/m", "/api=five/m", "/api/../x=5/m", "/api"} {
		if _, err := ParseRateLimits(bad); err == nil {
			t.Errorf("ParseRateLimits(%q) accepted", bad)
		}
	}
	if len(DefaultRateLimits) == 0 {
		t.Fatal("no built-in table")
	}
}

func TestRateLimitsInLoad(t *testing.T) {
	for _, tt := range []struct {
		value, queue string
		want         int
		wantQueue    time.Duration
		err          string
	}{
		{"", "", len(DefaultRateLimits), 30 * time.Second, ""},
		{"off", "0", 0, 0, ""},
		{"/api/incidents=10/m", "5s", 1, 5 * time.Second, ""},
		{"/api/incidents=ten/m", "", 0, 0, "XDRPROXY_RATE_LIMITS"},
		{"", "soon", 0, 0, "XDRPROXY_QUEUE_TIMEOUT"},
	} {
		env := minimalEnv()
		env["XDRPROXY_RATE_LIMITS"] = tt.value
		env["XDRPROXY_QUEUE_TIMEOUT"] = tt.queue
		setEnv(t, env)
		cfg, err := Load()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q/%q: err = %v", tt.value, tt.queue, err)
			}
			continue
		}
		if err != nil || len(cfg.RateLimits) != tt.want || cfg.QueueTimeout != tt.wantQueue {
			t.Errorf("%q/%q: %v, %d limits, queue %v", tt.value, tt.queue, err, len(cfg.RateLimits), cfg.QueueTimeout)
		}
	}
}

func TestRateLimitsKeepAPrefixsUnitsTogether(t *testing.T) {
	l, err := ParseRateLimits("/api/advancedhunting=45/m,/api/advancedqueries=45/m,/api/advancedhunting=1500/h,/api/advancedqueries=1500/h")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(l); i += 2 {
		if l[i].Prefix != l[i+1].Prefix {
			t.Errorf("a prefix's units are apart: %v", l)
		}
	}
	if _, err := ParseRateLimits("/api/x=10/m,/api/x=5/m"); err == nil {
		t.Error("two per-minute limits for one prefix were accepted")
	}
}
