package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseRoutes(t *testing.T) {
	routes, err := ParseRoutes("/graph/=https://graph.microsoft.com, /graph/beta/=https://graph.microsoft.com/beta|https://graph.microsoft.com/.default ,/mde/=https://api.securitycenter.microsoft.com/api/")
	if err != nil {
		t.Fatal(err)
	}
	var prefixes, scopes []string
	for _, r := range routes {
		prefixes = append(prefixes, r.Prefix)
		scopes = append(scopes, r.Scope)
	}
	if got := strings.Join(prefixes, " "); got != "/graph/beta/ /graph/ /mde/" {
		t.Errorf("order = %s, want longest prefix first", got)
	}
	if got := strings.Join(scopes, " "); got != "https://graph.microsoft.com/.default https://graph.microsoft.com/.default https://api.securitycenter.microsoft.com/.default" {
		t.Errorf("scopes = %s", got)
	}

	for _, bad := range []string{
		"graph=https://graph.microsoft.com",  // no leading slash
		"/graph/",                            // no URL
		"/graph/=http://graph.microsoft.com", // clear text
		"/tenants/x/=https://graph.microsoft.com",
		"/a/../b/=https://graph.microsoft.com",
		"/g/=https://graph.microsoft.com|a b",
		"/g/=https://a.example,/g/=https://b.example",
	} {
		if _, err := ParseRoutes(bad); err == nil {
			t.Errorf("ParseRoutes(%q) accepted", bad)
		}
	}
}

func TestMatch(t *testing.T) {
	routes, err := ParseRoutes("/graph/=https://graph.microsoft.com,/graph/beta/=https://graph.microsoft.com/beta,/v1/=https://graph.microsoft.com/v1.0/")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, prefix, forward string
	}{
		{"/graph/v1.0/security/incidents", "/graph/", "/v1.0/security/incidents"},
		{"/graph/beta/security/alerts_v2", "/graph/beta/", "/beta/security/alerts_v2"},
		{"/graph", "/graph/", "/"},
		{"/v1/security/incidents", "/v1/", "/v1.0/security/incidents"},
		{"/api/incidents", "", "/api/incidents"},
		{"/graphql", "", "/graphql"},
	}
	bare, err := ParseRoutes("/mde=https://api.securitycenter.microsoft.com/api")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/mde": "/api", "/mde/machines": "/api/machines", "/mdex/machines": ""} {
		_, fwd, ok := Match(bare, path)
		if (want == "") == ok || ok && fwd != want {
			t.Errorf("Match(/mde route, %q) = %q %v, want %q", path, fwd, ok, want)
		}
	}
	for _, tt := range tests {
		r, fwd, ok := Match(routes, tt.path)
		if ok != (tt.prefix != "") || r.Prefix != tt.prefix || fwd != tt.forward {
			t.Errorf("Match(%q) = %q %q %v; want %q %q", tt.path, r.Prefix, fwd, ok, tt.prefix, tt.forward)
		}
	}
}

func TestParseRateLimits(t *testing.T) {
	l, err := ParseRateLimits("/api/incidents=50/m, /api/incidents=1500/h,/api/advancedhunting/run=45/m,/x=3/s")
	if err != nil {
		t.Fatal(err)
	}
	prefix, got := MatchRateLimits(l, "/api/incidents/123")
	if prefix != "/api/incidents" || len(got) != 2 {
		t.Fatalf("match = %q %v", prefix, got)
	}
	if p, _ := MatchRateLimits(l, "/api/incidentsX"); p != "" {
		t.Errorf("a sibling path matched %q", p)
	}
	if p, got := MatchRateLimits(l, "/api/advancedhunting/run"); p != "/api/advancedhunting/run" || got[0].N != 45 || got[0].Per != time.Minute {
		t.Errorf("advanced hunting: %q %v", p, got)
	}
	for _, bad := range []string{"/api=0/m", "/api=5/d", "api=5/m", "/api=five/m", "/api/../x=5/m", "/api"} {
		if _, err := ParseRateLimits(bad); err == nil {
			t.Errorf("ParseRateLimits(%q) accepted", bad)
		}
	}
	if len(DefaultRateLimits) == 0 {
		t.Fatal("no built-in table")
	}
	if p, got := MatchRateLimits(DefaultRateLimits, "/api/incidents"); p != "/api/incidents" || len(got) != 2 {
		t.Errorf("built-in incidents limits: %v", got)
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

// FuzzRoutes checks route parsing and matching: a parsed route's prefix
// is a plain path, and a match forwards below the route URL's path,
// never with dot segments it did not get.
func FuzzRoutes(f *testing.F) {
	f.Add("/graph/=https://graph.microsoft.com", "/graph/v1.0/security/incidents")
	f.Add("/g=https://a.example/base|https://a.example/.default,/g/x/=https://b.example", "/g/x/y")
	f.Add("/mde=https://api.securitycenter.microsoft.com/api", "/mdex")
	f.Fuzz(func(t *testing.T, list, path string) {
		routes, err := ParseRoutes(list)
		if err != nil {
			return
		}
		for _, r := range routes {
			if !strings.HasPrefix(r.Prefix, "/") || hasDotSegmentOrQuery(r.Prefix) || r.URL.Scheme != "https" && r.URL.Scheme != "http" {
				t.Fatalf("accepted route %+v", r)
			}
		}
		r, fwd, ok := Match(routes, path)
		if !ok {
			if fwd != path {
				t.Fatalf("no route, yet the path changed: %q → %q", path, fwd)
			}
			return
		}
		if !prefixMatches(r.Prefix, path) {
			t.Fatalf("route %q matched %q across a segment boundary", r.Prefix, path)
		}
		base := r.URL.Path
		if !strings.HasPrefix(fwd, base) {
			t.Fatalf("%q forwarded as %q, outside the route's path %q", path, fwd, base)
		}
	})
}

// FuzzTenantsFile checks that a tenants file either parses into valid,
// unique tenants or is refused.
func FuzzTenantsFile(f *testing.F) {
	f.Add("contoso=11111111-1111-4111-8111-111111111111\n# c\n22222222-2222-4222-8222-222222222222\n")
	f.Add("x=y\n")
	f.Fuzz(func(t *testing.T, file string) {
		tenants, err := ParseTenantsFile("tenants", []byte(file))
		if err != nil {
			return
		}
		set, err := NewTenantSet(tenants)
		if err != nil {
			return // duplicates are refused by the set
		}
		for _, tn := range set.All() {
			if !IsGUID(tn.ID) || tn.ID != strings.ToLower(tn.ID) || tn.Alias != "" && !IsAlias(tn.Alias) {
				t.Fatalf("accepted tenant %+v", tn)
			}
		}
	})
}

func TestRateLimitsKeepAPrefixsUnitsTogether(t *testing.T) {
	l, err := ParseRateLimits("/api/advancedhunting=45/m,/api/advancedqueries=45/m,/api/advancedhunting=1500/h,/api/advancedqueries=1500/h")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/advancedhunting", "/api/advancedqueries"} {
		if _, got := MatchRateLimits(l, p); len(got) != 2 {
			t.Errorf("%s: %d limits, want 2", p, len(got))
		}
	}
	if _, err := ParseRateLimits("/api/x=10/m,/api/x=5/m"); err == nil {
		t.Error("two per-minute limits for one prefix were accepted")
	}
}
