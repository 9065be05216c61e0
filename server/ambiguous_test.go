package server

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// ambiguousRequest has both Content-Length and Transfer-Encoding, and a
// request pipelined after it.
const ambiguousRequest = "POST /api/advancedhunting/run HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\n" +
	"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
	"GET /api/incidents HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\n\r\n"

// Every listener (proxy, tenant, the demo's extra TLS one, admin; plain
// and TLS) answers a request with both Content-Length and
// Transfer-Encoding 400 InvalidRequest and closes the connection; nothing
// reaches the upstream.
func TestAmbiguousRequestsOnEveryListener(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	roots, _ := sim.CertPool()
	ca := testutil.NewCA(t)
	certPEM, keyPEM, _ := ca.Issue(t, "xdrproxy", true)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	for _, useTLS := range []bool{false, true} {
		name := "plain"
		env := map[string]string{"XDRPROXY_TENANT_LISTENERS": "127.0.0.1:0=contoso"}
		if useTLS {
			name = "TLS"
			dir := t.TempDir()
			env["XDRPROXY_TLS_CERT_FILE"], env["XDRPROXY_TLS_KEY_FILE"] = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
			os.WriteFile(env["XDRPROXY_TLS_CERT_FILE"], certPEM, 0o600)
			os.WriteFile(env["XDRPROXY_TLS_KEY_FILE"], keyPEM, 0o600)
		}
		t.Run(name, func(t *testing.T) {
			l, _ := startServeOptions(t, serveConfig(t, sim, env), Options{
				Roots: roots, ExtraTLS: &ExtraTLSListener{Addr: "127.0.0.1:0", Certificate: pair},
			})
			for _, ln := range []struct {
				name string
				addr net.Addr
				tls  bool
			}{{"proxy", l.Proxy, useTLS}, {"tenant", l.Tenants[0], useTLS}, {"extra TLS", l.ExtraTLS, true}, {"admin", l.Admin, false}} {
				t.Run(ln.name, func(t *testing.T) {
					before := len(sim.APIRequests())
					br, rest := rawExchange(t, dialListener(t, ln.addr, ln.tls, ca), ambiguousRequest)
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					if resp.StatusCode != 400 || !resp.Close || resp.Header.Get("Content-Type") != "application/json" ||
						!strings.Contains(string(body), `"code":"InvalidRequest"`) {
						t.Errorf("%d (close %v) %s %s", resp.StatusCode, resp.Close, resp.Header.Get("Content-Type"), body)
					}
					if after := rest(); after != "" {
						t.Errorf("after the refusal the connection carried on: %q", after)
					}
					if n := len(sim.APIRequests()) - before; n > 0 {
						t.Errorf("%d requests reached the upstream", n)
					}
				})
			}
		})
	}
}

// "OPTIONS *", which net/http would answer itself, passes the framing
// check too, so that the check stays in step with the requests of its
// connection.
func TestAsteriskOptionsKeepsTheCheckInStep(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	roots, _ := sim.CertPool()
	l, _ := startServeOptions(t, serveConfig(t, sim, nil), Options{Roots: roots})
	br, rest := rawExchange(t, dialListener(t, l.Proxy, false, nil), "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"+ambiguousRequest)
	for _, want := range []int{200, 400} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("status %d, want %d", resp.StatusCode, want)
		}
	}
	if after := rest(); after != "" {
		t.Errorf("after the refusal the connection carried on: %q", after)
	}
}

// dialListener connects to addr, over TLS trusting ca when useTLS.
func dialListener(t *testing.T, addr net.Addr, useTLS bool, ca *testutil.CA) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	if useTLS {
		c = tls.Client(c, &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// rawExchange sends raw on c and returns a reader of the answer, and a
// function that reads the rest until the server closes c.
func rawExchange(t *testing.T, c net.Conn, raw string) (*bufio.Reader, func() string) {
	t.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	return br, func() string {
		t.Helper()
		rest, err := io.ReadAll(br)
		if err != nil {
			t.Fatalf("reading until the server closes the connection: %v", err)
		}
		return string(rest)
	}
}
