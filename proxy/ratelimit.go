package proxy

import (
	"sync"
	"sync/atomic"
	"time"
)

// localLimiter is the Limiter kept in this process. Each (tenant, limit
// key, window) keeps the times of its last N admissions, so at most N
// requests pass in any window, exactly. A request over the limit reserves
// the first free slot and waits for it, up to the queue timeout; beyond
// that it is refused without taking a slot.
type localLimiter struct {
	queueTimeout time.Duration
	now          func() time.Time

	mu      sync.Mutex
	windows map[windowKey]*window
	holds   map[string]time.Time // tenant + " " + limit key → until
	ops     atomic.Int64         // admissions, counted for gc
	// holding is len(holds), for requests without rates to learn
	// without the lock that no hold can apply to them.
	holding atomic.Int64
}

type windowKey struct {
	tenant, prefix string
	per            time.Duration
}

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
		windows: map[windowKey]*window{}, holds: map[string]time.Time{}}
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
	var buf [4]*window
	ws := buf[:0]
	for _, rate := range lim.Rates {
		k := windowKey{tenant: tenant, prefix: lim.Key, per: rate.Per}
		w := l.windows[k]
		if w == nil {
			w = &window{times: make([]int64, 0, min(rate.N, 8)), n: rate.N}
			l.windows[k] = w
		}
		ws = append(ws, w)
		if w.full() {
			if free := w.oldest() + int64(rate.Per); free > at {
				at = free
			}
		}
	}
	wait := time.Duration(at - now.UnixNano())
	if wait > l.queueTimeout {
		return Admission{Refused: true, RetryIn: wait}
	}
	for _, w := range ws {
		w.add(at)
	}
	return Admission{Wait: wait}
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

// gc drops windows and holds that no longer constrain anything, so idle
// tenants cost no memory. Reserve runs it every 4,096 admissions, with
// l.mu held.
func (l *localLimiter) gc(now time.Time) {
	n := now.UnixNano()
	for k, w := range l.windows {
		if w.newest()+int64(k.per) <= n {
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

// window is a ring of the last N admission times, oldest first. It grows
// as admissions arrive, so a tenant that sends a few requests costs a few
// entries, not N.
type window struct {
	times []int64 // unix nanoseconds
	n     int     // the limit: the ring's size once full
	next  int     // where the next time goes once full
}

func (w *window) full() bool { return len(w.times) == w.n }

// oldest returns the earliest of the last N admissions.
func (w *window) oldest() int64 {
	if !w.full() {
		return 0
	}
	return w.times[w.next]
}

func (w *window) add(t int64) {
	if !w.full() {
		w.times = append(w.times, t)
		return
	}
	w.times[w.next] = t
	w.next = (w.next + 1) % len(w.times)
}

// newest returns the latest admission.
func (w *window) newest() int64 {
	if len(w.times) == 0 {
		return 0
	}
	if !w.full() {
		return w.times[len(w.times)-1]
	}
	return w.times[(w.next+len(w.times)-1)%len(w.times)]
}

var _ Limiter = (*localLimiter)(nil)
