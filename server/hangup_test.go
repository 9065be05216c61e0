package server

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// SIGHUP after a customer's admin consented retries the failed tenant at
// once, without waiting out its backoff (a minute at least), and leaves
// the tenants that have tokens alone.
func TestHangupRetriesFailedTenants(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	cfg := serveConfig(t, sim, nil)
	roots, _ := sim.CertPool()
	hangup := make(chan os.Signal)
	handled := make(chan struct{})
	addrs, _ := startServeOptions(t, cfg, Options{Roots: roots, Hangup: hangup, HungUp: func() { handled <- struct{}{} }})
	adminURL := "http://" + addrs.Admin.String()
	// The warm-up has tried every tenant once when /readyz opens.
	for i := 0; ; i++ {
		code, _ := testutil.Get(t, adminURL+"/readyz")
		if code == 200 {
			break
		}
		if i == 500 {
			t.Fatal("/readyz never opened")
		}
		waitABit()
	}
	if code, body := testutil.Get(t, adminURL+"/readyz?tenant=northwind"); code != 503 || !strings.Contains(body, "AADSTS700016") {
		t.Fatalf("northwind before consent: %d %s", code, body)
	}
	if err := sim.SetTenant(simulator.Tenant{ID: simulator.UnconsentedTenantID, Name: "Northwind", Consented: true, Roles: simulator.DefaultRoles}); err != nil {
		t.Fatal(err)
	}
	northwind, contoso := sim.TokenRequests(simulator.UnconsentedTenantID), sim.TokenRequests(simulator.ContosoTenantID)
	hangup <- syscall.SIGHUP
	<-handled
	if code, body := testutil.Get(t, adminURL+"/readyz?tenant=northwind"); code != 200 {
		t.Errorf("northwind after consent and SIGHUP: %d %s", code, body)
	}
	if n := sim.TokenRequests(simulator.UnconsentedTenantID) - northwind; n != 1 {
		t.Errorf("SIGHUP made %d token requests for the failed tenant, want 1", n)
	}
	if n := sim.TokenRequests(simulator.ContosoTenantID) - contoso; n != 0 {
		t.Errorf("SIGHUP made %d token requests for a tenant with a token, want 0", n)
	}
}
