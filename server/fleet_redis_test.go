package server

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// contosoOnly is the tenant of the key tests: one token key in Redis.
const contosoOnly = "contoso=" + simulator.ContosoTenantID

// A token another replica sealed is used only when one of the replica's
// keys opens it: a replica with another key acquires its own and serves,
// one whose key file lists the old key after a new one (a rotation) uses
// the fleet's token, and a tampered value is ignored and replaced.
func TestFleetTokenKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		// keysB is the second replica's key file, given the first's key.
		keysB func(t *testing.T, keyA []byte) string
		// requests is how many token requests the second replica makes.
		requests int
	}{
		{"another key", func(t *testing.T, _ []byte) string { return writeKeyFile(t, newTokenKey(t)) }, 1},
		{"rotated", func(t *testing.T, old []byte) string { return writeKeyFile(t, newTokenKey(t), old) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := testutil.StartRedis(t)
			sim := testutil.StartSimulator(t, nil)
			c := fleetClient(t)
			keyA := newTokenKey(t)
			env := fleetEnv(addr, writeKeyFile(t, keyA))
			env["XDRPROXY_TENANTS"] = contosoOnly
			a := startReplica(t, sim, env)
			a.mustServe(t, c, "contoso") // the token is in Redis, sealed with keyA

			env["XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE"] = tc.keysB(t, keyA)
			b := startReplica(t, sim, env)
			b.mustServe(t, c, "contoso")
			if n := sim.TokenRequests(simulator.ContosoTenantID) - 1; n != tc.requests {
				t.Errorf("the second replica made %d token requests, want %d", n, tc.requests)
			}
			a.mustServe(t, c, "contoso")
			assertNoCredentialInRedis(t, rawRedis(t, addr, ""), sim)
		})
	}
}

// A token whose sealed value was changed in Redis is never served: the
// next replica that needs it acquires a new one, and the value it writes
// in its place opens for the fleet.
func TestFleetTamperedTokenIsReplaced(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	sim := testutil.StartSimulator(t, nil)
	c := fleetClient(t)
	env := fleetEnv(addr, writeKeyFile(t, newTokenKey(t)))
	env["XDRPROXY_TENANTS"] = contosoOnly
	startReplica(t, sim, env).mustServe(t, c, "contoso")

	raw := rawRedis(t, addr, "")
	keys := redisKeys(t, raw, "xdrproxy:token:*")
	if len(keys) != 1 {
		t.Fatalf("Redis holds %d token keys for one tenant and scope, want 1", len(keys))
	}
	value := []byte(raw.Get(t.Context(), keys[0]).Val())
	value[len(value)/2] ^= 1
	tampered := string(value)
	if err := raw.SetArgs(t.Context(), keys[0], tampered, redis.SetArgs{KeepTTL: true}).Err(); err != nil {
		t.Fatal(err)
	}

	startReplica(t, sim, env).mustServe(t, c, "contoso")
	if n := sim.TokenRequests(simulator.ContosoTenantID); n != 2 {
		t.Errorf("a replica that found a tampered token made %d token requests, want 1", n-1)
	}
	if v := raw.Get(t.Context(), keys[0]).Val(); v == tampered || v == "" {
		t.Error("the tampered value was not replaced")
	}
	// The replacement opens: a third replica uses it.
	startReplica(t, sim, env).mustServe(t, c, "contoso")
	if n := sim.TokenRequests(simulator.ContosoTenantID); n != 2 {
		t.Errorf("a replica started after the replacement made %d token requests, want none", n-2)
	}
	assertNoCredentialInRedis(t, raw, sim)
}

// A Redis that accepts connections and never answers neither keeps a
// replica from starting nor slows its requests beyond Redis's timeout.
func TestFleetSilentRedis(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	c := fleetClient(t)
	env := fleetEnv(testutil.SilentRedis(t), writeKeyFile(t, newTokenKey(t)))
	start := time.Now()
	r := startReplicaTimeout(t, sim, env, 0) // the product's 100 ms
	for _, tenant := range []string{"contoso", "fabrikam", "contoso"} {
		r.mustServe(t, c, tenant)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("starting and serving 3 requests took %v with a silent Redis, want well under 5s", took)
	}
	if up := r.redisUp(t, c); up != 0 {
		t.Errorf("xdrproxy_redis_up = %v with a Redis that never answers, want 0", up)
	}
	if n, _ := r.metric(t, c, "xdrproxy_redis_fallbacks_total"); n == 0 {
		t.Error("xdrproxy_redis_fallbacks_total = 0 with a Redis that never answers")
	}
}

// XDRPROXY_REDIS_PASSWORD_FILE authenticates to a Redis that requires a
// password; a wrong one leaves the replica on its own state, serving.
func TestFleetRedisPasswordFile(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	if err := rawRedis(t, addr, "").ConfigSet(t.Context(), "requirepass", "fleet-pw-1").Err(); err != nil {
		t.Fatal(err)
	}
	sim := testutil.StartSimulator(t, nil)
	c := fleetClient(t)
	dir := t.TempDir()
	env := fleetEnv(addr, writeKeyFile(t, newTokenKey(t)))
	for _, tc := range []struct {
		name, password string
		up             float64
	}{
		{"right", "fleet-pw-1\n", 1},
		{"wrong", "fleet-pw-2\n", 0},
	} {
		file := filepath.Join(dir, tc.name)
		if err := os.WriteFile(file, []byte(tc.password), 0o600); err != nil {
			t.Fatal(err)
		}
		env["XDRPROXY_REDIS_PASSWORD_FILE"] = file
		r := startReplica(t, sim, env)
		r.mustServe(t, c, "contoso")
		r.mustServe(t, c, "fabrikam")
		if up := r.redisUp(t, c); up != tc.up {
			t.Errorf("%s password: xdrproxy_redis_up = %v, want %v", tc.name, up, tc.up)
		}
	}
	raw := rawRedis(t, addr, "fleet-pw-1")
	if n := len(redisKeys(t, raw, "xdrproxy:token:*")); n != 2 {
		t.Errorf("Redis holds %d tokens after the replica with the right password served 2 tenants, want 2", n)
	}
	if n := sim.TotalTokenRequests(); n != 4 {
		t.Errorf("%d token requests, want 4: 2 shared through Redis, 2 by the replica that cannot log in", n)
	}
	assertNoCredentialInRedis(t, raw, sim)
}
