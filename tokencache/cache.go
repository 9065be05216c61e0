// Package tokencache keeps one access token per (tenant, scope), acquired
// from a Source such as MSAL Go's confidential client, so that a proxy can
// attach a token to every request without waiting on Entra ID.
//
// A cached token costs two atomic loads and a map look-up (no lock). Tokens
// are refreshed in the background when a quarter of their lifetime remains;
// while a refresh fails, the old token is served until it expires. At most
// one acquisition per (tenant, scope) is in flight, however many requests
// wait for it, and a failure is remembered with exponential backoff, so a
// tenant without consent cannot make the proxy hammer Entra ID.
package tokencache

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"
)

// Token is an access token and its expiry.
type Token struct {
	// Value is the raw bearer token. It must never be logged.
	Value string
	// ExpiresOn is when the token expires.
	ExpiresOn time.Time
	// RefreshOn is Entra ID's refresh hint; zero when it gave none.
	RefreshOn time.Time
	// Cached is true when Cache.Token answered without waiting for an
	// acquisition.
	Cached bool
}

// String hides the token's value, so that printing a Token by mistake does
// not leak it.
func (t Token) String() string {
	return "Token{expires " + t.ExpiresOn.UTC().Format(time.RFC3339) + "}"
}

// GoString hides the token's value from %#v.
func (t Token) GoString() string { return t.String() }

// Source acquires a fresh access token for a tenant and scope. It is asked
// only when the cache needs a token; it must not cache on its own.
type Source interface {
	Token(ctx context.Context, tenantID, scope string) (Token, error)
}

// Clock tells the time. Tests pass a fake one.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Key names one cached token.
type Key struct {
	// TenantID is the tenant's GUID in lower case.
	TenantID string
	// Scope is the OAuth scope, such as https://api.security.microsoft.com/.default.
	Scope string
}

// Options tune a Cache. The zero value of every field picks a sensible
// default.
type Options struct {
	// Clock tells the time. Nil means the system clock.
	Clock Clock
	// Logger receives one line per acquisition. Nil means no logging.
	Logger *zap.Logger
	// MinBackoff is the wait after a first transient failure (throttling,
	// Entra ID faults, network). Zero means 5s.
	MinBackoff time.Duration
	// MaxBackoff caps the wait between transient failures. Zero means 2m.
	MaxBackoff time.Duration
	// PermanentMinBackoff is the wait after a first failure that needs a
	// person (no consent, wrong credential, unknown tenant). Zero means 1m.
	PermanentMinBackoff time.Duration
	// PermanentMaxBackoff caps the wait between such failures. Zero means
	// 30m: a broken tenant costs Entra ID two requests an hour.
	PermanentMaxBackoff time.Duration
	// FetchTimeout bounds one acquisition. Zero means 30s.
	FetchTimeout time.Duration
	// SweepInterval is how often the background refresher looks for
	// tokens due for refresh. Zero means 10s; negative disables the
	// background refresher (tests then call RefreshDue).
	SweepInterval time.Duration
	// Concurrency bounds the acquisitions the background refresher and
	// Warm run at once. Zero means 4.
	Concurrency int
	// Observe, if set, is called after every acquisition with its outcome:
	// nil err and the new token's expiry, or the failure. It must be
	// quick; metrics use it.
	Observe func(k Key, expires time.Time, err error)
	// Rand returns a number in [0, 1) for jitter: backoffs vary by ±20%
	// and refreshes start up to 10% of their margin early, so tenants
	// warmed together do not refresh or retry in lockstep. Nil means
	// math/rand/v2; tests pass a constant.
	Rand func() float64
}

// Cache holds tokens per (tenant, scope). It is safe for concurrent use.
type Cache struct {
	src    Source
	opts   Options
	clock  Clock
	log    *zap.Logger
	flight singleflight.Group

	// entries is copy-on-write: readers load the map without a lock;
	// writers (a key seen for the first time) copy it under mu.
	entries atomic.Pointer[map[Key]*entry]

	// allowed, when set, holds the tenants that may have tokens: a tenant
	// removed from service gets none, even from a request already past
	// the proxy's tenant check. Nil allows every tenant.
	allowed atomic.Pointer[map[string]bool]

	mu     sync.Mutex // guards writes to entries, closed, and wg.Add
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context // parent of every acquisition; no caller owns it
	cancel context.CancelFunc
}

// entry is one key's state. state is replaced whole, never mutated.
type entry struct {
	key        Key
	flightKey  string
	state      atomic.Pointer[state]
	refreshing atomic.Bool
	lastForced atomic.Int64 // unix ns of the last token dropped by Invalidate
}

type state struct {
	token       Token
	roles       []string // the token's roles claim
	usableUntil time.Time
	refreshAt   time.Time
	err         error     // the last failure, nil after a success
	retryAt     time.Time // no new attempt before this after a failure
	failures    int       // consecutive failures
}

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

// ErrTenantNotServed is returned for a tenant outside the set given to
// SetTenants.
var ErrTenantNotServed = errors.New("the tenant is not served")

// SetTenants limits the cache to the tenants ids, dropping every token of
// the others (with one copy of the map, however many are dropped). Until
// it is called, every tenant is allowed.
func (c *Cache) SetTenants(ids []string) {
	allowed := make(map[string]bool, len(ids))
	for _, id := range ids {
		allowed[id] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.allowed.Store(&allowed)
	old := *c.entries.Load()
	next := make(map[Key]*entry, len(old))
	for k, e := range old {
		if !allowed[k.TenantID] {
			e.state.Store(&state{}) // waiters holding the entry see no token
			continue
		}
		next[k] = e
	}
	c.entries.Store(&next)
}

func (c *Cache) isAllowed(tenantID string) bool {
	allowed := c.allowed.Load()
	return allowed == nil || (*allowed)[tenantID]
}

// errClosed is returned by a Cache after Close.
var errClosed = errors.New("token cache is closed")

// New returns a Cache that acquires tokens from src and starts its
// background refresher. Call Close to stop it.
func New(src Source, opts Options) *Cache {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 5 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 2 * time.Minute
	}
	if opts.PermanentMinBackoff <= 0 {
		opts.PermanentMinBackoff = time.Minute
	}
	if opts.PermanentMaxBackoff <= 0 {
		opts.PermanentMaxBackoff = 30 * time.Minute
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = 30 * time.Second
	}
	if opts.SweepInterval == 0 {
		opts.SweepInterval = 10 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	c := &Cache{src: src, opts: opts, clock: opts.Clock, log: opts.Logger}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	empty := map[Key]*entry{}
	c.entries.Store(&empty)
	if opts.SweepInterval > 0 {
		c.wg.Add(1)
		go c.sweep(opts.SweepInterval)
	}
	return c
}

// Token returns a usable token for the tenant and scope. A cached token is
// returned at once (starting a background refresh when it is due); with
// none, the caller waits for the one acquisition in flight, or until ctx is
// done. A recent failure is returned as is until its backoff has passed.
func (c *Cache) Token(ctx context.Context, tenantID, scope string) (Token, error) {
	if !c.isAllowed(tenantID) {
		return Token{}, ErrTenantNotServed
	}
	e := c.entry(Key{TenantID: tenantID, Scope: scope})
	now := c.clock.Now()
	if s := e.state.Load(); s != nil {
		if s.usable(now) {
			if !now.Before(s.refreshAt) && !now.Before(s.retryAt) {
				c.refreshAsync(e)
			}
			tok := s.token
			tok.Cached = true
			return tok, nil
		}
		if s.err != nil && now.Before(s.retryAt) {
			return Token{}, &BackoffError{Err: s.err, RetryIn: s.retryAt.Sub(now)}
		}
	}
	select {
	case r := <-c.acquire(e):
		if r.Err != nil {
			return Token{}, r.Err
		}
		return r.Val.(Token), nil
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

// entry returns the key's entry, creating it on first use.
func (c *Cache) entry(k Key) *entry {
	if e, ok := (*c.entries.Load())[k]; ok {
		return e
	}
	return c.addEntries([]Key{k})[0]
}

// addEntries returns the entries of keys, creating the missing ones with a
// single copy of the map, so that warming 10,000 tenants is one copy, not
// 10,000.
func (c *Cache) addEntries(keys []Key) []*entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.entries.Load()
	out := make([]*entry, len(keys))
	var next map[Key]*entry
	for i, k := range keys {
		if e, ok := old[k]; ok {
			out[i] = e
			continue
		}
		if next == nil {
			next = make(map[Key]*entry, len(old)+len(keys))
			for key, v := range old {
				next[key] = v
			}
		}
		if e, ok := next[k]; ok {
			out[i] = e
			continue
		}
		e := &entry{key: k, flightKey: k.TenantID + " " + k.Scope}
		next[k] = e
		out[i] = e
	}
	if next != nil {
		c.entries.Store(&next)
	}
	return out
}

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

// refreshAsync starts a background refresh of e unless one is running.
func (c *Cache) refreshAsync(e *entry) {
	if !e.refreshing.CompareAndSwap(false, true) {
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		e.refreshing.Store(false)
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	ch := c.acquire(e)
	go func() {
		defer c.wg.Done()
		<-ch
		e.refreshing.Store(false)
	}()
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
	refreshAt := refreshTime(now, tok.ExpiresOn, tok.RefreshOn)
	if margin := tok.ExpiresOn.Sub(refreshAt); margin > 0 {
		refreshAt = refreshAt.Add(-time.Duration(c.opts.Rand() * 0.1 * float64(margin)))
	}
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
	jitter := 0.8 + 0.4*c.opts.Rand() // ±20%
	var ae *AcquisitionError
	if errors.As(err, &ae) && !ae.Transient() {
		return time.Duration(jitter * float64(backoff(n, c.opts.PermanentMinBackoff, c.opts.PermanentMaxBackoff)))
	}
	wait := time.Duration(jitter * float64(backoff(n, c.opts.MinBackoff, c.opts.MaxBackoff)))
	if ae != nil && ae.RetryAfter > wait {
		wait = ae.RetryAfter
	}
	return wait
}

// usable reports whether s holds a token that may be handed out at now.
func (s *state) usable(now time.Time) bool {
	return s.token.Value != "" && now.Before(s.usableUntil)
}

// due reports whether e needs an acquisition at now: its token is due for
// refresh or gone, and no failure backoff is in force.
func (s *state) due(now time.Time) bool {
	if now.Before(s.retryAt) {
		return false
	}
	return s.token.Value == "" || !now.Before(s.refreshAt) || !now.Before(s.usableUntil)
}

// RefreshDue acquires, a few at a time, every token that is due for
// refresh (or failed and whose backoff has passed), and returns when they
// are done or ctx is. The background refresher calls it periodically.
func (c *Cache) RefreshDue(ctx context.Context) {
	now := c.clock.Now()
	var due []*entry
	for _, e := range *c.entries.Load() {
		if s := e.state.Load(); s != nil && s.due(now) {
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
		ch := c.acquire(e)
		go func() {
			select {
			case <-ch:
			case <-ctx.Done():
			}
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

// RetryFailedNow ends every failure backoff, so that keys that failed are
// tried again by the next look-up or RefreshDue: for after a fix such as a
// rotated credential. Held tokens are kept.
func (c *Cache) RetryFailedNow() {
	for _, e := range *c.entries.Load() {
		if s := e.state.Load(); s != nil && s.err != nil {
			next := *s
			next.retryAt, next.failures = time.Time{}, 0 // a fix starts the backoff afresh
			e.state.CompareAndSwap(s, &next)
		}
	}
}

// Len returns how many (tenant, scope) keys the cache holds.
func (c *Cache) Len() int { return len(*c.entries.Load()) }

// Status describes one cached key, for diagnostics. It never holds the
// token itself.
type Status struct {
	Key
	// HasToken says whether a usable token is held.
	HasToken bool
	// ExpiresOn is the held token's expiry; zero without one.
	ExpiresOn time.Time
	// RefreshAt is when the held token will be refreshed.
	RefreshAt time.Time
	// LastError is the last acquisition failure, nil after a success.
	LastError error
	// RetryAt is the earliest next attempt after a failure.
	RetryAt time.Time
	// Roles are the held token's roles claim.
	Roles []string
}

// Status returns the state of key k, and false if k was never asked for.
func (c *Cache) Status(k Key) (Status, bool) {
	e, ok := (*c.entries.Load())[k]
	if !ok {
		return Status{}, false
	}
	st := Status{Key: k}
	s := e.state.Load()
	if s == nil {
		return st, true
	}
	st.HasToken = s.usable(c.clock.Now())
	if st.HasToken {
		st.ExpiresOn, st.RefreshAt, st.Roles = s.token.ExpiresOn, s.refreshAt, s.roles
	}
	st.LastError, st.RetryAt = s.err, s.retryAt
	return st, true
}

// Close stops the background refresher, cancels acquisitions in flight and
// waits for every goroutine the cache started.
func (c *Cache) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}
