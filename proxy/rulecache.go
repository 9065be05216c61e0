package proxy

import (
	"sync"
	"sync/atomic"

	"github.com/xdrproxy/xdrproxy/connguard"
	"github.com/xdrproxy/xdrproxy/proxy/pagelinks"
)

// maxCachedRules bounds the paging-link rules kept compiled. A key is a
// route, the origin the client reached and its /tenants/ prefix as
// spelled; clients choose the last two, so past this many, rules are
// compiled for each answer that needs them, as before there was a cache.
const maxCachedRules = 256

// ruleKey names the paging-link rules of an answer: what linkRules builds
// them from, without building the origin's string.
type ruleKey struct {
	links        *linkTarget // the route's link targets, by their first
	tls          bool        // the client reached the proxy over TLS
	host         string      // the client's Host; "" with Options.PublicURL
	tenantPrefix string
}

// ruleCache keeps compiled paging-link rules. Lookups take no lock: the
// map is replaced whole, under mu, when a key is added.
type ruleCache struct {
	m  atomic.Pointer[map[ruleKey]*pagelinks.Rules]
	mu sync.Mutex
}

// noRules rewrite nothing: a route whose upstream no route reaches back.
var noRules = pagelinks.Compile()

// pagingRules returns the compiled rules that rewrite f's paging links.
func (h *Handler) pagingRules(f *forward) *pagelinks.Rules {
	if len(f.links) == 0 {
		return noRules
	}
	key := ruleKey{links: &f.links[0], tenantPrefix: f.tenantPrefix}
	if h.opts.PublicURL == nil {
		key.tls, key.host = connguard.TLSState(f.client) != nil, f.client.Host
	}
	if m := h.rules.m.Load(); m != nil {
		if rs, ok := (*m)[key]; ok {
			return rs
		}
	}
	rs := pagelinks.Compile(linkRules(f, h.origin(f.client))...)
	h.rules.add(key, rs)
	return rs
}

// add keeps rs under key while there is room.
func (c *ruleCache) add(key ruleKey, rs *pagelinks.Rules) {
	if p := c.m.Load(); p != nil && len(*p) >= maxCachedRules {
		return // full: no lock for every answer of the tenants beyond it
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[ruleKey]*pagelinks.Rules
	if p := c.m.Load(); p != nil {
		old = *p
	}
	if len(old) >= maxCachedRules {
		return
	}
	next := make(map[ruleKey]*pagelinks.Rules, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[key] = rs
	c.m.Store(&next)
}
