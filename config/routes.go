package config

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Route sends requests whose path starts with Prefix to another upstream,
// with its own token scope.
type Route struct {
	// Prefix is the path prefix that selects the route, such as "/graph/".
	Prefix string
	// URL is the upstream; Prefix is replaced by URL's path ("/" when it
	// is empty).
	URL *url.URL
	// Scope is the scope of the tokens the route's requests carry.
	Scope string
}

// ParseRoutes parses XDRPROXY_ROUTES: a comma list of PREFIX=URL or
// PREFIX=URL|SCOPE. The result is ordered longest prefix first, the order
// in which routes are matched.
func ParseRoutes(list string) ([]Route, error) {
	var routes []Route
	var problems []string
	seen := map[string]bool{}
	for _, entry := range commaList(list) {
		r, err := parseRoute(entry)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if seen[r.Prefix] {
			problems = append(problems, fmt.Sprintf("prefix %s is routed twice", r.Prefix))
			continue
		}
		seen[r.Prefix] = true
		routes = append(routes, r)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	sort.SliceStable(routes, func(i, j int) bool { return len(routes[i].Prefix) > len(routes[j].Prefix) })
	return routes, nil
}

func parseRoute(entry string) (Route, error) {
	prefix, rest, ok := strings.Cut(entry, "=")
	if !ok {
		return Route{}, fmt.Errorf("%s is not PREFIX=URL or PREFIX=URL|SCOPE", shownURL(entry))
	}
	prefix = strings.TrimSpace(prefix)
	if !strings.HasPrefix(prefix, "/") || len(prefix) < 2 {
		return Route{}, fmt.Errorf("prefix %q must start with / and name something, such as /graph/", prefix)
	}
	if hasDotSegmentOrQuery(prefix) {
		return Route{}, fmt.Errorf("prefix %q must be a plain path", prefix)
	}
	if strings.HasPrefix(prefix+"/", "/tenants/") {
		return Route{}, fmt.Errorf("prefix %q clashes with the /tenants/{tenant}/ prefix", prefix)
	}
	rawURL, scope, _ := strings.Cut(rest, "|")
	u, err := parseUpstreamURL(rawURL)
	if err != nil {
		return Route{}, fmt.Errorf("route %s: %v", prefix, err)
	}
	scope = strings.TrimSpace(scope)
	if scope == "" {
		scope = u.Scheme + "://" + u.Host + "/.default"
	} else if strings.ContainsAny(scope, " \t") {
		return Route{}, fmt.Errorf("route %s: scope %q must be one scope", prefix, scope)
	}
	return Route{Prefix: prefix, URL: u, Scope: scope}, nil
}

func hasDotSegmentOrQuery(p string) bool {
	if strings.ContainsAny(p, "?#%\\ ") {
		return true
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
