package tokencache

import (
	"time"
)

// forcedRefreshInterval is the least time between two tokens of one
// (tenant, scope) dropped because the upstream refused them: an endpoint
// that refuses every token must not turn each request into a token
// request.
const forcedRefreshInterval = 30 * time.Second

// Invalidate reports whether a request refused with token should be sent
// again with the tenant's next token, and if so drops token when it is
// still the one held, so the next look-up acquires a new one. It refuses
// (keeping the token) while Entra ID is in backoff, and when a token of
// the same key was dropped less than 30 s ago. A newer token is left
// alone, so many requests refused at once cause one acquisition.
func (c *Cache) Invalidate(tenantID, scope, token string) bool {
	e, ok := (*c.entries.Load())[Key{TenantID: tenantID, Scope: scope}]
	if !ok {
		return false
	}
	now := c.clock.Now()
	// replaced reports whether the state no longer holds token and a
	// usable (or pending) replacement is there to retry with.
	replaced := func(cur *state) bool {
		return cur != nil && cur.token.Value != token && (cur.usable(now) || cur.token.Value == "" && cur.err == nil)
	}
	s := e.state.Load()
	if s == nil || now.Before(s.retryAt) {
		return false
	}
	if s.token.Value != token {
		return replaced(s)
	}
	if last := e.lastForced.Load(); last != 0 && now.Sub(time.Unix(0, last)) < forcedRefreshInterval {
		return replaced(e.state.Load()) // dropped recently: only a drop of this very token allows a retry
	}
	// Drop the token first, then note the time: whoever sees true finds
	// the token gone.
	if e.state.CompareAndSwap(s, &state{failures: s.failures}) {
		e.lastForced.Store(now.UnixNano())
		return true
	}
	return replaced(e.state.Load())
}
