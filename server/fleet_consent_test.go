package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// A tenant without consent costs Entra ID one request for the whole fleet
// (not one per replica) until its backoff ends; once its admin consents,
// a retry on one replica makes it served on every replica, without
// waiting out the backoff (a minute at least).
func TestFleetSharesAFailedTenantAndItsRetry(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	sim := testutil.StartSimulator(t, nil)
	keys := writeKeyFile(t, newTokenKey(t))
	env := fleetEnv(addr, keys)
	env["XDRPROXY_TENANTS"] = "northwind=" + simulator.UnconsentedTenantID
	env["XDRPROXY_RATE_LIMITS"] = "off" // the test polls faster than Microsoft allows
	var fleet []replica
	for range 3 {
		fleet = append(fleet, startReplica(t, sim, env))
	}
	c := fleetClient(t)
	for i := range 9 {
		if a := fleet[i%3].incidents(t, c, "northwind"); a.status != http.StatusBadGateway || a.code != "TokenAcquisitionFailed" {
			t.Fatalf("request %d for an unconsented tenant: %d %s, want 502 TokenAcquisitionFailed", i, a.status, a.code)
		}
	}
	if n := sim.TokenRequests(simulator.UnconsentedTenantID); n != 1 {
		t.Fatalf("three replicas asked Entra ID %d times for an unconsented tenant within its backoff, want 1", n)
	}

	if err := sim.SetTenant(simulator.Tenant{ID: simulator.UnconsentedTenantID, Name: "Northwind", Consented: true, Roles: simulator.DefaultRoles}); err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, fleet[1].admin+"/tenants/northwind/retry"); code != 200 {
		t.Fatalf("retry on the second replica: %d %s", code, body)
	}
	// The other replicas look again at the fleet's state within 5 s.
	for _, r := range []replica{fleet[0], fleet[2]} {
		deadline := time.Now().Add(15 * time.Second)
		for r.incidents(t, c, "northwind").status != http.StatusOK {
			if time.Now().After(deadline) {
				a := r.incidents(t, c, "northwind")
				t.Fatalf("%s still refuses northwind 15 s after a retry elsewhere: %d %s", r.proxy, a.status, a.code)
			}
			time.Sleep(100 * time.Millisecond) // waits for the replica's recheck, not for a goroutine of the test
		}
	}
	if n := sim.TokenRequests(simulator.UnconsentedTenantID); n != 2 {
		t.Errorf("%d token requests in all, want 2: the failure, then the retry's token, shared", n)
	}
}
