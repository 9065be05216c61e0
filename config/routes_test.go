package config

import (
	"strings"
	"testing"
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
