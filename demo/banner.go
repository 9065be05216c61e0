package demo

import (
	"fmt"
	"strings"

	"github.com/xdrproxy/xdrproxy/server"
	"github.com/xdrproxy/xdrproxy/simulator"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// banner is what the demo prints once the proxy listens on l: where
// everything runs, and curl lines to paste that try each feature.
func (s *simulated) banner(l server.Addrs) string {
	consent := tokencache.AdminConsentURL(s.url, simulator.DefaultClientID, simulator.UnconsentedTenantID)
	return demoBanner("http://"+l.Proxy.String(), "http://"+l.Admin.String(), s.sim.URL(), consent, s.caFile, "http://"+l.Tenants[0].String())
}

// demoBanner fills the banner's text in.
func demoBanner(proxyURL, adminURL, simURL, consentURL, caFile, fabrikamURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
xdrproxy demo is running: a simulated Entra ID and Defender XDR API at %s,
and the proxy at %s (admin: %s). No Azure account or network is used.

Tenants: contoso and fabrikam have consented; northwind has not.
Paste any of these in another terminal:

  # incidents of tenant contoso, named by header
  curl -s -H 'X-Tenant-ID: contoso' '%[2]s/api/incidents?$top=2'

  # the same tenant named in the path, with an OData filter
  curl -s '%[2]s/tenants/fabrikam/api/incidents?$top=1&$filter=severity+eq+%%27High%%27'

  # the Graph security API through the /graph/ route, with a Graph token
  curl -s -H 'X-Tenant-ID: contoso' '%[2]s/graph/v1.0/security/incidents?$top=1'

  # advanced hunting
  curl -s -X POST -H 'X-Tenant-ID: contoso' -H 'Content-Type: application/json' \
       -d '{"Query":"DeviceProcessEvents | take 3"}' '%[2]s/api/advancedhunting/run'

  # a tenant whose admin has not consented: 502 TokenAcquisitionFailed with the consent link
  curl -s -H 'X-Tenant-ID: northwind' '%[2]s/api/incidents'

  # grant that consent on the simulator's stand-in consent page, then retry
  # the northwind line (the proxy retries a failed tenant after a short backoff)
  curl -s --cacert %[5]s '%[4]s'

  # no tenant named: 400 MissingTenant
  curl -s '%[2]s/api/incidents'

  # a tool that can only be given host:port: fabrikam's own listener
  curl -s '%[6]s/api/incidents?$top=1'

  # a tool with Microsoft's OAuth flow built in asks the proxy for a token
  # (the demo has no client keys, so any secret is taken) and gets a
  # placeholder, which the proxy swaps for the real token on the way out
  TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=%[7]s \
       -d client_secret=any -d resource=https://api.security.microsoft.com \
       '%[2]s/contoso/oauth2/token' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  curl -s -H "Authorization: Bearer $TOKEN" '%[2]s/api/incidents?$top=1'

  # readiness
  curl -s %[3]s/readyz

Press Ctrl-C to stop.

`, simURL, proxyURL, adminURL, consentURL, caFile, fabrikamURL, simulator.DefaultClientID)
	return b.String()
}
