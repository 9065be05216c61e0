package demo_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/demo"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// startDemo runs the demo on free ports until the test ends and returns
// where it listens and its banner.
func startDemo(t *testing.T, o demo.Options) (demo.Ready, string) {
	t.Helper()
	o.ListenAddr, o.AdminAddr, o.FabrikamAddr, o.TLSAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	o.LogFormat = "json"
	ready := make(chan demo.Ready, 1)
	o.OnReady = func(r demo.Ready) { ready <- r }
	ctx, cancel := context.WithCancel(context.Background())
	var out, logs testutil.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- demo.Run(ctx, o, &out, &logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo.Run: %v", err)
		}
	})
	select {
	case r := <-ready:
		return r, out.String()
	case err := <-done:
		t.Fatalf("demo ended before listening: %v\n%s", err, logs.String())
	}
	panic("unreachable")
}

// trusting is an HTTP client that trusts only the CA in caFile.
func trusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// TestDemoTLSListener is what an MSAL-based tool does against the demo:
// MSAL Go takes the TLS listener as its authority, gets a placeholder,
// and calls the API with it over TLS.
func TestDemoTLSListener(t *testing.T) {
	r, banner := startDemo(t, demo.Options{})
	if !strings.HasPrefix(r.TLSURL, "https://127.0.0.1:") || r.TLSURL == "https://127.0.0.1:0" {
		t.Fatalf("TLS URL %q", r.TLSURL)
	}
	for _, want := range []string{
		"authority   " + r.TLSURL + "/contoso",
		"export REQUESTS_CA_BUNDLE=" + r.CAFile + " SSL_CERT_FILE=" + r.CAFile,
		"export NODE_EXTRA_CA_CERTS=" + r.CAFile,
		"export SSL_CERT_FILE=" + r.CAFile + "   # Go",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	client := trusting(t, r.CAFile)

	cred, err := confidential.NewCredFromSecret("any secret: the demo has no client keys")
	if err != nil {
		t.Fatal(err)
	}
	app, err := confidential.New(r.TLSURL+"/contoso", simulator.DefaultClientID, cred,
		confidential.WithInstanceDiscovery(false), confidential.WithHTTPClient(client))
	if err != nil {
		t.Fatal(err)
	}
	res, err := app.AcquireTokenByCredential(context.Background(), []string{"https://api.security.microsoft.com/.default"})
	if err != nil {
		t.Fatalf("MSAL Go against the demo's TLS listener: %v", err)
	}
	if _, payload := testutil.DecodeJWT(t, res.AccessToken); payload["tid"] != simulator.ContosoTenantID || payload["iss"] != "urn:xdrproxy:placeholder" {
		t.Errorf("placeholder claims %v", payload)
	}
	req, _ := http.NewRequest(http.MethodGet, r.TLSURL+"/api/incidents?$top=1", nil)
	req.Header.Set("Authorization", "Bearer "+res.AccessToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), simulator.ContosoTenantID) {
		t.Errorf("API call over TLS: %d %s", resp.StatusCode, body)
	}
	var page struct {
		Next string `json:"@odata.nextLink"`
	}
	if json.Unmarshal(body, &page); !strings.HasPrefix(page.Next, r.TLSURL+"/api/incidents?") {
		t.Errorf("nextLink %q does not lead back to the TLS listener", page.Next)
	}
	if n := r.ForeignCredentials(); n != 0 {
		t.Errorf("%d requests reached the simulated API with a client's credential", n)
	}
}

// TestDemoPublicURL: behind a front, every discovery document names the
// public origin, on the plain and the TLS listener alike.
func TestDemoPublicURL(t *testing.T) {
	public, err := config.ParsePublicURL("https://xdrproxy.soc.example:9443/")
	if err != nil {
		t.Fatal(err)
	}
	r, banner := startDemo(t, demo.Options{PublicURL: public})
	if !strings.Contains(banner, "authority   https://xdrproxy.soc.example:9443/contoso") {
		t.Errorf("banner does not give the public authority:\n%s", banner)
	}
	client := trusting(t, r.CAFile)
	for _, base := range []string{r.HTTPURL, r.TLSURL} {
		resp, err := client.Get(base + "/fabrikam/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil || doc["token_endpoint"] != "https://xdrproxy.soc.example:9443/fabrikam/oauth2/v2.0/token" ||
			doc["issuer"] != "https://xdrproxy.soc.example:9443/fabrikam/v2.0" {
			t.Errorf("%s: discovery %v (%v)", base, doc, err)
		}
	}
}

func TestDemoPublicURLFromEnv(t *testing.T) {
	t.Setenv("XDRPROXY_PUBLIC_URL", "https://xdrproxy.soc.example/api")
	if _, err := demo.OptionsFromEnv(); err == nil || !strings.HasPrefix(err.Error(), "XDRPROXY_PUBLIC_URL: ") {
		t.Errorf("a public URL with a path: %v", err)
	}
	t.Setenv("XDRPROXY_PUBLIC_URL", "https://xdrproxy.soc.example")
	if o, err := demo.OptionsFromEnv(); err != nil || o.PublicURL.String() != "https://xdrproxy.soc.example" {
		t.Errorf("OptionsFromEnv: %+v, %v", o, err)
	}
}

// TestDemoTLSAddrTaken: an explicit --tls-addr that is taken is a start-up
// error naming the flag, not a silent move to another port.
func TestDemoTLSAddrTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	o := demo.Options{ListenAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", FabrikamAddr: "127.0.0.1:0", TLSAddr: taken.Addr().String(), LogFormat: "json"}
	var out, logs testutil.SyncBuffer
	err = demo.Run(context.Background(), o, &out, &logs)
	if err == nil || !strings.HasPrefix(err.Error(), "--tls-addr "+taken.Addr().String()+": ") {
		t.Errorf("demo.Run with a taken --tls-addr: %v", err)
	}
}
