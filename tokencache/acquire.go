package tokencache

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"
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

// acquire joins or starts the key's acquisition and returns the channel
// that receives its result. The acquisition runs under the cache's
// context, so a caller that gives up does not cancel it for the others.
func (c *Cache) acquire(e *entry) <-chan singleflight.Result {
	return c.flight.DoChan(e.flightKey, func() (any, error) {
		// Register with Close under mu, so that Close's Wait sees every
		// acquisition that started before it.
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return Token{}, errClosed
		}
		c.wg.Add(1)
		c.mu.Unlock()
		defer c.wg.Done()
		return c.fetchUnlessFresh(e)
	})
}

// fetchUnlessFresh returns the outcome of an acquisition that finished
// between the caller's look-up and its joining the flight, else fetches.
func (c *Cache) fetchUnlessFresh(e *entry) (Token, error) {
	now := c.clock.Now()
	if s := e.state.Load(); s != nil && !s.due(now) {
		if s.usable(now) {
			return s.token, nil
		}
		if s.err != nil {
			return Token{}, s.err
		}
	}
	return c.fetch(e)
}

// errExpiredToken is recorded when Entra ID hands out a token that is
// already (or almost) expired, which happens when this machine's clock is
// far ahead; treating it as a failure gives it the failure backoff.
var errExpiredToken = errors.New("Entra ID issued a token that is already expired by this machine's clock: check the system time")

// fetch asks the source for a token and records the outcome in e.
func (c *Cache) fetch(e *entry) (Token, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.FetchTimeout)
	defer cancel()
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
		failures := prev.failures + 1
		wait := c.backoffFor(err, failures)
		next := &state{err: err, failures: failures, retryAt: now.Add(wait)}
		if prev.usable(now) {
			// Keep serving the old token while it lasts.
			next.token, next.usableUntil, next.refreshAt = prev.token, prev.usableUntil, prev.refreshAt
		}
		e.state.Store(next)
		if c.opts.Observe != nil && c.ctx.Err() == nil {
			c.opts.Observe(e.key, time.Time{}, err)
		}
		if c.ctx.Err() == nil { // a fetch cut short by Close is not news
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
		}
		return Token{}, err
	}
	refreshAt := jitteredRefreshTime(now, tok.ExpiresOn, tok.RefreshOn, c.opts.Rand())
	claims, _ := DecodeClaims(tok.Value)
	e.state.Store(&state{
		token:       tok,
		roles:       claims.Roles,
		usableUntil: usableUntil(now, tok.ExpiresOn),
		refreshAt:   refreshAt,
	})
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
