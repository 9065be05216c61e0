package proxy

import (
	"cmp"
	"slices"
	"strings"

	"github.com/xdrproxy/xdrproxy/proxy/pagelinks"
)

// linkTarget is one way back through the proxy for a paging link: a link
// starting with from (an upstream origin and base path) is reached at the
// proxy under prefix.
type linkTarget struct {
	from, prefix string
}

// compileLinks gives the default route and every route the link targets
// of its upstream's origin: the route itself first, so a link under its
// base path keeps its route and scope; then the other routes on that
// origin, longest base path first, for a link outside it. A link of the
// origin outside every route's base path is left alone: no path through
// the proxy reaches it.
func (rt *routeTable) compileLinks() {
	type candidate struct {
		origin string
		linkTarget
	}
	all := []candidate{{originOf(rt.upstream.Scheme, rt.upstream.Host), linkTarget{strings.TrimSuffix(rt.upstream.String(), "/"), ""}}}
	for _, r := range rt.routes {
		all = append(all, candidate{originOf(r.origin.Scheme, r.origin.Host), linkTarget{r.origin.String() + r.base, r.prefix}})
	}
	targets := func(own candidate) []linkTarget {
		var out []candidate
		for _, c := range all {
			if c.origin == own.origin {
				out = append(out, c)
			}
		}
		slices.SortStableFunc(out, func(a, b candidate) int {
			if a == own || b == own {
				return cmp.Compare(btoi(b == own), btoi(a == own))
			}
			return cmp.Compare(len(b.from), len(a.from))
		})
		links := make([]linkTarget, len(out))
		for i, c := range out {
			links[i] = c.linkTarget
		}
		return links
	}
	rt.defaultLinks = targets(all[0])
	for i := range rt.routes {
		rt.routes[i].links = targets(all[i+1])
	}
}

// originOf is scheme://host in lower case, for comparing origins.
func originOf(scheme, host string) string {
	return strings.ToLower(scheme + "://" + host)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// linkRules are f's link targets as the rewriter's rules, each leading to
// origin, the client's /tenants/{t} prefix and the target's route prefix.
func linkRules(f *forward, origin string) []pagelinks.Rule {
	rules := make([]pagelinks.Rule, len(f.links))
	for i, l := range f.links {
		rules[i] = pagelinks.Rule{From: l.from, To: origin + f.tenantPrefix + l.prefix}
	}
	return rules
}
