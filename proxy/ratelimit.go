package proxy

import (
	"sync"
	"sync/atomic"
	"time"
)

// localLimiter is the Limiter kept in this process. Each (tenant, limit
// key) keeps the times of its last N admissions, N the largest of its
// rates' (the last N of a smaller rate are among them), so at most N
// requests pass in any window, exactly. A request over the limit reserves
// the first free slot and waits for it, up to the queue timeout; beyond
// that it is refused without taking a slot. A (tenant, limit key) is one
// map entry and one ring that grows with its admissions, so a tenant that
// sent one request costs about 110 bytes, not 400.
type localLimiter struct {
	queueTimeout time.Duration
	now          func() time.Time

	mu      sync.Mutex
	windows map[limitKey]*ring
	holds   map[string]time.Time // tenant + " " + limit key → until
	ops     atomic.Int64         // admissions, counted for gc
	// holding is len(holds), for requests without rates to learn
	// without the lock that no hold can apply to them.
	holding atomic.Int64
}

// limitKey names the admissions of one tenant under one limit key.
type limitKey struct{ tenant, prefix string }

// NewLocalLimiter returns the Limiter a Handler keeps in its process when
// Options.Limiter is nil: requests wait their turn up to queueTimeout,
// timed on now (nil means time.Now). A fleet's limiter falls back to one
// while Redis does not answer.
func NewLocalLimiter(queueTimeout time.Duration, now func() time.Time) Limiter {
	return newLocalLimiter(queueTimeout, now)
}

func newLocalLimiter(queueTimeout time.Duration, now func() time.Time) *localLimiter {
	if now == nil {
		now = time.Now
	}
	return &localLimiter{queueTimeout: queueTimeout, now: now,
		windows: map[limitKey]*ring{}, holds: map[string]time.Time{}}
}

// holdKey names what an upstream 429 holds.
func holdKey(tenant string, lim Limit) string { return tenant + " " + lim.Key }

// Reserve admits a request, as Limiter says.
func (l *localLimiter) Reserve(tenant string, lim Limit) Admission {
	gcDue := l.ops.Add(1)%4096 == 0
	if len(lim.Rates) == 0 && l.holding.Load() == 0 {
		if gcDue {
			l.mu.Lock()
			l.gc(l.now())
			l.mu.Unlock()
		}
		return Admission{} // no limit and no hold: nothing to wait for
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now() // under the lock, so each ring receives times in order
	if gcDue {
		l.gc(now)
	}
	start := now.UnixNano()
	if len(l.holds) > 0 { // the key is built only while some hold exists
		if until, held := l.holds[holdKey(tenant, lim)]; held && until.UnixNano() > start {
			start = until.UnixNano()
		}
	}
	at := start
	var r *ring // nil when only a hold applies
	if len(lim.Rates) > 0 {
		r = l.ringOf(tenant, lim)
	}
	for _, rate := range lim.Rates {
		if t, ok := r.recent(rate.N); ok {
			if free := t + int64(rate.Per); free > at {
				at = free
			}
		}
	}
	wait := time.Duration(at - now.UnixNano())
	if wait > l.queueTimeout {
		return Admission{Refused: true, RetryIn: wait}
	}
	if r != nil {
		r.add(at)
	}
	for _, rate := range lim.Rates {
		r.idleAt = max(r.idleAt, at+int64(rate.Per))
	}
	return Admission{Wait: wait}
}

// ringOf returns tenant's ring under lim.Key, sized for lim's largest N.
func (l *localLimiter) ringOf(tenant string, lim Limit) *ring {
	size := 0
	for _, rate := range lim.Rates {
		size = max(size, rate.N)
	}
	k := limitKey{tenant: tenant, prefix: lim.Key}
	r := l.windows[k]
	if r == nil {
		r = &ring{size: int32(size)}
		l.windows[k] = r
	} else if int(r.size) != size {
		r.resize(size) // the limits were reloaded
	}
	return r
}

// HeldFor returns how long tenant's lim.Key is still held, or 0.
func (l *localLimiter) HeldFor(tenant string, lim Limit) time.Duration {
	key := holdKey(tenant, lim)
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := l.holds[key].Sub(l.now()); d > 0 {
		return d
	}
	return 0
}

// Hold makes requests of tenant under lim.Key wait (or be refused) for d.
func (l *localLimiter) Hold(tenant string, lim Limit, d time.Duration) {
	key := holdKey(tenant, lim)
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := l.now().Add(d); until.After(l.holds[key]) {
		l.holds[key] = until
		l.holding.Store(int64(len(l.holds)))
	}
}

// gc drops rings and holds that no longer constrain anything, so idle
// tenants cost no memory. Reserve runs it every 4,096 admissions, with
// l.mu held.
func (l *localLimiter) gc(now time.Time) {
	n := now.UnixNano()
	for k, r := range l.windows {
		if r.idleAt <= n {
			delete(l.windows, k)
		}
	}
	for k, until := range l.holds {
		if !until.After(now) {
			delete(l.holds, k)
		}
	}
	l.holding.Store(int64(len(l.holds)))
}

// ring holds the last admission times of a tenant under one limit key,
// up to size of them, oldest first: while it grows, in times' order;
// once full, from next on. It grows as admissions arrive, doubling from
// one entry up to size, so a tenant that sends a few requests costs a
// few entries, not N.
type ring struct {
	times  []int64 // unix nanoseconds
	idleAt int64   // unix ns when its last admission leaves every window
	size   int32   // the largest N: the ring's length once full
	next   int32   // where the next time goes once full
}

func (r *ring) full() bool { return len(r.times) == int(r.size) }

// at returns the ith oldest admission kept.
func (r *ring) at(i int) int64 {
	if !r.full() {
		return r.times[i]
	}
	return r.times[(int(r.next)+i)%len(r.times)]
}

// recent returns the nth most recent admission, and false when fewer
// than n are kept (the limit of n is not reached).
func (r *ring) recent(n int) (int64, bool) {
	if n > len(r.times) {
		return 0, false
	}
	return r.at(len(r.times) - n), true
}

func (r *ring) add(t int64) {
	if r.size <= 0 {
		return
	}
	if !r.full() {
		if len(r.times) == cap(r.times) {
			grown := make([]int64, len(r.times), min(max(2*cap(r.times), 1), int(r.size)))
			copy(grown, r.times)
			r.times = grown
		}
		r.times = append(r.times, t)
		return
	}
	r.times[r.next] = t
	r.next = (r.next + 1) % r.size
}

// resize keeps the last size admissions, in order, for a new largest N.
func (r *ring) resize(size int) {
	keep := min(len(r.times), size)
	times := make([]int64, keep)
	for i := range keep {
		times[i] = r.at(len(r.times) - keep + i)
	}
	r.times, r.size, r.next = times, int32(size), 0
}

var _ Limiter = (*localLimiter)(nil)
