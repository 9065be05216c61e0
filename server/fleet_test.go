package server

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// Three replicas warming up and taking 20 concurrent first requests for
// two tenants ask Entra ID once per tenant; a replica started later
// serves at once with the fleet's token. Entra ID holds every token
// request until all 20 requests are in flight, so that warm-ups and
// requests of every replica contend for the same acquisitions.
func TestFleetAcquiresEachTokenOnce(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	release := make(chan struct{})
	releaseTokens := sync.OnceFunc(func() { close(release) })
	sim := testutil.StartSimulator(t, &simulator.Server{
		BeforeToken: func(_ http.ResponseWriter, r *http.Request, _ string) bool {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return false
		},
	})
	t.Cleanup(releaseTokens) // before the simulator waits for its handlers
	keys := writeKeyFile(t, newTokenKey(t))
	var fleet []replica
	for range 3 {
		fleet = append(fleet, startReplica(t, sim, fleetEnv(addr, keys)))
	}
	t.Cleanup(releaseTokens) // before the replicas drain their requests
	c := fleetClient(t)

	tenants := []string{simulator.ContosoTenantID, simulator.FabrikamTenantID}
	answers := make([]answer, 20)
	errs := make([]error, 20)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() { answers[i], errs[i] = fleet[i%3].send(c, tenants[i%2], "/api/incidents?$top=1") })
	}
	// Each request waits for a token until Entra ID answers: poll until
	// the replicas hold all 20, then let Entra ID answer.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); <-tick.C {
		inflight := 0.0
		for _, r := range fleet {
			v, _ := r.metric(t, c, "xdrproxy_inflight_requests")
			inflight += v
		}
		if inflight == 20 {
			break
		}
	}
	releaseTokens()
	wg.Wait()
	for i, a := range answers {
		if errs[i] != nil || a.status != http.StatusOK {
			t.Errorf("request %d (replica %d): %d %s %v, want 200", i, i%3, a.status, a.code, errs[i])
		}
	}
	for _, id := range tenants {
		if n := sim.TokenRequests(id); n != 1 {
			t.Errorf("tenant %s: %d token requests from 3 replicas, want 1", id, n)
		}
	}

	late := startReplica(t, sim, fleetEnv(addr, keys))
	for _, id := range tenants {
		late.mustServe(t, c, id)
	}
	if n := sim.TotalTokenRequests(); n != 2 {
		t.Errorf("a replica started later made %d token requests, want none", n-2)
	}
	assertNoCredentialInRedis(t, rawRedis(t, addr, ""), sim)
}

// apiCounter counts the API requests that reach the simulator and makes
// the next one, when armed, answer 429 with Retry-After: 30.
type apiCounter struct {
	reached  atomic.Int64
	throttle atomic.Bool
}

// beforeAPI is the simulator's BeforeAPI hook.
func (a *apiCounter) beforeAPI(w http.ResponseWriter, _ *http.Request) bool {
	a.reached.Add(1)
	if !a.throttle.CompareAndSwap(true, false) {
		return false
	}
	w.Header().Set("Retry-After", "30")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"throttled by the test"}}`)
	return true
}

// A limit of 5 a minute holds for two replicas together, and an upstream
// 429 through one replica holds the tenant on the other.
func TestFleetSharesRateLimitsAndHolds(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	api := &apiCounter{}
	sim := testutil.StartSimulator(t, &simulator.Server{BeforeAPI: api.beforeAPI})
	env := fleetEnv(addr, writeKeyFile(t, newTokenKey(t)))
	env["XDRPROXY_RATE_LIMITS"] = "/api/incidents=5/m"
	env["XDRPROXY_QUEUE_TIMEOUT"] = "1s"
	a, b := startReplica(t, sim, env), startReplica(t, sim, env)
	c := fleetClient(t)

	passed, limited := 0, 0
	for i := range 12 {
		r := []replica{a, b}[i%2]
		switch ans := r.incidents(t, c, "contoso"); {
		case ans.status == http.StatusOK:
			passed++
		case ans.status == http.StatusTooManyRequests && ans.code == "RateLimited":
			limited++
		default:
			t.Errorf("request %d: %d %s, want 200 or the proxy's 429 RateLimited", i, ans.status, ans.code)
		}
	}
	if reached := api.reached.Load(); reached != 5 || passed != 5 || limited != 7 {
		t.Errorf("12 requests at 5/min through 2 replicas: %d reached the API, %d passed, %d limited; want 5, 5, 7", reached, passed, limited)
	}

	api.throttle.Store(true)
	if ans := a.incidents(t, c, "fabrikam"); ans.status != http.StatusTooManyRequests || ans.code != "TooManyRequests" {
		t.Fatalf("replica A: %d %s, want the upstream's 429 passed back", ans.status, ans.code)
	}
	before := api.reached.Load()
	ans := b.incidents(t, c, "fabrikam")
	if ans.status != http.StatusTooManyRequests || ans.code != "RateLimited" {
		t.Errorf("replica B after the upstream's 429 on A: %d %s, want the proxy's 429 RateLimited", ans.status, ans.code)
	}
	if s, err := strconv.Atoi(ans.retryAfter); err != nil || s < 1 || s > 30 {
		t.Errorf("replica B's Retry-After = %q, want the hold's remaining seconds (1 to 30)", ans.retryAfter)
	}
	if n := api.reached.Load() - before; n != 0 {
		t.Errorf("replica B sent %d requests of a held tenant to the API", n)
	}
}

// Redis going away costs no request: both replicas serve on their own
// state and say so; when it is back, they find it by themselves and share
// again.
func TestFleetOutlivesRedis(t *testing.T) {
	addr, stop := testutil.StartRedis(t)
	sim := testutil.StartSimulator(t, nil)
	tenantsFile := filepath.Join(t.TempDir(), "tenants")
	if err := os.WriteFile(tenantsFile, []byte("contoso="+simulator.ContosoTenantID+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := fleetEnv(addr, writeKeyFile(t, newTokenKey(t)))
	env["XDRPROXY_TENANTS"], env["XDRPROXY_TENANTS_FILE"] = "", tenantsFile
	fleet := []replica{startReplica(t, sim, env), startReplica(t, sim, env)}
	c := fleetClient(t)
	for _, r := range fleet {
		r.mustServe(t, c, "contoso")
		if up := r.redisUp(t, c); up != 1 {
			t.Fatalf("%s: xdrproxy_redis_up = %v with Redis running, want 1", r.admin, up)
		}
	}

	stop()
	for _, r := range fleet {
		for range 3 {
			r.mustServe(t, c, "contoso")
		}
		if up := r.redisUp(t, c); up != 0 {
			t.Errorf("%s: xdrproxy_redis_up = %v with Redis stopped, want 0", r.admin, up)
		}
		if n, _ := r.metric(t, c, "xdrproxy_redis_fallbacks_total"); n == 0 {
			t.Errorf("%s: xdrproxy_redis_fallbacks_total = 0 after requests with Redis stopped", r.admin)
		}
	}

	testutil.StartRedisOn(t, addr)
	for _, r := range fleet {
		r.awaitMetric(t, c, "xdrproxy_redis_up", 1)
	}
	// A tenant added now is acquired once for both, through Redis.
	swapFile(t, tenantsFile, "contoso="+simulator.ContosoTenantID+"\nfabrikam="+simulator.FabrikamTenantID+"\n")
	for _, r := range fleet {
		if err := <-r.reloads; err != nil {
			t.Fatalf("%s: adding fabrikam: %v", r.proxy, err)
		}
	}
	for _, r := range fleet {
		r.mustServe(t, c, "fabrikam")
	}
	if n := sim.TokenRequests(simulator.FabrikamTenantID); n != 1 {
		t.Errorf("fabrikam, added after Redis came back: %d token requests from 2 replicas, want 1", n)
	}
	raw := rawRedis(t, addr, "")
	if len(redisKeys(t, raw, "xdrproxy:limit:*")) == 0 {
		t.Error("no rate-limit window in Redis after it came back: limits are not shared again")
	}
	assertNoCredentialInRedis(t, raw, sim)
}
