package fleet

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/proxy"
)

var incidents = proxy.Limit{Key: "/api/incidents", Rates: []proxy.Rate{{N: 5, Per: time.Minute}}}

// replica is one replica's Limiter on the Redis at addr.
func replica(t testing.TB, addr string, opts LimiterOptions) *Limiter {
	t.Helper()
	l := NewLimiter(dial(t, Options{URL: "redis://" + addr, Prefix: "xdrproxy:", Timeout: upTimeout}), opts)
	t.Cleanup(l.Close)
	return l
}

func TestLimitIsFleetWide(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	a, b := replica(t, addr, LimiterOptions{}), replica(t, addr, LimiterOptions{})
	var mu sync.Mutex
	admitted := 0
	var wg sync.WaitGroup
	for i := range 12 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			adm := l.Reserve("tenant-1", incidents)
			if adm.Refused && (adm.RetryIn <= 0 || adm.RetryIn > time.Minute) {
				t.Errorf("refused with RetryIn %v, want within (0, 1m]", adm.RetryIn)
			}
			if !adm.Refused {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if admitted != 5 {
		t.Errorf("%d of 12 admitted across two replicas, want 5", admitted)
	}
	if adm := a.Reserve("tenant-2", incidents); adm.Refused {
		t.Error("another tenant was refused")
	}
	if n := a.Fallbacks() + b.Fallbacks(); n != 0 || !a.Up() {
		t.Errorf("fallbacks %d, up %v; want 0, true", n, a.Up())
	}
}

// TestReserveMatchesLocalLimiter runs one sequence through the fleet's
// limiter and proxy's local one, with a queue timeout, and several rates.
func TestReserveMatchesLocalLimiter(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	lim := proxy.Limit{Key: "/api/machines", Rates: []proxy.Rate{{N: 2, Per: time.Second}, {N: 3, Per: time.Minute}}}
	opts := LimiterOptions{QueueTimeout: 1500 * time.Millisecond}
	fleet, local := replica(t, addr, opts), proxy.NewLocalLimiter(opts.QueueTimeout, nil)
	for i := range 5 {
		got, want := fleet.Reserve("t", lim), local.Reserve("t", lim)
		if got.Refused != want.Refused || !near(got.Wait, want.Wait) || !near(got.RetryIn, want.RetryIn) {
			t.Errorf("reserve %d: fleet %+v, local %+v", i+1, got, want)
		}
	}
}

// near reports whether two waits computed a moment apart agree.
func near(a, b time.Duration) bool { return (a - b).Abs() < 200*time.Millisecond }

func TestHoldIsSeenByEveryReplica(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	a, b := replica(t, addr, LimiterOptions{}), replica(t, addr, LimiterOptions{QueueTimeout: time.Second})
	a.Hold("tenant-1", incidents, 30*time.Second)
	a.Hold("tenant-1", incidents, time.Second) // a shorter hold does not shorten it
	if d := b.HeldFor("tenant-1", incidents); d <= 29*time.Second || d > 30*time.Second {
		t.Errorf("the other replica sees a hold of %v, want about 30s", d)
	}
	if adm := b.Reserve("tenant-1", incidents); !adm.Refused || adm.RetryIn <= 29*time.Second {
		t.Errorf("held request: %+v, want refused for about 30s", adm)
	}
	if d := b.HeldFor("tenant-2", incidents); d != 0 {
		t.Errorf("another tenant is held for %v", d)
	}
	other := proxy.Limit{Key: "/api/alerts"}
	if adm := b.Reserve("tenant-1", other); adm.Refused || adm.Wait != 0 {
		t.Errorf("another prefix: %+v, want admitted at once", adm)
	}
}

// TestWindowsAreTimedOnRedis skews one replica's clock by an hour: the
// windows it shares are unchanged, and the times kept are Redis's.
func TestWindowsAreTimedOnRedis(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	skewed := func() time.Time { return time.Now().Add(time.Hour) }
	a, b := replica(t, addr, LimiterOptions{Now: skewed}), replica(t, addr, LimiterOptions{})
	perSecond := proxy.Limit{Key: "/api/x", Rates: []proxy.Rate{{N: 1, Per: time.Second}}}
	if adm := a.Reserve("t", perSecond); adm.Refused || adm.Wait != 0 {
		t.Fatalf("first: %+v", adm)
	}
	if adm := b.Reserve("t", perSecond); !adm.Refused || adm.RetryIn <= 0 || adm.RetryIn > time.Second {
		t.Errorf("second, from the unskewed replica: %+v, want refused for under 1s", adm)
	}
	r := rawRedis(t, addr)
	ctx := context.Background()
	now, err := r.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	window := "xdrproxy:limit:" + clientIDHash("") + ":t:/api/x:1000ms"
	kept, err := r.LRange(ctx, window, 0, -1).Result()
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept %q, %v; want one time", kept, err)
	}
	us, _ := strconv.ParseInt(kept[0], 10, 64)
	if d := now.Sub(time.UnixMicro(us)); d < 0 || d > 10*time.Second {
		t.Errorf("kept time %v is %v from Redis's clock", time.UnixMicro(us), d)
	}
	if ttl := r.PTTL(ctx, window).Val(); ttl <= 0 || ttl > time.Second {
		t.Errorf("window key expires in %v, want within its window", ttl)
	}
}

func TestRedisOutageFallsBackAndResumes(t *testing.T) {
	addr, stop := testutil.StartRedis(t)
	c := dial(t, Options{URL: "redis://" + addr, RetryInterval: time.Nanosecond, Timeout: upTimeout})
	l := NewLimiter(c, LimiterOptions{})
	t.Cleanup(l.Close)
	if adm := l.Reserve("t", incidents); adm.Refused || !l.Up() {
		t.Fatalf("with Redis: %+v, up %v", adm, l.Up())
	}
	stop()
	for i := range 5 {
		if adm := l.Reserve("t", incidents); adm.Refused {
			t.Errorf("reserve %d during the outage refused: the local limit is the full one", i+1)
		}
	}
	if adm := l.Reserve("t", incidents); !adm.Refused {
		t.Error("the fallback did not enforce the limit")
	}
	l.Hold("t", proxy.Limit{Key: "/api/alerts"}, time.Minute)
	if d := l.HeldFor("t", proxy.Limit{Key: "/api/alerts"}); d <= 59*time.Second {
		t.Errorf("a hold during the outage lasts %v", d)
	}
	if l.Up() || l.Fallbacks() < 8 {
		t.Fatalf("during the outage: up %v, fallbacks %d; want false, at least 8", l.Up(), l.Fallbacks())
	}
	testutil.StartRedisOn(t, addr)
	for range 3 { // a connection the pool still held may fail once
		if l.Reserve("t", incidents); l.Up() {
			break
		}
	}
	if !l.Up() {
		t.Fatal("Redis is back but the limiter still falls back")
	}
	before := l.Fallbacks()
	if adm := l.Reserve("t", proxy.Limit{Key: "/api/alerts"}); !adm.Refused {
		t.Error("the hold taken during the outage was forgotten")
	}
	if l.Fallbacks() != before {
		t.Error("fell back after Redis answered again")
	}
}

func TestSilentRedisFallsBackWithinTimeout(t *testing.T) {
	addr := testutil.SilentRedis(t)
	c := dial(t, Options{URL: "redis://" + addr, Timeout: 100 * time.Millisecond})
	l := NewLimiter(c, LimiterOptions{})
	t.Cleanup(l.Close)
	c.nextTry.Store(0) // try Redis now, not after the retry interval
	start := time.Now()
	adm := l.Reserve("t", incidents)
	if took := time.Since(start); took > time.Second {
		t.Errorf("Reserve took %v against a Redis that never answers; timeout 100ms", took)
	}
	if adm.Refused || l.Up() || l.Fallbacks() != 1 {
		t.Errorf("got %+v, up %v, fallbacks %d; want admitted by the fallback, down, 1", adm, l.Up(), l.Fallbacks())
	}
	start = time.Now()
	l.Reserve("t", incidents)
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Errorf("a second Reserve waited %v: it should not try Redis again so soon", took)
	}
}

func BenchmarkReserve(b *testing.B) {
	addr, _ := testutil.StartRedis(b)
	l := replica(b, addr, LimiterOptions{})
	lim := proxy.Limit{Key: "/api/incidents", Rates: []proxy.Rate{{N: 1 << 30, Per: time.Minute}}}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if l.Reserve("t", lim).Refused {
				b.Fatal("refused")
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.Reserve("t", lim)
			}
		})
	})
	if l.Fallbacks() != 0 {
		b.Errorf("%d fallbacks", l.Fallbacks())
	}
}

// Two applications sharing a Redis and a prefix have their own windows:
// Microsoft's limits are per (application, tenant).
func TestLimiterWindowsArePerApplication(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	a := replica(t, addr, LimiterOptions{ClientID: "app-a"})
	b := replica(t, addr, LimiterOptions{ClientID: "app-b"})
	perMinute := proxy.Limit{Key: "/api/x", Rates: []proxy.Rate{{N: 1, Per: time.Minute}}}
	for name, l := range map[string]*Limiter{"app-a": a, "app-b": b} {
		if adm := l.Reserve("t", perMinute); adm.Refused || adm.Wait != 0 {
			t.Errorf("%s's first request: %+v, want admitted at once", name, adm)
		}
	}
	if adm := a.Reserve("t", perMinute); !adm.Refused {
		t.Errorf("app-a's second request in the minute: %+v, want refused", adm)
	}
}
