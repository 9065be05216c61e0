package tokencache

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// BackoffError is a recent acquisition failure returned again, without
// asking Entra ID, while its backoff lasts.
type BackoffError struct {
	// Err is the remembered failure.
	Err error
	// RetryIn is how long until the next attempt.
	RetryIn time.Duration
}

// Error returns the remembered failure's message.
func (e *BackoffError) Error() string { return e.Err.Error() }

// Unwrap returns the remembered failure.
func (e *BackoffError) Unwrap() error { return e.Err }

// acquire gets e's token through the store, which runs fetchTracked
// under a context no caller owns, so a caller that gives up does not
// cancel the acquisition for the others. before is the state of e the
// caller looked at.
func (c *Cache) acquire(ctx context.Context, e *entry, before *state) (Token, error) {
	tok, err := c.store.Acquire(ctx, e.key, func(ctx context.Context, prior int) (Token, error) {
		return c.fetchTracked(ctx, e, prior)
	})
	var f *Failure
	if errors.As(err, &f) {
		return c.adoptFailure(e, f)
	}
	if err != nil {
		return Token{}, err
	}
	return c.adopt(e, before, tok)
}

// adoptFailure returns what a caller gets for f. A failure of this
// Cache's own fetch is returned as it was; one the store handed out from
// another replica is kept in e, with its backoff, so that this Cache too
// waits it out without asking the store again, and returned as a
// *BackoffError, unless a token is still usable (this Cache's, or the
// fleet's in f.Token), which is then served while the failure lasts.
func (c *Cache) adoptFailure(e *entry, f *Failure) (Token, error) {
	prev := e.state.Load()
	now := c.clock.Now()
	if prev != nil && prev.err() == f.Err {
		if pf := prev.fail; pf != nil && !pf.recheckAt.IsZero() && !now.Before(pf.recheckAt) {
			nf := *pf // the store could not tell more: look again later
			nf.recheckAt = c.recheckTime(f.Err, now)
			e.state.CompareAndSwap(prev, prev.withFailure(nf))
		}
		return Token{}, f.Err // this Cache's own
	}
	if !now.Before(f.RetryAt) {
		return Token{}, f.Err
	}
	next := &state{fail: &failure{err: f.Err, failures: f.Failures, retryAt: f.RetryAt, recheckAt: c.recheckTime(f.Err, now)}}
	switch {
	case prev != nil && prev.usable(now):
		next.token, next.usableUntil, next.refreshAt = prev.token, prev.usableUntil, prev.refreshAt
	case f.Token.Value != "" && now.Before(usableUntil(now, f.Token.ExpiresOn)):
		// The fleet's token, still usable although its refresh failed:
		// due at once, the backoff deciding when it is next tried.
		next.token, next.usableUntil, next.refreshAt = f.Token, usableUntil(now, f.Token.ExpiresOn), now
	}
	if e.state.CompareAndSwap(prev, next) {
		c.log.Debug("token acquisition failure taken from the store",
			zap.String("tenant", e.key.TenantID),
			zap.String("scope", e.key.Scope),
			zap.Int("consecutive_failures", f.Failures),
			zap.Duration("retry_in", f.RetryAt.Sub(now)))
	}
	if next.token.Value != "" {
		return next.token, nil
	}
	return Token{}, &BackoffError{Err: f.Err, RetryIn: f.RetryAt.Sub(now)}
}

// adopt keeps in e a token the store handed out without this cache
// fetching it (one another replica acquired). If e changed since before,
// the token is e's own acquisition's, or something newer (an
// acquisition, Invalidate, SetTenants) wins, and e is left alone.
func (c *Cache) adopt(e *entry, before *state, tok Token) (Token, error) {
	if e.state.Load() != before || before != nil && before.token.Value == tok.Value {
		return tok, nil
	}
	now := c.clock.Now()
	if !now.Before(usableUntil(now, tok.ExpiresOn)) {
		return Token{}, errExpiredToken
	}
	if !c.isAllowed(e.key.TenantID) {
		return Token{}, ErrTenantNotServed
	}
	if e.state.CompareAndSwap(before, c.freshState(tok, now)) {
		c.log.Debug("token taken from the store",
			zap.String("tenant", e.key.TenantID),
			zap.String("scope", e.key.Scope),
			zap.Time("expires", tok.ExpiresOn))
	}
	return tok, nil
}

// fetchTracked runs fetchUnlessFresh as an acquisition that Close cancels
// and waits for, bounded by FetchTimeout.
func (c *Cache) fetchTracked(ctx context.Context, e *entry, prior int) (Token, error) {
	if !c.track() {
		return Token{}, errClosed
	}
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(ctx, c.opts.FetchTimeout)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()
	return c.fetchUnlessFresh(ctx, e, prior)
}

// fetchUnlessFresh returns the outcome of an acquisition that finished
// between the caller's look-up and its joining the flight, or a failure
// still backing off, else fetches. A shared failure the fleet no longer
// remembers (prior is not NoFleetState) was forgotten by a retry: it is
// fetched at once.
func (c *Cache) fetchUnlessFresh(ctx context.Context, e *entry, prior int) (Token, error) {
	now := c.clock.Now()
	if s := e.state.Load(); s != nil && !s.due(now) {
		if s.usable(now) {
			return s.token, nil
		}
		sf := s.failed()
		forgotten := prior != NoFleetState && !sf.recheckAt.IsZero()
		if sf.err != nil && !forgotten {
			return Token{}, &Failure{Err: sf.err, Failures: sf.failures, RetryAt: sf.retryAt}
		}
		if sf.err != nil && prior == 0 { // a retry: the backoff starts afresh
			sf.failures = 0
			e.state.CompareAndSwap(s, s.withFailure(sf))
		}
	}
	return c.fetch(ctx, e, prior)
}

// recheckTime is when a failure err met at now is next looked up in a
// shared store; zero (never: wait out the backoff) for the in-process
// store and for failures that are not shared.
func (c *Cache) recheckTime(err error, now time.Time) time.Time {
	if c.sharedStore && Shareable(err) {
		return now.Add(sharedRecheck)
	}
	return time.Time{}
}

// errExpiredToken is recorded when Entra ID hands out a token that is
// already (or almost) expired, which happens when this machine's clock is
// far ahead; treating it as a failure gives it the failure backoff.
var errExpiredToken = errors.New("Entra ID issued a token that is already expired by this machine's clock: check the system time")

// fetch asks the source for a token and records the outcome in e, a
// failure counted after prior ones (the store's) as a *Failure.
func (c *Cache) fetch(ctx context.Context, e *entry, prior int) (Token, error) {
	e.fetches.Add(1)
	start := c.clock.Now()
	tok, err := c.src.Token(ctx, e.key.TenantID, e.key.Scope)
	now := c.clock.Now()
	if err == nil && !now.Before(usableUntil(now, tok.ExpiresOn)) {
		err = errExpiredToken
	}
	if !c.isAllowed(e.key.TenantID) {
		return Token{}, ErrTenantNotServed // removed while the request was in flight: keep nothing
	}
	prev := e.state.Load()
	if prev == nil {
		prev = &state{}
	}
	if err != nil {
		return Token{}, c.recordFailure(e, prev, prior, err, now)
	}
	e.state.Store(c.freshState(tok, now))
	if c.opts.Observe != nil {
		c.opts.Observe(e.key, tok.ExpiresOn, nil)
	}
	c.log.Info("token acquired",
		zap.String("tenant", e.key.TenantID),
		zap.String("scope", e.key.Scope),
		zap.Time("expires", tok.ExpiresOn),
		zap.Duration("took", now.Sub(start)),
		zap.Bool("refresh", prev.token.Value != ""))
	return tok, nil
}

// freshState is the state of a key that got tok at now.
func (c *Cache) freshState(tok Token, now time.Time) *state {
	return &state{
		token:       tok,
		usableUntil: usableUntil(now, tok.ExpiresOn),
		refreshAt:   jitteredRefreshTime(now, tok.ExpiresOn, tok.RefreshOn, c.opts.Rand()),
	}
}

// recordFailure records in e, whose state was prev, the failure err at
// now, counted after prior ones the store knows of, with its backoff,
// keeping prev's token while it lasts, and returns it as a *Failure.
func (c *Cache) recordFailure(e *entry, prev *state, prior int, err error, now time.Time) *Failure {
	failures := max(prev.failed().failures, prior) + 1
	wait := c.backoffFor(err, failures)
	next := &state{fail: &failure{err: err, failures: failures, retryAt: now.Add(wait), recheckAt: c.recheckTime(err, now)}}
	f := &Failure{Err: err, Failures: failures, RetryAt: next.fail.retryAt}
	if prev.usable(now) {
		// Keep serving the old token while it lasts.
		next.token, next.usableUntil, next.refreshAt = prev.token, prev.usableUntil, prev.refreshAt
	}
	e.state.Store(next)
	if c.ctx.Err() != nil {
		return f // a fetch cut short by Close is not news
	}
	if c.opts.Observe != nil {
		c.opts.Observe(e.key, time.Time{}, err)
	}
	class := ClassUnknown
	var ae *AcquisitionError
	if errors.As(err, &ae) {
		class = ae.Class()
	}
	c.log.Warn("token acquisition failed",
		zap.String("class", string(class)),
		zap.String("tenant", e.key.TenantID),
		zap.String("scope", e.key.Scope),
		zap.Int("consecutive_failures", failures),
		zap.Duration("retry_in", wait),
		zap.Bool("serving_previous_token", next.token.Value != ""),
		zap.Error(err))
	return f
}

// backoffFor returns how long to wait before the next attempt after the
// nth consecutive failure, err: long for failures that need a person,
// short for passing ones, and never shorter than Entra ID's Retry-After.
func (c *Cache) backoffFor(err error, n int) time.Duration {
	var ae *AcquisitionError
	if errors.As(err, &ae) && !ae.Transient() {
		return retryDelay(n, c.opts.PermanentMinBackoff, c.opts.PermanentMaxBackoff, 0, c.opts.Rand())
	}
	var retryAfter time.Duration
	if ae != nil {
		retryAfter = ae.RetryAfter
	}
	return retryDelay(n, c.opts.MinBackoff, c.opts.MaxBackoff, retryAfter, c.opts.Rand())
}
