package server

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// replica is one proxy of a fleet, started in the process with its own
// listeners.
type replica struct {
	proxy, admin string
	// reloads receives the outcome of each change of a watched file; it
	// must be read when a test changes one.
	reloads chan error
}

// bothTenants serves Contoso and Fabrikam, so that the unconsented demo
// tenant adds no failures to what a test counts.
const bothTenants = "contoso=" + simulator.ContosoTenantID + ",fabrikam=" + simulator.FabrikamTenantID

// fleetEnv returns the variables of a replica that shares the Redis at
// addr, with tokens sealed under keyFile's keys. Every fleet variable is
// named, so that one replica's settings never leak into the next one's.
func fleetEnv(addr, keyFile string) map[string]string {
	return map[string]string{
		"XDRPROXY_REDIS_URL":                 "redis://" + addr,
		"XDRPROXY_REDIS_PASSWORD_FILE":       "",
		"XDRPROXY_REDIS_KEY_PREFIX":          "",
		"XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keyFile,
		"XDRPROXY_TENANTS":                   bothTenants,
		"XDRPROXY_TENANTS_FILE":              "",
		"XDRPROXY_RATE_LIMITS":               "",
		"XDRPROXY_QUEUE_TIMEOUT":             "",
	}
}

// startReplica starts a proxy configured by env against sim; it stops
// when the test ends. Its Redis calls may take up to 5 s before it falls
// back, so that what a test counts does not depend on the machine's load.
func startReplica(t *testing.T, sim *simulator.Server, env map[string]string) replica {
	t.Helper()
	return startReplicaTimeout(t, sim, env, 5*time.Second)
}

// startReplicaTimeout is startReplica with the bound of each Redis call;
// 0 is the product's own (fleet.DefaultTimeout).
func startReplicaTimeout(t *testing.T, sim *simulator.Server, env map[string]string, redisTimeout time.Duration) replica {
	t.Helper()
	cfg := serveConfig(t, sim, env)
	roots, err := sim.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	l, reloads := startServeOptions(t, cfg, Options{Roots: roots, RedisTimeout: redisTimeout})
	return replica{proxy: "http://" + l.Proxy.String(), admin: "http://" + l.Admin.String(), reloads: reloads}
}

// newTokenKey returns a fresh random token encryption key.
func newTokenKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// writeKeyFile writes keys as an XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE, the
// sealing key first, and returns its path.
func writeKeyFile(t *testing.T, keys ...[]byte) string {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	}
	path := filepath.Join(t.TempDir(), "token-keys")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// answer is what a replica answered.
type answer struct {
	status     int
	code       string // the JSON error's code, if the body is one
	retryAfter string
}

// fleetClient returns a plain HTTP client whose connections close when
// the test ends.
func fleetClient(t *testing.T) *http.Client {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// send sends GET path for tenant to the replica. It is safe to call from
// any goroutine.
func (r replica) send(c *http.Client, tenant, path string) (answer, error) {
	req, err := http.NewRequest("GET", r.proxy+path, nil)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("X-Tenant-ID", tenant)
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return answer{status: resp.StatusCode, code: e.Error.Code, retryAfter: resp.Header.Get("Retry-After")}, nil
}

// incidents sends GET /api/incidents?$top=1 for tenant to the replica.
func (r replica) incidents(t *testing.T, c *http.Client, tenant string) answer {
	t.Helper()
	a, err := r.send(c, tenant, "/api/incidents?$top=1")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// mustServe asserts that the replica serves tenant's incidents with 200.
func (r replica) mustServe(t *testing.T, c *http.Client, tenant string) {
	t.Helper()
	if a := r.incidents(t, c, tenant); a.status != http.StatusOK {
		t.Fatalf("%s: GET /api/incidents for %s = %d %s, want 200", r.proxy, tenant, a.status, a.code)
	}
}

// metric returns the sum of every series of the metric name on the
// replica's /metrics, and whether there was one.
func (r replica) metric(t *testing.T, c *http.Client, name string) (float64, bool) {
	t.Helper()
	resp, err := c.Get(r.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum, found := 0.0, false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum, found = sum+v, true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sum, found
}

// redisUp returns the replica's xdrproxy_redis_up.
func (r replica) redisUp(t *testing.T, c *http.Client) float64 {
	t.Helper()
	v, ok := r.metric(t, c, "xdrproxy_redis_up")
	if !ok {
		t.Fatalf("%s/metrics has no xdrproxy_redis_up", r.admin)
	}
	return v
}

// awaitMetric polls the replica's metric until it equals want, for at
// most 15 s: the replica's own Redis watch changes it, not the test.
func (r replica) awaitMetric(t *testing.T, c *http.Client, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if v, _ := r.metric(t, c, name); v == want {
			return
		}
		if time.Now().After(deadline) {
			v, _ := r.metric(t, c, name)
			t.Fatalf("%s: %s = %v after 15 s, want %v", r.admin, name, v, want)
		}
		<-tick.C
	}
}

// rawRedis is a plain client for a test to look into Redis; password may
// be empty.
func rawRedis(t *testing.T, addr, password string) *redis.Client {
	t.Helper()
	r := redis.NewClient(&redis.Options{Addr: addr, Password: password})
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// redisKeys returns the keys matching pattern.
func redisKeys(t *testing.T, raw *redis.Client, pattern string) []string {
	t.Helper()
	keys, err := raw.Keys(t.Context(), pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// redisContents returns every key in Redis and every value, of whatever
// type, one string each.
func redisContents(t *testing.T, raw *redis.Client) []string {
	t.Helper()
	ctx := t.Context()
	var all []string
	iter := raw.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		all = append(all, key)
		var vals []string
		var err error
		switch typ := raw.Type(ctx, key).Val(); typ {
		case "string":
			var v string
			v, err = raw.Get(ctx, key).Result()
			vals = []string{v}
		case "list":
			vals, err = raw.LRange(ctx, key, 0, -1).Result()
		case "set":
			vals, err = raw.SMembers(ctx, key).Result()
		case "zset":
			vals, err = raw.ZRange(ctx, key, 0, -1).Result()
		case "hash":
			var h map[string]string
			h, err = raw.HGetAll(ctx, key).Result()
			for f, v := range h {
				vals = append(vals, f, v)
			}
		case "none": // expired since SCAN saw it
		default:
			t.Fatalf("key %q is a %s, which this scan cannot read", key, typ)
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("reading key %q: %v", key, err)
		}
		all = append(all, vals...)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return all
}

// issuedTokens returns every distinct access token that reached sim's
// APIs. It fails the test unless that is every token sim issued, so that
// a scan for them misses none.
func issuedTokens(t *testing.T, sim *simulator.Server) []string {
	t.Helper()
	seen := map[string]bool{}
	var tokens []string
	for _, r := range sim.APIRequests() {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && !seen[tok] {
			seen[tok] = true
			tokens = append(tokens, tok)
		}
	}
	if len(tokens) != sim.TotalTokenRequests() {
		t.Fatalf("%d distinct tokens reached the API, %d token requests were made: the scan would miss some", len(tokens), sim.TotalTokenRequests())
	}
	return tokens
}

// assertNoCredentialInRedis scans every key and value in Redis for each
// token sim issued, each token's signature and the client secret. It
// fails without quoting what it found, and fails too when Redis holds no
// token at all (the scan would prove nothing).
func assertNoCredentialInRedis(t *testing.T, raw *redis.Client, sim *simulator.Server) {
	t.Helper()
	all := redisContents(t, raw)
	sealed := 0
	for _, s := range all {
		if strings.Contains(s, ":token:") {
			sealed++
		}
	}
	if sealed == 0 {
		t.Fatalf("Redis holds no token key among its %d keys and values: nothing to scan", len(all))
	}
	needles := map[string]string{simulator.DefaultClientSecret: "the client secret"}
	for i, tok := range issuedTokens(t, sim) {
		needles[tok] = fmt.Sprintf("access token #%d", i+1)
		needles[tok[strings.LastIndexByte(tok, '.')+1:]] = fmt.Sprintf("the signature of access token #%d", i+1)
	}
	for needle, what := range needles {
		for _, s := range all {
			if strings.Contains(s, needle) {
				t.Errorf("a key or value in Redis holds %s in plain text", what)
				break
			}
		}
	}
}
