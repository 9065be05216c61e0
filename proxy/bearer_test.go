package proxy

import (
	"fmt"
	"testing"
)

// TestBearerTable: each tenant and scope gets the header of the token it
// asks with, whether its slot holds its last token, another tenant's
// (more tenants than slots) or its own old one.
func TestBearerTable(t *testing.T) {
	b := newBearerTable()
	for round := range 3 {
		for i := range 3 * bearerSlots {
			tenant, scope := fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), []string{"s1", "s2"}[i%2]
			token := fmt.Sprintf("token-%d-%s-%d", i, scope, round/2) // changes after round 1
			if got := b.header(tenant, scope, token); len(got) != 1 || got[0] != "Bearer "+token {
				t.Fatalf("round %d, tenant %d: header %q, want Bearer %s", round, i, got, token)
			}
		}
	}
	// The same token again costs nothing.
	tok := "token-again"
	b.header("t", "s", tok)
	if n := testing.AllocsPerRun(100, func() { b.header("t", "s", tok) }); n != 0 {
		t.Errorf("%v allocations for a token whose header is kept", n)
	}
}
