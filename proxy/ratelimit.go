package proxy

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
)

// limiter enforces the per-tenant rate limits by path prefix and the holds
// an upstream 429 puts on a tenant and prefix. Each (tenant, prefix,
// window) keeps the times of its last N admissions, so at most N requests
// pass in any window, exactly. A request over the limit reserves the
// first free slot and waits for it, up to the queue timeout; beyond that
// it is refused without taking a slot.
type limiter struct {
	limits       []config.RateLimit
	queueTimeout time.Duration
	now          func() time.Time

	mu      sync.Mutex
	windows map[windowKey]*window
	holds   map[string]time.Time // tenant + " " + prefix → until
	ops     int
}

type windowKey struct {
	tenant, prefix string
	per            time.Duration
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

func newLimiter(limits []config.RateLimit, queueTimeout time.Duration, now func() time.Time) *limiter {
	if now == nil {
		now = time.Now
	}
	return &limiter{limits: limits, queueTimeout: queueTimeout, now: now,
		windows: map[windowKey]*window{}, holds: map[string]time.Time{}}
}

// holdKey names what an upstream 429 holds: the tenant and the longest
// matching limit prefix, else the tenant's route.
func (l *limiter) holdKey(tenant, path, route string) (key, prefix string) {
	prefix, _ = config.MatchRateLimits(l.limits, path)
	if prefix == "" {
		prefix = "route:" + route
	}
	return tenant + " " + prefix, prefix
}

// reserve admits a request for tenant and path (route names its upstream
// for holds). It returns how long the request must wait before going on,
// or ok false and how long until a retry could pass.
func (l *limiter) reserve(tenant, path, route string) (wait time.Duration, ok bool, retryAfter time.Duration) {
	prefix, limits := config.MatchRateLimits(l.limits, path)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now() // under the lock, so each ring receives times in order
	l.gc(now)
	start := now.UnixNano()
	if len(l.holds) > 0 { // the key is built only while some hold exists
		hk, _ := l.holdKey(tenant, path, route)
		if until, held := l.holds[hk]; held && until.UnixNano() > start {
			start = until.UnixNano()
		}
	}
	if len(limits) == 0 {
		wait = time.Duration(start - now.UnixNano())
		if wait > l.queueTimeout {
			return 0, false, wait
		}
		return wait, true, 0
	}
	at := start
	ws := make([]*window, len(limits))
	for i, lim := range limits {
		k := windowKey{tenant: tenant, prefix: prefix, per: lim.Per}
		w := l.windows[k]
		if w == nil {
			w = &window{times: make([]int64, 0, min(lim.N, 8)), n: lim.N}
			l.windows[k] = w
		}
		ws[i] = w
		if w.full() {
			if free := w.oldest() + int64(lim.Per); free > at {
				at = free
			}
		}
	}
	wait = time.Duration(at - now.UnixNano())
	if wait > l.queueTimeout {
		return 0, false, wait
	}
	for _, w := range ws {
		w.add(at)
	}
	return wait, true, 0
}

// heldFor returns how long the tenant's path on route is still held, or 0.
func (l *limiter) heldFor(tenant, path, route string) time.Duration {
	key, _ := l.holdKey(tenant, path, route)
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := l.holds[key].Sub(l.now()); d > 0 {
		return d
	}
	return 0
}

// hold makes requests for the key wait (or be refused) until until.
func (l *limiter) hold(key string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.holds[key]) {
		l.holds[key] = until
	}
}

// gc drops, every 4,096 admissions, windows and holds that no longer
// constrain anything, so idle tenants cost no memory.
func (l *limiter) gc(now time.Time) {
	l.ops++
	if l.ops%4096 != 0 {
		return
	}
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
}

// retryAfter parses an upstream Retry-After: seconds (Graph sends
// fractions such as 2.128) or an HTTP date. Absent or unreadable means
// one second.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if secs, err := strconv.ParseFloat(h, 64); err == nil && secs >= 0 && !math.IsInf(secs, 0) {
		return time.Duration(math.Min(secs, 86400) * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
		return 0
	}
	return time.Second
}

// wholeSeconds rounds d up to whole seconds, at least 1, for Retry-After.
func wholeSeconds(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
