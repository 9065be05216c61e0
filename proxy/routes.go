package proxy

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
)

// routeTable is one configuration's routes and rate limits, compiled once
// so that serving a request never consults configuration types.
type routeTable struct {
	upstream     *url.URL // the default route's
	scope        string   // the default route's
	defaultLinks []linkTarget
	routes       []route // longest prefix first
	limits       []limitGroup
}

// route sends paths under prefix to another upstream with its own scope.
type route struct {
	prefix  string
	holdKey string   // "route:" + prefix: what an upstream 429 holds when no limit prefix matches
	origin  *url.URL // the route URL's scheme and host
	base    string   // what replaces prefix: the route URL's path, ending in "/" when prefix does
	links   []linkTarget
	scope   string
}

// limitGroup is every rate of one prefix; prefixes are lower case,
// longest first.
type limitGroup struct {
	prefix string
	rates  []Rate
}

// pick is what the table decided for a request.
type pick struct {
	name     string   // "default" or the route's prefix, for metrics
	holdKey  string   // "route:" + name
	upstream *url.URL // joined with the target's path by SetURL
	scope    string
	table    *routeTable
	// links are the paging links of the route's upstream that lead back
	// through the proxy, the route's own first (linktargets.go).
	links []linkTarget
}

// compileRoutes builds the table of Options' routes and limits.
func compileRoutes(upstream *url.URL, scope string, routes []config.Route, limits []config.RateLimit) (*routeTable, error) {
	rt := &routeTable{upstream: upstream, scope: scope}
	seen := map[string]bool{}
	for _, r := range routes {
		if r.URL == nil || r.Scope == "" || r.Prefix == "" {
			return nil, fmt.Errorf("proxy: route %q needs a prefix, URL and scope", r.Prefix)
		}
		if seen[r.Prefix] {
			return nil, fmt.Errorf("proxy: prefix %q is routed twice", r.Prefix)
		}
		seen[r.Prefix] = true
		// The base takes the prefix's place, slash for slash: /graph/
		// for https://graph.microsoft.com is "/", /graph is "".
		base := strings.TrimSuffix(r.URL.Path, "/")
		if strings.HasSuffix(r.Prefix, "/") {
			base += "/"
		}
		rt.routes = append(rt.routes, route{prefix: r.Prefix, holdKey: "route:" + r.Prefix, origin: &url.URL{Scheme: r.URL.Scheme, Host: r.URL.Host}, base: base, scope: r.Scope})
	}
	rt.compileLinks()
	for _, l := range limits {
		rate := Rate{N: l.N, Per: l.Per}
		if n := len(rt.limits); n > 0 && rt.limits[n-1].prefix == l.Prefix {
			rt.limits[n-1].rates = append(rt.limits[n-1].rates, rate)
			continue
		}
		rt.limits = append(rt.limits, limitGroup{prefix: l.Prefix, rates: []Rate{rate}})
	}
	return rt, nil
}

// pick chooses the upstream and scope of t's path, rewriting the path for
// a route (its prefix replaced by the route URL's path).
func (rt *routeTable) pick(t *target) pick {
	i, fwd, ok := rt.match(t.path)
	if !ok {
		return pick{name: "default", holdKey: "route:default", upstream: rt.upstream, scope: rt.scope, table: rt, links: rt.defaultLinks}
	}
	r := &rt.routes[i]
	t.path = fwd
	if t.rawPath != "" {
		if j, fwdRaw, ok := rt.match(t.rawPath); ok && j == i {
			t.rawPath = fwdRaw
		} else {
			t.rawPath = ""
		}
	}
	return pick{name: r.prefix, holdKey: r.holdKey, upstream: r.origin, scope: r.scope, table: rt, links: r.links}
}

// match returns the index of path's route, longest prefix first, and the
// path to forward; ok is false when the default upstream applies.
func (rt *routeTable) match(path string) (i int, forwardPath string, ok bool) {
	for i, r := range rt.routes {
		if !prefixMatches(r.prefix, path) {
			continue
		}
		fwd := r.base + strings.TrimPrefix(path, r.prefix)
		if path+"/" == r.prefix {
			fwd = r.base
		}
		if fwd == "" {
			fwd = "/"
		}
		return i, fwd, true
	}
	return -1, path, false
}

// limitFor returns what a request for path (as the client sent it, after
// any /tenants/ prefix) counts against: the rates of the longest matching
// limit prefix (respecting segment boundaries, ignoring case and repeated
// slashes, as the upstream does), else none, and the route's hold.
func (p pick) limitFor(path string) Limit {
	if len(p.table.limits) > 0 {
		path = canonicalPath(path)
		for _, g := range p.table.limits {
			if prefixMatches(g.prefix, path) {
				return Limit{Key: g.prefix, Rates: g.rates}
			}
		}
	}
	return Limit{Key: p.holdKey}
}

// prefixMatches reports whether path is prefix or lies below it, at a
// segment boundary: "/graph" matches /graph and /graph/…, never /graphql,
// and "/graph/" matches /graph too. Routes and rate limits match alike.
func prefixMatches(prefix, path string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix) || path+"/" == prefix
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// canonicalPath lower-cases path and collapses repeated slashes, so that
// /API//Incidents counts against /api/incidents.
func canonicalPath(p string) string {
	p = strings.ToLower(p)
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

// Rate allows at most N requests in any window of Per.
type Rate struct {
	// N is how many requests may pass in a window.
	N int
	// Per is the window.
	Per time.Duration
}

// Limit is what one request counts against.
type Limit struct {
	// Key names the limit and the holds an upstream 429 puts on it: the
	// matching rate-limit prefix, else "route:" and the route's name.
	Key string
	// Rates are the tenant's rates for Key; empty when only holds apply.
	Rates []Rate
}
