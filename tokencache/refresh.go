package tokencache

import (
	"context"
	"slices"
	"time"
)

// refreshAsync starts a background refresh of e, whose state is s,
// unless one is running.
func (c *Cache) refreshAsync(e *entry, s *state) {
	if !e.refreshing.CompareAndSwap(false, true) {
		return
	}
	if !c.track() {
		e.refreshing.Store(false)
		return
	}
	go func() {
		defer c.wg.Done()
		_, _ = c.acquire(c.ctx, e, s)
		e.refreshing.Store(false)
	}()
}

// RefreshDue acquires, a few at a time, every token that is due for
// refresh (or failed and whose backoff has passed), and returns when they
// are done or ctx is. The background refresher calls it periodically.
func (c *Cache) RefreshDue(ctx context.Context) {
	now := c.clock.Now()
	var due []*entry
	for _, e := range *c.entries.Load() {
		// A shared failure whose recheck is due is looked up again, so
		// that a retry on another replica reaches an idle one too.
		if s := e.state.Load(); s != nil && (s.due(now) || s.err() != nil && !s.fail.recheckAt.IsZero() && !s.backingOff(now)) {
			due = append(due, e)
		}
	}
	c.acquireAll(ctx, due)
}

// Warm acquires tokens for every tenant in tenantIDs and scope, a few at a
// time, and returns when each has been tried once (or ctx is done). Keys
// with a usable token are skipped.
func (c *Cache) Warm(ctx context.Context, tenantIDs []string, scope string) {
	keys := make([]Key, len(tenantIDs))
	for i, id := range tenantIDs {
		keys[i] = Key{TenantID: id, Scope: scope}
	}
	keys = slices.DeleteFunc(keys, func(k Key) bool { return !c.isAllowed(k.TenantID) })
	now := c.clock.Now()
	var todo []*entry
	for _, e := range c.addEntries(keys) {
		if s := e.state.Load(); s == nil || s.due(now) {
			todo = append(todo, e)
		}
	}
	c.acquireAll(ctx, todo)
}

// acquireAll acquires entries, at most Concurrency at a time, and returns
// when all are done or ctx is.
func (c *Cache) acquireAll(ctx context.Context, entries []*entry) {
	sem := make(chan struct{}, c.opts.Concurrency)
	done := make(chan struct{}, len(entries))
	started := 0
	for _, e := range entries {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		started++
		go func() {
			_, _ = c.acquire(ctx, e, e.state.Load())
			<-sem
			done <- struct{}{}
		}()
	}
	for ; started > 0; started-- {
		<-done
	}
}

// sweep runs RefreshDue every interval until Close.
func (c *Cache) sweep(interval time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.RefreshDue(c.ctx)
		}
	}
}
