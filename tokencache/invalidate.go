package tokencache

import "time"

// Invalidate reports whether a request refused with token should be sent
// again with the tenant's next token, and if so drops token when it is
// still the one held, so the next look-up acquires a new one. It refuses
// (keeping the token) while Entra ID is in backoff, and when a token of
// the same key was dropped less than 30 s ago. A newer token is left
// alone, so many requests refused at once cause one acquisition. A dropped
// token is also forgotten by the Store, so no replica hands it out again.
func (c *Cache) Invalidate(tenantID, scope, token string) bool {
	e, ok := (*c.entries.Load())[Key{TenantID: tenantID, Scope: scope}]
	if !ok {
		return false
	}
	now := c.clock.Now()
	// replaced reports whether the state no longer holds token and a
	// usable (or pending) replacement is there to retry with.
	replaced := func(cur *state) bool {
		return cur != nil && cur.token.Value != token && (cur.usable(now) || cur.token.Value == "" && cur.err() == nil)
	}
	s := e.state.Load()
	if s == nil || now.Before(s.retryAt()) {
		return false
	}
	if s.token.Value != token {
		return replaced(s)
	}
	if !mayForceRefresh(now, e.lastForcedAt()) {
		return replaced(e.state.Load()) // dropped recently: only a drop of this very token allows a retry
	}
	// Drop the token first, then note the time: whoever sees true finds
	// the token gone.
	if e.state.CompareAndSwap(s, state{}.withFailure(failure{failures: s.failed().failures})) {
		e.lastForced.Store(now.UnixNano())
		c.store.Forget(e.key, token)
		return true
	}
	return replaced(e.state.Load())
}

// lastForcedAt returns when Invalidate last dropped a token of e, or zero.
func (e *entry) lastForcedAt() time.Time {
	if ns := e.lastForced.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}
