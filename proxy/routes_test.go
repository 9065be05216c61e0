package proxy

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
)

// table compiles routes and limits as New does.
func table(t testing.TB, routes, limits string) *routeTable {
	t.Helper()
	rs, err := config.ParseRoutes(routes)
	if err != nil {
		t.Fatal(err)
	}
	var ls []config.RateLimit
	if limits != "" {
		if ls, err = config.ParseRateLimits(limits); err != nil {
			t.Fatal(err)
		}
	}
	rt, err := compileRoutes(&url.URL{Scheme: "https", Host: "api.security.microsoft.com"}, "https://api.security.microsoft.com/.default", rs, ls)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// matchPrefix returns the prefix of path's route ("" for the default) and
// the path to forward.
func matchPrefix(rt *routeTable, path string) (prefix, forward string, ok bool) {
	i, fwd, ok := rt.match(path)
	if !ok {
		return "", fwd, false
	}
	return rt.routes[i].prefix, fwd, true
}

func TestRouteTableMatch(t *testing.T) {
	rt := table(t, "/graph/=https://graph.microsoft.com,/graph/beta/=https://graph.microsoft.com/beta,/v1/=https://graph.microsoft.com/v1.0/", "")
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
	bare := table(t, "/mde=https://api.securitycenter.microsoft.com/api", "")
	for path, want := range map[string]string{"/mde": "/api", "/mde/machines": "/api/machines", "/mdex/machines": ""} {
		_, fwd, ok := matchPrefix(bare, path)
		if (want == "") == ok || ok && fwd != want {
			t.Errorf("match(/mde route, %q) = %q %v, want %q", path, fwd, ok, want)
		}
	}
	for _, tt := range tests {
		prefix, fwd, ok := matchPrefix(rt, tt.path)
		if ok != (tt.prefix != "") || prefix != tt.prefix || fwd != tt.forward {
			t.Errorf("match(%q) = %q %q %v; want %q %q", tt.path, prefix, fwd, ok, tt.prefix, tt.forward)
		}
	}
}

func TestRouteTableLimits(t *testing.T) {
	rt := table(t, "/graph/=https://graph.microsoft.com", "/api/incidents=50/m, /api/incidents=1500/h,/api/advancedhunting/run=45/m,/x=3/s")
	limitOf := func(rt *routeTable, path string) Limit {
		return rt.pick(&target{req: requestPath{escaped: path, canon: path}}).limitFor(path)
	}
	if lim := limitOf(rt, "/api/incidents/123"); lim.Key != "/api/incidents" || len(lim.Rates) != 2 {
		t.Fatalf("limit = %+v", lim)
	}
	if lim := limitOf(rt, "/api/incidentsX"); lim.Key != "route:default" || len(lim.Rates) != 0 {
		t.Errorf("a sibling path matched %+v", lim)
	}
	if lim := limitOf(rt, "/api/advancedhunting/run"); lim.Key != "/api/advancedhunting/run" || lim.Rates[0] != (Rate{N: 45, Per: time.Minute}) {
		t.Errorf("advanced hunting: %+v", lim)
	}
	if lim := limitOf(rt, "/graph/v1.0/x"); lim.Key != "route:/graph/" {
		t.Errorf("a route's hold key is %q", lim.Key)
	}

	builtIn, err := compileRoutes(&url.URL{Scheme: "https", Host: "a"}, "s", nil, config.DefaultRateLimits)
	if err != nil {
		t.Fatal(err)
	}
	if lim := limitOf(builtIn, "/api/incidents"); lim.Key != "/api/incidents" || len(lim.Rates) != 2 {
		t.Errorf("built-in incidents limits: %+v", lim)
	}
	together := table(t, "", "/api/advancedhunting=45/m,/api/advancedqueries=45/m,/api/advancedhunting=1500/h,/api/advancedqueries=1500/h")
	for _, p := range []string{"/api/advancedhunting", "/api/advancedqueries"} {
		if lim := limitOf(together, p); len(lim.Rates) != 2 {
			t.Errorf("%s: %d rates, want 2", p, len(lim.Rates))
		}
	}
}

func TestRouteTableRefusesAPrefixRoutedTwice(t *testing.T) {
	a, _ := url.Parse("https://a.test/pa")
	b, _ := url.Parse("https://b.test/pb")
	_, err := compileRoutes(a, "s", []config.Route{{Prefix: "/x/", URL: a, Scope: "a"}, {Prefix: "/x/", URL: b, Scope: "b"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "routed twice") {
		t.Errorf("two routes for /x/: err = %v, want a refusal", err)
	}
	_, err = compileRoutes(a, "s", []config.Route{{Prefix: "/X/", URL: a, Scope: "a"}, {Prefix: "/x/", URL: b, Scope: "b"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "in any case") {
		t.Errorf("routes for /X/ and /x/: err = %v, want a refusal: paths match in any case", err)
	}
}

// FuzzRoutes checks route parsing and matching: a parsed route's prefix
// is a plain path, and a match (of the prefix in any case) forwards below
// the route URL's path, never with dot segments it did not get.
func FuzzRoutes(f *testing.F) {
	f.Add("/graph/=https://graph.microsoft.com", "/graph/v1.0/security/incidents")
	f.Add("/g=https://a.example/base|https://a.example/.default,/g/x/=https://b.example", "/g/x/y")
	f.Add("/mde=https://api.securitycenter.microsoft.com/api", "/mdex")
	f.Add("/Graph/=https://graph.microsoft.com", "/graph/v1.0")
	f.Fuzz(func(t *testing.T, list, path string) {
		routes, err := config.ParseRoutes(list)
		if err != nil {
			return
		}
		for _, r := range routes {
			if !strings.HasPrefix(r.Prefix, "/") || hasDotSegment(r.Prefix) || strings.ContainsAny(r.Prefix, "?#%\\ ") || r.URL.Scheme != "https" && r.URL.Scheme != "http" {
				t.Fatalf("accepted route %+v", r)
			}
		}
		rt, err := compileRoutes(&url.URL{Scheme: "https", Host: "a"}, "s", routes, nil)
		if err != nil {
			t.Fatal(err)
		}
		i, fwd, ok := rt.match(path)
		if !ok {
			if fwd != path {
				t.Fatalf("no route, yet the path changed: %q → %q", path, fwd)
			}
			return
		}
		r := routes[i]
		if !prefixMatches(foldPath(r.Prefix), path) { // prefixes match in any case
			t.Fatalf("route %q matched %q across a segment boundary", r.Prefix, path)
		}
		if base := r.URL.Path; !strings.HasPrefix(fwd, base) {
			t.Fatalf("%q forwarded as %q, outside the route's path %q", path, fwd, base)
		}
	})
}
