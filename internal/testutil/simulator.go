package testutil

import (
	"net/http"
	"testing"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// StartSimulator starts sim (a simulator with default knobs when nil) on
// a loopback port, over TLS signed by its own CA, and closes it when the
// test ends.
func StartSimulator(t testing.TB, sim *simulator.Server) *simulator.Server {
	t.Helper()
	if sim == nil {
		sim = &simulator.Server{}
	}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// SimulatorTransport returns a copy of http.DefaultTransport that trusts
// only the CA of the started simulator sim, as the product's own clients
// of Entra ID and the API do, and closes its idle connections when the
// test ends.
func SimulatorTransport(t testing.TB, sim *simulator.Server) *http.Transport {
	t.Helper()
	pool, err := sim.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = pool
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// SimulatorEnv points the configuration read from the environment at a
// started simulator, for the rest of the test: its Entra ID and API, its
// application and secret, and the tenants contoso, fabrikam and northwind
// (which has not consented). Variables that would change that and that a
// developer's shell may hold are cleared; the variables in extra are set
// last, and an empty value clears one.
func SimulatorEnv(t testing.TB, sim *simulator.Server, extra map[string]string) {
	t.Helper()
	for _, v := range []string{"AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "XDRPROXY_CLIENT_SECRET_FILE", "XDRPROXY_ROUTES", "XDRPROXY_REQUIRED_ROLES", "XDRPROXY_TENANTS_FILE", "XDRPROXY_DEFAULT_TENANT"} {
		t.Setenv(v, "")
	}
	env := map[string]string{
		"XDRPROXY_AUTHORITY_HOST":     sim.URL(),
		"XDRPROXY_INSTANCE_DISCOVERY": "false",
		"XDRPROXY_UPSTREAM_URL":       sim.URL(),
		"XDRPROXY_CLIENT_ID":          simulator.DefaultClientID,
		"XDRPROXY_CLIENT_SECRET":      simulator.DefaultClientSecret,
		"XDRPROXY_TENANTS": "contoso=" + simulator.ContosoTenantID + ",fabrikam=" + simulator.FabrikamTenantID +
			",northwind=" + simulator.UnconsentedTenantID,
	}
	for k, v := range extra {
		env[k] = v
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}
