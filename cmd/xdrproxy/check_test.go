package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

func TestCheckRefusesUnknownTenant(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	testutil.SimulatorEnv(t, sim, nil)
	var out, errOut bytes.Buffer
	err := execute([]string{"check", "--tenant", "acme"}, &out, &errOut)
	var ee *exitError
	if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), "acme") {
		t.Fatalf("err = %v, want exit 2 naming acme", err)
	}
	if sim.TotalTokenRequests() != 0 {
		t.Error("an unknown tenant made token requests")
	}
}

func TestCheckUnknownTenantNamesTheTenantsFile(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	testutil.SimulatorEnv(t, sim, nil)
	path := tenantsFileFor(t, "contoso="+simulator.ContosoTenantID+"\n")
	t.Setenv("XDRPROXY_TENANTS", "")
	t.Setenv("XDRPROXY_TENANTS_FILE", path)
	var out, errOut bytes.Buffer
	err := execute([]string{"check", "--tenant", "acme"}, &out, &errOut)
	want := `--tenant "acme" is not one of the tenants configured in XDRPROXY_TENANTS_FILE (` + path + `)`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}
