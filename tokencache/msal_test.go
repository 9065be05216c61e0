package tokencache_test

import (
	"context"
	"testing"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// TestMSALSourceKeepsNoToken checks, with the real MSAL Go against the
// simulator, that MSAL's own token cache never answers: each Token asks
// Entra ID, so MSAL holds no copy of the tenants' tokens (the Cache holds
// the one copy the proxy needs) and cannot overrule the Cache's refresh.
func TestMSALSourceKeepsNoToken(t *testing.T) {
	sim := testutil.StartSimulator(t, &simulator.Server{})
	src := msalSource(t, sim, simulator.DefaultClientSecret)
	ctx := context.Background()
	seen := map[string]bool{}
	for i, tenant := range []string{simulator.ContosoTenantID, simulator.FabrikamTenantID, simulator.ContosoTenantID, simulator.ContosoTenantID} {
		tok, err := src.Token(ctx, tenant, scope)
		if err != nil {
			t.Fatalf("acquisition %d: %v", i, err)
		}
		if seen[tok.Value] {
			t.Errorf("acquisition %d was answered with a token already handed out: MSAL's cache answered", i)
		}
		seen[tok.Value] = true
	}
	if got := sim.TokenRequests(simulator.ContosoTenantID); got != 3 {
		t.Errorf("%d token requests for contoso, want 3 (one per Token call)", got)
	}
	if got := sim.TokenRequests(simulator.FabrikamTenantID); got != 1 {
		t.Errorf("%d token requests for fabrikam, want 1", got)
	}
}
