// Package tokencache keeps one access token per (tenant, scope), acquired
// from a Source such as MSAL Go's confidential client, so that a proxy can
// attach a token to every request without waiting on Entra ID.
//
// A cached token costs two atomic loads and a map look-up (no lock). Tokens
// are refreshed in the background when a quarter of their lifetime remains;
// while a refresh fails, the old token is served until it expires. At most
// one acquisition per (tenant, scope) is in flight, however many requests
// wait for it, and a failure is remembered with exponential backoff, so a
// tenant without consent cannot make the proxy hammer Entra ID. Who
// acquires a missing token, and whether tokens are shared beyond the
// process, is up to a Store; the default one is in-process.
package tokencache

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Clock tells the time. Tests pass a fake one.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

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
	// Store decides who acquires a token the Cache lacks and may keep
	// tokens beyond this process (a store shared by replicas). Nil means
	// the in-process store: tokens live only in this Cache, and one
	// acquisition per (tenant, scope) runs at a time.
	Store Store
}

// Cache holds tokens per (tenant, scope). It is safe for concurrent use.
type Cache struct {
	src   Source
	opts  Options
	clock Clock
	log   *zap.Logger
	store Store
	// sharedStore is true when store is not the in-process one: failures
	// it shares are looked up again every sharedRecheck.
	sharedStore bool

	// entries is copy-on-write: readers load the map without a lock;
	// writers (a key seen for the first time) copy it under mu.
	entries atomic.Pointer[map[Key]*entry]

	// allowed, when set, holds the tenants that may have tokens: a tenant
	// removed from service gets none, even from a request already past
	// the proxy's tenant check. Nil allows every tenant.
	allowed atomic.Pointer[map[string]struct{}]

	mu     sync.Mutex // guards writes to entries, closed, and wg.Add
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context // done at Close: ends acquisitions and the refresher
	cancel context.CancelFunc
}

// errClosed is returned by a Cache after Close.
var errClosed = errors.New("token cache is closed")

// New returns a Cache that acquires tokens from src and starts its
// background refresher. Call Close to stop it.
func New(src Source, opts Options) *Cache {
	opts = opts.withDefaults()
	_, local := opts.Store.(*localStore)
	c := &Cache{src: src, opts: opts, clock: opts.Clock, log: opts.Logger, store: opts.Store, sharedStore: !local}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	empty := map[Key]*entry{}
	c.entries.Store(&empty)
	if opts.SweepInterval > 0 {
		c.wg.Add(1)
		go c.sweep(opts.SweepInterval)
	}
	return c
}

// withDefaults returns opts with every zero field set to its default.
func (opts Options) withDefaults() Options {
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
	if opts.Store == nil {
		opts.Store = &localStore{}
	}
	return opts
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
	s := e.state.Load()
	if s != nil {
		if s.usable(now) {
			if s.refreshDue(now) {
				c.refreshAsync(e, s)
			}
			tok := s.token
			tok.Cached = true
			return tok, nil
		}
		if s.backingOff(now) {
			return Token{}, &BackoffError{Err: s.fail.err, RetryIn: s.fail.retryAt.Sub(now)}
		}
	}
	return c.acquire(ctx, e, s)
}

// track registers an acquisition or goroutine with Close, under mu so
// that Close's Wait sees every one that started before it; it returns
// false after Close. The caller calls c.wg.Done when it ends.
func (c *Cache) track() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
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
