package fleet

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xdrproxy/xdrproxy/proxy"
)

// reserveScript admits one request under all of a limit's rates at once,
// timed on Redis's clock, as proxy's local limiter does in one process:
// each rate keeps the times of its last N admissions in a list, so at most
// N pass in any window of one unit, exactly. A request over a rate takes
// the first free slot of every rate and waits for it, up to the queue
// timeout; beyond that it is refused without taking one. A hold (its
// key's TTL, or the replica's own, ARGV[2]) delays the first slot.
//
// KEYS[1] is the hold; KEYS[2..] the windows. ARGV: queue timeout and own
// hold in microseconds, then for each window its N and its length in
// microseconds. It returns {admitted (1 or 0), wait in microseconds}.
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local at = now + tonumber(ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 and now + ttl * 1000 > at then at = now + ttl * 1000 end
for i = 2, #KEYS do
  local n = tonumber(ARGV[2 * i - 1])
  if redis.call('LLEN', KEYS[i]) >= n then
    local free = tonumber(redis.call('LINDEX', KEYS[i], -n)) + tonumber(ARGV[2 * i])
    if free > at then at = free end
  end
end
local wait = at - now
if wait > tonumber(ARGV[1]) then return {0, wait} end
for i = 2, #KEYS do
  local n = tonumber(ARGV[2 * i - 1])
  redis.call('RPUSH', KEYS[i], string.format('%d', at))
  redis.call('LTRIM', KEYS[i], -n, -1)
  redis.call('PEXPIRE', KEYS[i], math.ceil((wait + tonumber(ARGV[2 * i])) / 1000))
end
return {1, wait}
`)

// holdScript makes KEYS[1] live for at least ARGV[1] milliseconds.
var holdScript = redis.NewScript(`
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
`)

// LimiterOptions configures NewLimiter.
type LimiterOptions struct {
	// ClientID is the application's client ID: Microsoft's limits are
	// per (application, tenant), so its hash is part of every key and two
	// applications sharing a Redis never share a window.
	ClientID string
	// QueueTimeout is how long a request may wait for its turn; beyond it
	// the request is refused (XDRPROXY_QUEUE_TIMEOUT).
	QueueTimeout time.Duration
	// Fallback admits requests while Redis does not answer. Nil means
	// proxy.NewLocalLimiter(QueueTimeout, Now).
	Fallback proxy.Limiter
	// Now is the fallback's clock when Fallback is nil; nil means
	// time.Now. Windows and holds shared through Redis are timed on
	// Redis's clock, never on this one.
	Now func() time.Time
}

// Limiter is a proxy.Limiter shared by every replica that uses the same
// Redis and key prefix: each Reserve is one round trip running one atomic
// script, so at most N requests per window pass for a tenant and limit
// from the whole fleet, and a Hold is seen by every replica before its
// next request.
//
// While Redis does not answer, each replica admits with its own fallback
// limiter and the full per-tenant limit, not the limit divided by the
// number of replicas: an outage should cost latency and availability
// nothing, a replica cannot tell a Redis outage from being cut off alone
// (where a divided limit would starve it for no gain), and knowing the
// replica count would need a membership protocol through the very Redis
// that is down. The fleet can then exceed Microsoft's limit by up to the
// replica count; the 429s that follow put holds on each replica's
// fallback, which slow it down as they do a single process. Holds are
// also kept in the fallback, so they outlive a Redis that fails later.
type Limiter struct {
	c            *Client
	idHash       string // clientIDHash(LimiterOptions.ClientID)
	queueTimeout time.Duration
	fallback     proxy.Limiter
	fallbacks    atomic.Uint64
	reserves     *scriptBatcher
}

// NewLimiter returns a Limiter that keeps its windows and holds in c's
// Redis.
func NewLimiter(c *Client, opts LimiterOptions) *Limiter {
	fb := opts.Fallback
	if fb == nil {
		fb = proxy.NewLocalLimiter(opts.QueueTimeout, opts.Now)
	}
	return &Limiter{c: c, idHash: clientIDHash(opts.ClientID), queueTimeout: opts.QueueTimeout, fallback: fb,
		reserves: newScriptBatcher(c, reserveScript)}
}

// Close stops the goroutines that send admissions to Redis; later
// admissions use the fallback. Call it before closing the Client.
func (l *Limiter) Close() { l.reserves.close() }

// Up reports whether Redis answered the last call made to it.
func (l *Limiter) Up() bool { return l.c.Up() }

// Fallbacks returns how many calls the fallback answered because Redis
// did not.
func (l *Limiter) Fallbacks() uint64 { return l.fallbacks.Load() }

// windowKey names the admission times of tenant under key for one window.
func (l *Limiter) windowKey(tenant, key string, per time.Duration) string {
	return l.c.prefix + "limit:" + l.idHash + ":" + tenant + ":" + key + ":" + strconv.FormatInt(per.Milliseconds(), 10) + "ms"
}

// holdKey names what an upstream 429 holds.
func (l *Limiter) holdKey(tenant, key string) string {
	return l.c.prefix + "hold:" + l.idHash + ":" + tenant + ":" + key
}

// Reserve admits a request, as proxy.Limiter says, in one round trip,
// shared with the other requests waiting for Redis at the same moment.
func (l *Limiter) Reserve(tenant string, lim proxy.Limit) proxy.Admission {
	keys := make([]string, 1, 1+len(lim.Rates))
	keys[0] = l.holdKey(tenant, lim.Key)
	args := make([]any, 2, 2+2*len(lim.Rates))
	args[0] = l.queueTimeout.Microseconds()
	args[1] = l.fallback.HeldFor(tenant, lim).Microseconds()
	for _, r := range lim.Rates {
		keys = append(keys, l.windowKey(tenant, lim.Key, r.Per))
		args = append(args, r.N, r.Per.Microseconds())
	}
	res, err := l.reserves.run(keys, args)
	if err != nil || len(res) != 2 {
		l.fallbacks.Add(1)
		return l.fallback.Reserve(tenant, lim)
	}
	wait := time.Duration(res[1]) * time.Microsecond
	if res[0] == 0 {
		return proxy.Admission{Refused: true, RetryIn: wait}
	}
	return proxy.Admission{Wait: max(wait, 0)}
}

// Hold keeps requests of tenant under lim.Key from passing for d on
// every replica, timed on Redis's clock, and in the fallback.
func (l *Limiter) Hold(tenant string, lim proxy.Limit, d time.Duration) {
	l.fallback.Hold(tenant, lim, d)
	if d <= 0 {
		return
	}
	ms := (d + time.Millisecond - 1).Milliseconds()
	err := l.c.do(func(ctx context.Context, rdb *redis.Client) error {
		return holdScript.Run(ctx, rdb, []string{l.holdKey(tenant, lim.Key)}, ms).Err()
	})
	if err != nil {
		l.fallbacks.Add(1)
	}
}

// HeldFor returns how long tenant's lim.Key is still held by any
// replica, or 0.
func (l *Limiter) HeldFor(tenant string, lim proxy.Limit) time.Duration {
	own := l.fallback.HeldFor(tenant, lim)
	var ttl time.Duration
	err := l.c.do(func(ctx context.Context, rdb *redis.Client) error {
		var err error
		ttl, err = rdb.PTTL(ctx, l.holdKey(tenant, lim.Key)).Result()
		return err
	})
	if err != nil {
		l.fallbacks.Add(1)
		return own
	}
	return max(own, ttl, 0)
}

var _ proxy.Limiter = (*Limiter)(nil)
