package tokencache

import (
	"context"
	"time"
)

// RetryFailedNow ends every failure backoff, here and in the Store, so
// that keys that failed are tried again by the next look-up or
// RefreshDue: for after a fix such as a rotated credential. Held tokens
// are kept.
func (c *Cache) RetryFailedNow() {
	for _, e := range *c.entries.Load() {
		c.forgetFailure(e)
	}
}

// RetryFailed ends every failure backoff, here and in the Store, and
// tries every key that failed again now, a few at a time, returning when
// each has been tried or ctx is done: for SIGHUP, after an operator fixed
// what the failures said (a consent given, a credential replaced).
func (c *Cache) RetryFailed(ctx context.Context) {
	var failed []*entry
	for _, e := range *c.entries.Load() {
		if c.forgetFailure(e) {
			failed = append(failed, e)
		}
	}
	c.acquireAll(ctx, failed)
}

// Retry forgets tenantID's remembered failures for scopes, here and in
// the Store, and acquires each of its tokens for scopes that is missing
// or failing now, returning when each has been tried or ctx is done: the
// step after a customer's admin consents. Look at Status for the
// outcome. A tenant the Cache does not serve is ErrTenantNotServed.
func (c *Cache) Retry(ctx context.Context, tenantID string, scopes []string) error {
	if !c.isAllowed(tenantID) {
		return ErrTenantNotServed
	}
	keys := make([]Key, len(scopes))
	for i, scope := range scopes {
		keys[i] = Key{TenantID: tenantID, Scope: scope}
	}
	now := c.clock.Now()
	var todo []*entry
	fetched := map[*entry]int64{}
	for _, e := range c.addEntries(keys) {
		if !c.forgetFailure(e) {
			// This replica holds a token, or never tried: the fleet may
			// still remember another replica's failure.
			c.store.ForgetFailure(e.key)
		}
		if s := e.state.Load(); s == nil || s.due(now) {
			todo = append(todo, e)
			fetched[e] = e.fetches.Load()
		}
	}
	c.acquireAll(ctx, todo)
	// An acquisition that was already in flight (begun before the admin
	// consented) may have answered: try once more those that failed
	// without a fetch begun after the retry.
	var again []*entry
	for _, e := range todo {
		if s := e.state.Load(); s != nil && s.err() != nil && e.fetches.Load() == fetched[e] && c.forgetFailure(e) {
			again = append(again, e)
		}
	}
	c.acquireAll(ctx, again)
	return ctx.Err()
}

// forgetFailure ends e's failure backoff and failure count, and asks the
// Store to forget the failure too; a token that is failing to refresh is
// made due at once. It reports whether e had failed.
func (c *Cache) forgetFailure(e *entry) bool {
	for {
		s := e.state.Load()
		if s == nil || s.err() == nil {
			return false
		}
		next := s.withFailure(failure{err: s.fail.err}) // a fix starts the backoff afresh
		if next.token.Value != "" {
			next.refreshAt = time.Time{}
		}
		if e.state.CompareAndSwap(s, next) {
			c.store.ForgetFailure(e.key)
			return true
		}
	}
}
