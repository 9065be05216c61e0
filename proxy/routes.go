package proxy

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
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
	match   string   // foldPath(prefix): what canonical paths are matched against
	depth   int      // how many segments the prefix covers, its trailing slash aside
	holdKey string   // "route:" + prefix: what an upstream 429 holds when no limit prefix matches
	origin  *url.URL // the route URL's scheme and host
	base    string   // what replaces prefix: the route URL's path, ending in "/" when prefix does
	rawBase string   // base, escaped
	links   []linkTarget
	scope   string
}

// limitGroup is every rate of one prefix; prefixes are lower case,
// longest first.
type limitGroup struct {
	prefix string
	match  string // foldPath(prefix)
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
	seen := map[string]string{}
	for _, r := range routes {
		if r.URL == nil || r.Scope == "" || r.Prefix == "" {
			return nil, fmt.Errorf("proxy: route %q needs a prefix, URL and scope", r.Prefix)
		}
		// Prefixes match in any case: /Graph/ and /graph/ are one.
		match := foldPath(r.Prefix)
		if other, ok := seen[match]; ok {
			if other == r.Prefix {
				return nil, fmt.Errorf("proxy: prefix %q is routed twice", r.Prefix)
			}
			return nil, fmt.Errorf("proxy: prefixes %q and %q are routed twice: paths match in any case", other, r.Prefix)
		}
		seen[match] = r.Prefix
		// The base takes the prefix's place, slash for slash: /graph/
		// for https://graph.microsoft.com is "/", /graph is "".
		base := strings.TrimSuffix(r.URL.Path, "/")
		if strings.HasSuffix(r.Prefix, "/") {
			base += "/"
		}
		rt.routes = append(rt.routes, route{prefix: r.Prefix, match: match, depth: strings.Count(strings.TrimSuffix(match, "/"), "/"),
			holdKey: "route:" + r.Prefix, origin: &url.URL{Scheme: r.URL.Scheme, Host: r.URL.Host},
			base: base, rawBase: (&url.URL{Path: base}).EscapedPath(), scope: r.Scope})
	}
	// Longest first, as folded: what a canonical path is matched against.
	slices.SortStableFunc(rt.routes, func(a, b route) int { return cmp.Compare(len(b.match), len(a.match)) })
	rt.compileLinks()
	for _, l := range limits {
		rate := Rate{N: l.N, Per: l.Per}
		if n := len(rt.limits); n > 0 && rt.limits[n-1].prefix == l.Prefix {
			rt.limits[n-1].rates = append(rt.limits[n-1].rates, rate)
			continue
		}
		rt.limits = append(rt.limits, limitGroup{prefix: l.Prefix, match: foldPath(l.Prefix), rates: []Rate{rate}})
	}
	slices.SortStableFunc(rt.limits, func(a, b limitGroup) int { return cmp.Compare(len(b.match), len(a.match)) })
	return rt, nil
}

// pick chooses the upstream and scope of t's path, by its canonical form,
// and sets the path to forward: the client's spelling, with a route's
// prefix replaced by the route URL's path.
func (rt *routeTable) pick(t *target) pick {
	t.rawPath = t.req.escaped
	i := rt.find(t.req.canon)
	var p pick
	if i < 0 {
		p = pick{name: "default", holdKey: "route:default", upstream: rt.upstream, scope: rt.scope, table: rt, links: rt.defaultLinks}
	} else {
		r := &rt.routes[i]
		t.rawPath = r.forwardPath(t.rawPath, r.rawBase)
		p = pick{name: r.prefix, holdKey: r.holdKey, upstream: r.origin, scope: r.scope, table: rt, links: r.links}
	}
	t.path, _ = url.PathUnescape(t.rawPath) // admitted by parsePath: valid
	return p
}

// find returns the index of the route of the canonical path, longest
// prefix first, or -1 when the default upstream applies.
func (rt *routeTable) find(canon string) int {
	for i := range rt.routes {
		if prefixMatches(rt.routes[i].match, canon) {
			return i
		}
	}
	return -1
}

// match returns the index of the route of the canonical path, and the
// path to forward; ok is false when the default upstream applies.
func (rt *routeTable) match(path string) (i int, forwardPath string, ok bool) {
	if i = rt.find(path); i < 0 {
		return -1, path, false
	}
	r := &rt.routes[i]
	return i, r.forwardPath(path, r.base), true
}

// forwardPath is p, a path the route matched in any spelling, with the
// segments of the route's prefix replaced by base.
func (r *route) forwardPath(p, base string) string {
	rest := p[afterSegments(p, r.depth):]
	if rest == "" {
		rest = base[len(strings.TrimSuffix(base, "/")):] // "/graph" for /graph/ forwards base itself
	}
	fwd := strings.TrimSuffix(base, "/") + rest
	if fwd == "" {
		return "/"
	}
	return fwd
}

// limitFor returns what a request for path (as the client sent it, after
// any /tenants/ prefix) counts against: the rates of the longest matching
// limit prefix (respecting segment boundaries, ignoring case and repeated
// slashes, as the upstream does), else none, and the route's hold.
func (p pick) limitFor(path string) Limit {
	if len(p.table.limits) > 0 {
		path = limitPath(path)
		for _, g := range p.table.limits {
			if prefixMatches(g.match, path) {
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

// limitPath folds the case of path (foldPath; a canonical path already
// is) and collapses repeated slashes, so that /API//Incidents counts
// against /api/incidents.
func limitPath(p string) string {
	p = foldPath(p)
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
