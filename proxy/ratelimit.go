package proxy

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// localLimiter is the Limiter kept in this process. Each (tenant, limit
// key, window) keeps the times of its last N admissions, so at most N
// requests pass in any window, exactly. A (tenant, limit key) is one map
// entry holding its windows side by side (usually two: a minute's and an
// hour's), and a window's ring grows with its admissions, so a tenant
// that sent one request costs about 130 bytes, not 400. A request over the limit reserves
// the first free slot and waits for it, up to the queue timeout; beyond
// that it is refused without taking a slot.
type localLimiter struct {
	queueTimeout time.Duration
	now          func() time.Time

	mu      sync.Mutex
	windows map[limitKey][]window
	holds   map[string]time.Time // tenant + " " + limit key → until
	ops     atomic.Int64         // admissions, counted for gc
	// holding is len(holds), for requests without rates to learn
	// without the lock that no hold can apply to them.
	holding atomic.Int64
}

// limitKey names the windows of one tenant under one limit key.
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
		windows: map[limitKey][]window{}, holds: map[string]time.Time{}}
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
	ws := l.windowsOf(tenant, lim)
	for _, rate := range lim.Rates {
		w := &ws[indexOf(ws, rate.Per)]
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
	for _, rate := range lim.Rates {
		ws[indexOf(ws, rate.Per)].add(at)
	}
	return Admission{Wait: wait}
}

// windowsOf returns tenant's windows under lim.Key, adding those of
// lim's rates it lacks. A window keeps the N of the rate it was made
// for; one whose rate a reload removed is left to gc.
func (l *localLimiter) windowsOf(tenant string, lim Limit) []window {
	k := limitKey{tenant: tenant, prefix: lim.Key}
	ws := l.windows[k]
	added := false
	for _, rate := range lim.Rates {
		if indexOf(ws, rate.Per) < 0 {
			if ws == nil {
				ws = make([]window, 0, len(lim.Rates))
			}
			ws = append(ws, window{per: rate.Per, n: int32(rate.N)})
			added = true
		}
	}
	if added {
		l.windows[k] = ws
	}
	return ws
}

// indexOf returns the index of the window of ws per, or -1.
func indexOf(ws []window, per time.Duration) int {
	for i := range ws {
		if ws[i].per == per {
			return i
		}
	}
	return -1
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
	for k, ws := range l.windows {
		live := slices.DeleteFunc(ws, func(w window) bool { return w.newest()+int64(w.per) <= n })
		switch {
		case len(live) == 0:
			delete(l.windows, k)
		case len(live) < len(ws):
			l.windows[k] = slices.Clip(live)
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
// as admissions arrive, doubling from one entry up to N, so a tenant
// that sends a few requests costs a few entries, not N.
type window struct {
	times []int64       // unix nanoseconds
	per   time.Duration // the window's length
	n     int32         // the limit: the ring's size once full
	next  int32         // where the next time goes once full
}

func (w *window) full() bool { return len(w.times) == int(w.n) }

// oldest returns the earliest of the last N admissions.
func (w *window) oldest() int64 {
	if !w.full() {
		return 0
	}
	return w.times[w.next]
}

func (w *window) add(t int64) {
	if !w.full() {
		if len(w.times) == cap(w.times) {
			grown := make([]int64, len(w.times), min(max(2*cap(w.times), 1), int(w.n)))
			copy(grown, w.times)
			w.times = grown
		}
		w.times = append(w.times, t)
		return
	}
	w.times[w.next] = t
	w.next = (w.next + 1) % w.n
}

// newest returns the latest admission.
func (w *window) newest() int64 {
	if len(w.times) == 0 {
		return 0
	}
	if !w.full() {
		return w.times[len(w.times)-1]
	}
	return w.times[(int(w.next)+len(w.times)-1)%len(w.times)]
}

var _ Limiter = (*localLimiter)(nil)
