package demo

import (
	"fmt"
	"strings"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/server"
	"github.com/xdrproxy/xdrproxy/simulator"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// ready is where the demo listens once the proxy's listeners are open.
func (s *simulated) ready(l server.Addrs, cfg *config.Config) Ready {
	r := Ready{
		HTTPURL:            "http://" + l.Proxy.String(),
		TLSURL:             "https://" + l.ExtraTLS.String(),
		AdminURL:           "http://" + l.Admin.String(),
		FabrikamURL:        "http://" + l.Tenants[0].String(),
		SimulatorURL:       s.sim.URL(),
		CAFile:             s.caFile,
		ConsentURL:         tokencache.AdminConsentURL(s.url, simulator.DefaultClientID, simulator.UnconsentedTenantID),
		ForeignCredentials: s.sim.ForeignCredentials,
	}
	if cfg.PublicURL != nil {
		r.PublicURL = cfg.PublicURL.String()
	}
	return r
}

// authority is the origin a tool names as its authority: the public URL
// when the demo runs behind a front, else the TLS listener.
func (r Ready) authority() string {
	if r.PublicURL != "" {
		return r.PublicURL
	}
	return r.TLSURL
}

// banner is what the demo prints once the proxy listens: where everything
// runs, and lines to paste that try each feature.
func banner(r Ready) string {
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

  # grant that consent on the simulator's stand-in consent page ...
  curl -s --cacert %[5]s '%[4]s'
  # ... then tell the proxy to retry northwind now (else it waits out a short
  # backoff); it answers the tenant's state, "ready": true
  curl -s -X POST %[3]s/tenants/northwind/retry
  curl -s -H 'X-Tenant-ID: northwind' '%[2]s/api/incidents?$top=1'

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

  # readiness of the proxy, and of one customer
  curl -s %[3]s/readyz
  curl -s '%[3]s/readyz?tenant=northwind'

  # every tenant's token, roles, errors and consent links: open in a browser
  %[3]s/
`, r.SimulatorURL, r.HTTPURL, r.AdminURL, r.ConsentURL, r.CAFile, r.FabrikamURL, simulator.DefaultClientID)
	fmt.Fprintf(&b, `
MSAL-based tools (Microsoft's libraries for Python, Node, Go, .NET) insist on
https, so the proxy also listens at %s with token emulation,
its certificate signed by the demo's CA. Point a tool at it with
  authority   %s/contoso   (or fabrikam)
  client ID   %s   (any client secret)
  and instance discovery off: README.md, "Pointing Microsoft's libraries at xdrproxy"
and make it trust the demo's CA, in the shell that runs it:
  export REQUESTS_CA_BUNDLE=%[4]s SSL_CERT_FILE=%[4]s   # Python
  export NODE_EXTRA_CA_CERTS=%[4]s   # Node.js
  export SSL_CERT_FILE=%[4]s   # Go
Paging links in answers point back at the proxy, so SDKs page through it:
  curl -s --cacert %[4]s '%[5]s/tenants/contoso/api/incidents?$top=2'

Press Ctrl-C to stop.

`, r.TLSURL, r.authority(), simulator.DefaultClientID, r.CAFile, r.TLSURL)
	return b.String()
}
