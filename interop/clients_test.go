package interop

import (
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// clients are the libraries under test, each with the tenant it names in
// its authority: an alias for some, the GUID for others, fabrikam for
// some, so that the placeholder's routing to its tenant is checked too.
var clients = []struct {
	name     string
	tenant   string // as the client names it
	tenantID string // the GUID its incidents must carry
	run      func(t *testing.T, s stack, tenant string) map[string][]page
}{
	{"msal-python", "contoso", simulator.ContosoTenantID, pythonClient("msal_client.py", "msal", "python3-msal")},
	{"azure-identity-python", simulator.FabrikamTenantID, simulator.FabrikamTenantID, pythonClient("azure_identity_client.py", "azure.identity", "python3-azure")},
	{"adal-python", "fabrikam", simulator.FabrikamTenantID, pythonClient("adal_client.py", "adal", "python3-adal")},
	{"azidentity-go", "contoso", simulator.ContosoTenantID, azidentityClient},
	{"msal-go", simulator.ContosoTenantID, simulator.ContosoTenantID, msalGoClient},
}

// runClients runs every client against s: each gets a token with s as its
// authority, then pages through the Defender and Graph incidents.
func runClients(t *testing.T, s stack) {
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			if s.forwarded != nil {
				s.forwarded() // forget earlier clients' requests
			}
			got := c.run(t, s, c.tenant)
			for _, a := range apis {
				checkPages(t, s, c.tenantID, a, got[a.name])
			}
			if s.forwarded != nil {
				checkTokenRequests(t, c.tenant, s.forwarded())
			}
		})
	}
}

// TestDemoTLS points the libraries at the demo's own TLS listener, which
// the simulator's CA signs.
func TestDemoTLS(t *testing.T) {
	runClients(t, demoStack(t))
}

// TestBehindFront points the libraries at a TLS-terminating front before
// the demo's plain-HTTP listener, the demo knowing the front's origin as
// its public URL.
func TestBehindFront(t *testing.T) {
	runClients(t, frontStack(t))
}

// checkTokenRequests asserts that the client's token requests went
// through the front. A discovery document naming the proxy's own
// listener (http://, the port behind the front) would send them around
// it, and some libraries would follow it without complaint.
func checkTokenRequests(t *testing.T, tenant string, forwarded []string) {
	t.Helper()
	for _, r := range forwarded {
		if strings.HasPrefix(r, "POST /"+tenant+"/oauth2/") {
			return
		}
	}
	t.Errorf("no token request (POST /%s/oauth2/…) came through the front; it forwarded %q", tenant, forwarded)
}
