package interop

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/xdrproxy/xdrproxy/internal/servertest"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// TestServeTLS points the libraries at `xdrproxy serve` over its own TLS,
// configured from the environment as an operator configures it.
func TestServeTLS(t *testing.T) {
	runClients(t, serveTLSStack(t))
}

// serveTLSStack is `serve` with XDRPROXY_TLS_CERT_FILE signed by a CA of
// the test's own, token emulation with a placeholder key file, the
// clients' secret as a client key of contoso and fabrikam, and the
// simulator as Entra ID and as the Defender API, with Graph behind the
// /graph/ route as the demo has it. Clients trust only the test's CA.
func serveTLSStack(t *testing.T) stack {
	sim := testutil.StartSimulator(t, nil)
	ca := testutil.NewCA(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	certPEM, keyPEM, _ := ca.Issue(t, "xdrproxy", true)
	addrs := servertest.StartFromEnv(t, sim, map[string]string{
		"XDRPROXY_LISTEN_ADDR":          "127.0.0.1:0",
		"XDRPROXY_ADMIN_ADDR":           "127.0.0.1:0",
		"XDRPROXY_TENANTS":              "contoso=" + simulator.ContosoTenantID + ",fabrikam=" + simulator.FabrikamTenantID,
		"XDRPROXY_ROUTES":               "/graph/=" + sim.URL() + "|https://graph.microsoft.com/.default",
		"XDRPROXY_TLS_CERT_FILE":        write("tls.crt", certPEM),
		"XDRPROXY_TLS_KEY_FILE":         write("tls.key", keyPEM),
		"XDRPROXY_TLS_CLIENT_CA_FILE":   "",
		"XDRPROXY_TOKEN_EMULATION":      "true",
		"XDRPROXY_PLACEHOLDER_KEY_FILE": write("placeholder.pem", testutil.PlaceholderKeyPEM(t)),
		"XDRPROXY_CLIENT_KEYS_FILE":     write("client-keys", []byte(testutil.KeyLine(clientSecret, "contoso,fabrikam"))),
		"XDRPROXY_SHUTDOWN_TIMEOUT":     "5s",
		"XDRPROXY_LOG_FORMAT":           "json",
	})
	noForeignCredentials(t, sim.ForeignCredentials)
	return stack{origin: "https://" + addrs.Proxy.String(), caFile: write("ca.pem", ca.PEM()), roots: ca.Pool()}
}
