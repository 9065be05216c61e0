package proxy

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// limiterUnderTest drives a localLimiter the way the handler does: a
// route table picks each path's Limit.
type limiterUnderTest struct {
	*localLimiter
	table *routeTable
}

func newLimiter(limits []config.RateLimit, queueTimeout time.Duration, now func() time.Time) *limiterUnderTest {
	table, err := compileRoutes(&url.URL{Scheme: "https", Host: "upstream.test"}, "s/.default", nil, limits)
	if err != nil {
		panic(err)
	}
	return &limiterUnderTest{localLimiter: newLocalLimiter(queueTimeout, now), table: table}
}

// limit is what a request for path on route counts against.
func (l *limiterUnderTest) limit(path, route string) Limit {
	return pick{name: route, holdKey: "route:" + route, table: l.table}.limitFor(path)
}

func (l *limiterUnderTest) reserve(tenant, path, route string) (wait time.Duration, ok bool, retryIn time.Duration) {
	a := l.Reserve(tenant, l.limit(path, route))
	return a.Wait, !a.Refused, a.RetryIn
}

func limits(t *testing.T, s string) []config.RateLimit {
	t.Helper()
	l, err := config.ParseRateLimits(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLimiterQueuesThenRefuses(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_700_000_000, 0))
	l := newLimiter(limits(t, "/api/incidents=3/s"), 2*time.Second, clock.Now)
	for i := 0; i < 3; i++ {
		if wait, ok, _ := l.reserve("a", "/api/incidents", "default"); !ok || wait != 0 {
			t.Fatalf("request %d: wait %v ok %v, want at once", i, wait, ok)
		}
	}
	// The 4th..6th wait for the next second; the 7th..9th for the one after.
	for i, want := range []time.Duration{time.Second, time.Second, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second} {
		wait, ok, _ := l.reserve("a", "/api/incidents/7", "default")
		if !ok || wait != want {
			t.Fatalf("queued request %d: wait %v ok %v, want %v", i, wait, ok, want)
		}
	}
	// Beyond the 2s queue timeout: refused, and no slot is taken.
	_, ok, retry := l.reserve("a", "/api/incidents", "default")
	if ok || retry != 3*time.Second {
		t.Fatalf("over the queue: ok %v retry %v, want refused with 3s", ok, retry)
	}
	// Another tenant and another prefix are untouched.
	if wait, ok, _ := l.reserve("b", "/api/incidents", "default"); !ok || wait != 0 {
		t.Errorf("tenant b waited %v", wait)
	}
	if wait, ok, _ := l.reserve("a", "/api/machines", "default"); !ok || wait != 0 {
		t.Errorf("an unlimited prefix waited %v", wait)
	}
	// "/api/incidentsX" is not under "/api/incidents".
	if wait, ok, _ := l.reserve("a", "/api/incidentsX", "default"); !ok || wait != 0 {
		t.Errorf("a sibling path was limited (%v)", wait)
	}
}

func TestLimiterNeverExceedsNInAnyWindow(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_700_000_000, 0))
	l := newLimiter(limits(t, "/api/x=5/s,/api/x=12/m"), 30*time.Second, clock.Now)
	rng := rand.New(rand.NewPCG(1, 2))
	begin := clock.Now()
	var admitted []int64
	for i := 0; i < 2000; i++ {
		clock.Advance(time.Duration(rng.IntN(400)) * time.Millisecond)
		wait, ok, _ := l.reserve("t", "/api/x", "default")
		if ok {
			admitted = append(admitted, clock.Now().Add(wait).UnixNano())
		}
	}
	sort.Slice(admitted, func(i, j int) bool { return admitted[i] < admitted[j] })
	check := func(n int, per time.Duration) {
		for i := range admitted {
			j := sort.Search(len(admitted), func(k int) bool { return admitted[k] >= admitted[i]+int64(per) })
			if j-i > n {
				t.Fatalf("%d requests passed in one window of %v starting at #%d, limit %d", j-i, per, i, n)
			}
		}
	}
	check(5, time.Second)
	check(12, time.Minute)
	// The minute limit binds: every full minute must have been used.
	if minutes := int(clock.Now().Sub(begin) / time.Minute); len(admitted) < 12*minutes {
		t.Fatalf("only %d admitted in %d minutes at 12/m: the limiter is too strict", len(admitted), minutes)
	}
}

func TestLimiterHolds(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_700_000_000, 0))
	l := newLimiter(limits(t, "/api/advancedhunting=45/m"), 2*time.Second, clock.Now)
	l.Hold("a", l.limit("/api/advancedhunting/run", "default"), 5*time.Second)
	if _, ok, retry := l.reserve("a", "/api/advancedhunting/run", "default"); ok || retry != 5*time.Second {
		t.Fatalf("held: ok %v retry %v", ok, retry)
	}
	if _, ok, _ := l.reserve("b", "/api/advancedhunting/run", "default"); !ok {
		t.Error("another tenant was held")
	}
	if _, ok, _ := l.reserve("a", "/api/incidents", "default"); !ok {
		t.Error("another prefix was held")
	}
	clock.Advance(4 * time.Second)
	if wait, ok, _ := l.reserve("a", "/api/advancedhunting/run", "default"); !ok || wait != time.Second {
		t.Errorf("within the queue timeout: wait %v ok %v, want 1s", wait, ok)
	}
	// Without a table prefix, a hold covers the tenant's route.
	l.Hold("a", l.limit("/graph/v1.0/security/incidents", "/graph/"), time.Minute)
	if _, ok, _ := l.reserve("a", "/graph/v1.0/security/alerts_v2", "/graph/"); ok {
		t.Error("the route hold did not apply to the route's other paths")
	}
	if _, ok, _ := l.reserve("a", "/api/alerts", "default"); !ok {
		t.Error("the route hold leaked onto another route")
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		h    string
		want time.Duration
	}{
		{"7", 7 * time.Second},
		{"2.128", 2128 * time.Millisecond},
		{"0", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"", time.Second},
		{"soon", time.Second},
		{"-3", time.Second},
		{"1e12", 24 * time.Hour},
	} {
		if got := retryAfter(tt.h, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.h, got, tt.want)
		}
	}
	for d, want := range map[time.Duration]string{0: "1", 100 * time.Millisecond: "1", 1500 * time.Millisecond: "2", 3 * time.Second: "3"} {
		if got := wholeSeconds(d); got != want {
			t.Errorf("wholeSeconds(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestLimiterForgetsIdleTenants(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_700_000_000, 0))
	l := newLimiter(limits(t, "/api/x=10/s"), 0, clock.Now)
	for i := 0; i < 5000; i++ {
		l.reserve(string(rune('a'+i%26))+"-"+time.Duration(i).String(), "/api/x", "default")
	}
	clock.Advance(2 * time.Second)
	for i := 0; i < 4096; i++ {
		l.reserve("busy", "/api/y", "default") // unlimited path: drives the gc counter
	}
	if n := len(l.windows); n > 10 {
		t.Errorf("%d windows kept after every tenant went idle", n)
	}
}

func TestLimiterIgnoresPathCase(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_700_000_000, 0))
	l := newLimiter(limits(t, "/api/incidents=2/h"), 0, clock.Now)
	for _, p := range []string{"/api/incidents", "/API/Incidents"} {
		if _, ok, _ := l.reserve("a", p, "default"); !ok {
			t.Fatalf("%s refused early", p)
		}
	}
	for _, p := range []string{"/api/INCIDENTS/1", "//api//incidents"} {
		if _, ok, _ := l.reserve("a", p, "default"); ok {
			t.Errorf("%s escaped the limit of /api/incidents", p)
		}
	}
	k1 := holdKey("a", l.limit("/API/incidents", "default"))
	k2 := holdKey("a", l.limit("/api/incidents", "default"))
	if k1 != k2 {
		t.Errorf("hold keys differ by case: %q %q", k1, k2)
	}
}

// TestLimiterDropsIdleRings: an idle tenant's admissions are kept, and
// count, while its longest window lasts; once that has passed, the
// tenant costs nothing, and a ring made afresh limits as before.
func TestLimiterDropsIdleRings(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_700_000_000, 0))
	l := newLimiter(limits(t, "/api/x=3/s,/api/x=5/m"), 30*time.Second, clock.Now)
	key := limitKey{tenant: "a", prefix: l.limit("/api/x", "default").Key}
	gc := func() {
		for i := 0; i < 4096; i++ {
			l.reserve("busy", "/api/y", "default") // unlimited path: drives the gc counter
		}
	}
	for i := 0; i < 3; i++ {
		if wait, ok, _ := l.reserve("a", "/api/x", "default"); !ok || wait != 0 {
			t.Fatalf("request %d: wait %v ok %v, want at once", i, wait, ok)
		}
	}
	clock.Advance(2 * time.Second)
	gc()
	if r := l.windows[key]; r == nil || len(r.times) != 3 {
		t.Fatalf("after 2s idle: ring %+v, want the 3 admissions of the minute", r)
	}
	for i := 0; i < 2; i++ {
		if wait, ok, _ := l.reserve("a", "/api/x", "default"); !ok || wait != 0 {
			t.Fatalf("request %d after 2s: wait %v ok %v, want at once", i, wait, ok)
		}
	}
	if _, ok, retry := l.reserve("a", "/api/x", "default"); ok || retry != 58*time.Second {
		t.Fatalf("6th request in the minute: ok %v retry %v, want refused for 58s", ok, retry)
	}
	clock.Advance(time.Minute)
	gc()
	if r, ok := l.windows[key]; ok {
		t.Fatalf("after a minute idle: ring %+v kept", r)
	}
	for i, want := range []time.Duration{0, 0, 0, time.Second} {
		if wait, ok, _ := l.reserve("a", "/api/x", "default"); !ok || wait != want {
			t.Fatalf("afresh, request %d: wait %v ok %v, want %v", i, wait, ok, want)
		}
	}
}

// TestLimiterHoldAloneKeepsNoRing: a request without rates, queued by a
// hold, leaves nothing behind.
func TestLimiterHoldAloneKeepsNoRing(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_700_000_000, 0))
	l := newLimiter(nil, 30*time.Second, clock.Now)
	lim := l.limit("/api/x", "default")
	l.Hold("a", lim, time.Second)
	if adm := l.Reserve("a", lim); adm.Refused || adm.Wait != time.Second {
		t.Fatalf("held request: %+v, want a wait of 1s", adm)
	}
	if n := len(l.windows); n != 0 {
		t.Errorf("%d rings kept for a limit without rates", n)
	}
}

// TestRingGrowsToSize: a ring grows one admission at a time up to its
// size and no further, and answers the nth most recent admission.
func TestRingGrowsToSize(t *testing.T) {
	r := ring{size: 5}
	for i := int64(1); i <= 12; i++ {
		r.add(i)
		if want := min(int(i), 5); len(r.times) != want || cap(r.times) > 5 {
			t.Fatalf("after %d admissions: len %d cap %d, want len %d, cap at most 5", i, len(r.times), cap(r.times), want)
		}
	}
	for n, want := range map[int]int64{1: 12, 3: 10, 5: 8} {
		if got, ok := r.recent(n); !ok || got != want {
			t.Errorf("recent(%d) = %d %v, want %d", n, got, ok, want)
		}
	}
	if _, ok := r.recent(6); ok {
		t.Error("recent(6) of a ring of 5 answered")
	}
	r.resize(3) // a reload lowered the largest N
	if got, _ := r.recent(1); got != 12 || len(r.times) != 3 {
		t.Fatalf("after resize(3): newest %d, %d kept", got, len(r.times))
	}
	r.add(13)
	if got, _ := r.recent(3); got != 11 {
		t.Errorf("after resize and an admission, recent(3) = %d, want 11", got)
	}
}
