package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// legacyProxy is a proxy serving legacy tools: TLS, token emulation and
// client keys, backed by the simulator.
type legacyProxy struct {
	sim     *simulator.Server
	ca      *testutil.CA
	dir     string
	caFile  string
	base    string   // https://127.0.0.1:port
	tenants []string // the tenant listeners' https:// URLs
	reloads chan error
}

const (
	soarKey  = "soar-tool-key-3b9e1d"    // allowed contoso
	gwKey    = "gateway-client-key-8c41" // allowed every tenant
	certFile = "tls.crt"
	keyFile  = "tls.key"
)

func startLegacyProxy(t *testing.T, extra map[string]string) *legacyProxy {
	t.Helper()
	sim := testutil.StartSimulator(t, nil)
	dir := t.TempDir()
	ca := testutil.NewCA(t)
	certPEM, keyPEM, _ := ca.Issue(t, "xdrproxy", true)
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	env := map[string]string{
		"XDRPROXY_TLS_CERT_FILE":      write(certFile, certPEM),
		"XDRPROXY_TLS_KEY_FILE":       write(keyFile, keyPEM),
		"XDRPROXY_TOKEN_EMULATION":    "true",
		"XDRPROXY_CLIENT_KEYS_FILE":   write("client-keys", []byte(testutil.KeyLine(soarKey, "contoso")+testutil.KeyLine(gwKey, "*"))),
		"XDRPROXY_TENANT_LISTENERS":   "127.0.0.1:0=contoso",
		"XDRPROXY_TLS_CLIENT_CA_FILE": "",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg := serveConfig(t, sim, env)
	roots, _ := sim.CertPool()
	l, reloads := startServeListening(t, cfg, roots)
	p := &legacyProxy{sim: sim, ca: ca, dir: dir, caFile: write("ca.pem", ca.PEM()), base: "https://" + l.Proxy.String(), reloads: reloads}
	for _, a := range l.Tenants {
		p.tenants = append(p.tenants, "https://"+a.String())
	}
	return p
}

// client returns an HTTPS client trusting the test CA, presenting cert
// when given.
func (p *legacyProxy) client(t *testing.T, cert *tls.Certificate) *http.Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: p.ca.Pool()}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// upstreamGotARealToken checks that the last API request carried a token
// the simulator (Entra ID) signed for tenantID, and returns it.
func upstreamGotARealToken(t *testing.T, sim *simulator.Server, tenantID string) string {
	t.Helper()
	reqs := sim.APIRequests()
	if len(reqs) == 0 {
		t.Fatal("no request reached the API")
	}
	last := reqs[len(reqs)-1]
	tok := strings.TrimPrefix(last.Header.Get("Authorization"), "Bearer ")
	claims, err := sim.ParseToken(tok)
	if err != nil || claims.TenantID != tenantID {
		t.Fatalf("the API got no real token for %s (tid %q): %v", tenantID, last.TenantID, err)
	}
	return tok
}

// requireTool fails with how to install a missing tool: these tests are
// the proof the issue asks for, and are never skipped.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed; the partner-page sample tests need it (Debian: apt-get install -y %s; .ci/run installs it)", name, name)
	}
	return path
}

// toolEnv is the whole environment a sample runs with: no secret in it.
func toolEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "LANG=C.UTF-8"}, extra...)
}

// noRealSecrets fails if a tool's output holds the application's secret
// or a token the simulator signed.
func noRealSecrets(t *testing.T, sim *simulator.Server, output string) {
	t.Helper()
	if strings.Contains(output, simulator.DefaultClientSecret) {
		t.Error("the tool saw the application's secret")
	}
	for _, jwt := range regexp.MustCompile(`eyJ[\w-]+\.[\w-]+\.[\w-]+`).FindAllString(output, -1) {
		if _, err := sim.ParseToken(jwt); err == nil {
			t.Error("the tool was given a real Entra ID token")
		}
	}
}

func TestPartnerPagePythonSample(t *testing.T) {
	python := requireTool(t, "python3")
	p := startLegacyProxy(t, nil)
	sample, err := os.ReadFile("testdata/partner-access/python-sample.py")
	if err != nil {
		t.Fatal(err)
	}
	script := string(sample)
	// What a user pastes, as the sample asks: the client key in place of
	// the secret.
	for old, new := range map[string]string{
		"tenantId = ''":  "tenantId = '" + simulator.ContosoTenantID + "'",
		"clientId = ''":  "clientId = '" + simulator.DefaultClientID + "'",
		"appSecret = ''": "appSecret = '" + soarKey + "'",
		// The two base URLs.
		"https://login.windows.net":               "" + p.base,
		"https://api.security.microsoft.com/api/": p.base + "/api/",
	} {
		if !strings.Contains(script, old) {
			t.Fatalf("the sample no longer holds %q", old)
		}
		script = strings.ReplaceAll(script, old, new)
	}
	path := filepath.Join(p.dir, "sample.py")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, path)
	cmd.Env = toolEnv("SSL_CERT_FILE=" + p.caFile) // trust the proxy's CA: Python's default context reads it
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 sample: %v\n%s", err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 || lines[1] == "0" {
		t.Fatalf("want the token and a number of incidents, got:\n%s", out)
	}
	noRealSecrets(t, p.sim, string(out))
	upstreamGotARealToken(t, p.sim, simulator.ContosoTenantID)
	_, payload := testutil.DecodeJWT(t, lines[0])
	if payload["iss"] != "urn:xdrproxy:placeholder" || payload["tid"] != simulator.ContosoTenantID || payload["roles"] == nil {
		t.Errorf("the tool decodes %v", payload)
	}
}

func TestPartnerPageCurlSample(t *testing.T) {
	curl := requireTool(t, "curl")
	sh := requireTool(t, "sh")
	p := startLegacyProxy(t, nil)
	line, err := os.ReadFile("testdata/partner-access/curl-sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	command := strings.TrimSpace(string(line))
	// The one change: the token URL's base.
	if !strings.Contains(command, "https://login.microsoftonline.com/") {
		t.Fatal("the sample no longer holds the token URL")
	}
	command = strings.Replace(command, "https://login.microsoftonline.com", p.base, 1)
	// cmd.exe's %VAR% expansion, with the client key as CLIENT_SECRET.
	for name, value := range map[string]string{"CLIENT_ID": simulator.DefaultClientID, "CLIENT_SECRET": gwKey, "TENANT_ID": simulator.FabrikamTenantID} {
		command = strings.ReplaceAll(command, "%"+name+"%", value)
	}
	out, err := exec.Command(sh, "-c", command).CombinedOutput()
	if err != nil {
		t.Fatalf("curl sample: %v\n%s", err, out)
	}
	_, body, ok := strings.Cut(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n\n")
	var resp struct {
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		AccessToken string `json:"access_token"`
	}
	if !ok || json.Unmarshal([]byte(body), &resp) != nil || resp.TokenType != "Bearer" || resp.ExpiresIn < 3000 || resp.AccessToken == "" {
		t.Fatalf("curl -i output is not the page's successful response:\n%s", out)
	}
	noRealSecrets(t, p.sim, string(out))

	// The token on the API, the way the page's C# sample calls it.
	list := exec.Command(curl, "-sS", "--fail-with-body", "--cacert", p.caFile, "-H", "Authorization: Bearer "+resp.AccessToken, p.base+"/api/incidents")
	list.Env = toolEnv()
	out, err = list.CombinedOutput()
	if err != nil {
		t.Fatalf("listing incidents: %v\n%s", err, out)
	}
	var incidents struct {
		Value []json.RawMessage `json:"value"`
	}
	if json.Unmarshal(out, &incidents) != nil || len(incidents.Value) == 0 {
		t.Fatalf("not a list of incidents:\n%s", out)
	}
	noRealSecrets(t, p.sim, string(out))
	upstreamGotARealToken(t, p.sim, simulator.FabrikamTenantID)
}

func TestMSALGoClientAgainstTheProxy(t *testing.T) {
	p := startLegacyProxy(t, nil)
	for _, tc := range []struct {
		name, authority, tenantID string
	}{
		{"main listener, fabrikam", p.base + "/" + simulator.FabrikamTenantID, simulator.FabrikamTenantID},
		{"contoso's tenant listener", p.tenants[0] + "/" + simulator.ContosoTenantID, simulator.ContosoTenantID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			httpClient := p.client(t, nil)
			cred, err := confidential.NewCredFromSecret(gwKey)
			if err != nil {
				t.Fatal(err)
			}
			app, err := confidential.New(tc.authority, simulator.DefaultClientID, cred,
				confidential.WithInstanceDiscovery(false), confidential.WithHTTPClient(httpClient))
			if err != nil {
				t.Fatal(err)
			}
			res, err := app.AcquireTokenByCredential(context.Background(), []string{"https://api.securitycenter.microsoft.com/.default"})
			if err != nil {
				t.Fatalf("MSAL Go against the proxy: %v", err)
			}
			if until := time.Until(res.ExpiresOn); until < 50*time.Minute || until > time.Hour {
				t.Errorf("expires in %v", until)
			}
			noRealSecrets(t, p.sim, res.AccessToken)
			_, payload := testutil.DecodeJWT(t, res.AccessToken)
			if payload["tid"] != tc.tenantID || payload["iss"] != "urn:xdrproxy:placeholder" {
				t.Errorf("placeholder claims %v", payload)
			}

			base := strings.TrimSuffix(tc.authority, "/"+tc.tenantID)
			req, _ := http.NewRequest(http.MethodGet, base+"/api/incidents", nil)
			req.Header.Set("Authorization", "Bearer "+res.AccessToken)
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("API call: %d %s", resp.StatusCode, body)
			}
			noRealSecrets(t, p.sim, string(body))
			upstreamGotARealToken(t, p.sim, tc.tenantID)
		})
	}

	// MSAL with a wrong key gets Entra ID's own error, code and all.
	cred, _ := confidential.NewCredFromSecret("not-a-client-key")
	app, _ := confidential.New(p.base+"/"+simulator.ContosoTenantID, simulator.DefaultClientID, cred,
		confidential.WithInstanceDiscovery(false), confidential.WithHTTPClient(p.client(t, nil)))
	_, err := app.AcquireTokenByCredential(context.Background(), []string{"https://api.security.microsoft.com/.default"})
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("wrong key: %v", err)
	}
}

func TestMutualTLS(t *testing.T) {
	clientCA := testutil.NewCA(t)
	caFile := filepath.Join(t.TempDir(), "client-ca.pem")
	if err := os.WriteFile(caFile, clientCA.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startLegacyProxy(t, map[string]string{"XDRPROXY_TLS_CLIENT_CA_FILE": caFile})
	certPEM, keyPEM, _ := clientCA.Issue(t, "soar", false)
	good, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	strangerPEM, strangerKey, _ := testutil.NewCA(t).Issue(t, "stranger", false)
	stranger, _ := tls.X509KeyPair(strangerPEM, strangerKey)

	get := func(c *http.Client, url string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, url+"/api/incidents", nil)
		req.Header.Set("Authorization", "Bearer "+gwKey)
		req.Header.Set("X-Tenant-ID", "contoso")
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body) // so the connection is kept
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	refused := func(err error, want string) bool { return err != nil && strings.Contains(err.Error(), want) }
	for _, url := range append([]string{p.base}, p.tenants...) {
		if status, err := get(p.client(t, &good), url); err != nil || status != 200 {
			t.Errorf("%s with a client certificate: %d %v", url, status, err)
		}
		if _, err := get(p.client(t, nil), url); !refused(err, "certificate required") {
			t.Errorf("%s without a client certificate: %v, want the handshake refused", url, err)
		}
		if _, err := get(p.client(t, &stranger), url); !refused(err, "unknown certificate authority") {
			t.Errorf("%s with a certificate from another CA: %v, want the handshake refused", url, err)
		}
	}

	// No session resumption with client certificates: each connection
	// shows its certificate. (Without mTLS, sessions do resume.)
	resumes := func(lp *legacyProxy, cert *tls.Certificate) bool {
		cfg := &tls.Config{RootCAs: lp.ca.Pool(), ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		resumed := false
		for range 2 {
			req, _ := http.NewRequest(http.MethodGet, lp.base+"/api/incidents", nil)
			req.Header.Set("Authorization", "Bearer "+gwKey)
			req.Header.Set("X-Tenant-ID", "contoso")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			resumed = resp.TLS.DidResume
		}
		return resumed
	}
	if resumes(p, &good) {
		t.Error("a TLS session with a client certificate was resumed")
	}
	if !resumes(startLegacyProxy(t, nil), nil) {
		t.Error("without client certificates, sessions should resume (the check above would prove nothing)")
	}

	// The CA file is replaced: the old CA's clients are refused, on new
	// connections and on the one they keep open; the new CA's are served.
	open := p.client(t, &good)
	if status, err := get(open, p.base); err != nil || status != 200 {
		t.Fatalf("before the change: %d %v", status, err)
	}
	newCA := testutil.NewCA(t)
	swapFile(t, caFile, string(newCA.PEM()))
	if err := <-p.reloads; err != nil {
		t.Fatalf("client CA reload: %v", err)
	}
	if status, err := get(open, p.base); err != nil || status != http.StatusUnauthorized {
		t.Errorf("the old CA's open connection: %d %v, want 401", status, err)
	}
	if _, err := get(p.client(t, &good), p.base); !refused(err, "unknown certificate authority") {
		t.Errorf("the old CA's new connection: %v, want the handshake refused", err)
	}
	newPEM, newKey, _ := newCA.Issue(t, "soar", false)
	renewed, _ := tls.X509KeyPair(newPEM, newKey)
	if status, err := get(p.client(t, &renewed), p.base); err != nil || status != 200 {
		t.Errorf("the new CA's client: %d %v", status, err)
	}
}

func TestInboundTLSPolicyAndRotation(t *testing.T) {
	p := startLegacyProxy(t, nil)
	certPath, keyPath := filepath.Join(p.dir, certFile), filepath.Join(p.dir, keyFile)

	// TLS 1.2 minimum, AEAD suites only.
	for name, cfg := range map[string]*tls.Config{
		"TLS 1.1": {MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
		"TLS 1.2 CBC": {MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}},
	} {
		cfg.RootCAs = p.ca.Pool()
		conn, err := tls.Dial("tcp", strings.TrimPrefix(p.base, "https://"), cfg)
		if err == nil {
			conn.Close()
			t.Errorf("%s handshake succeeded", name)
		} else if !strings.Contains(err.Error(), "remote error") {
			t.Errorf("%s: %v, want the server to refuse it", name, err)
		}
	}

	client := p.client(t, nil)
	serialOf := func(c *http.Client) (int64, bool) {
		t.Helper()
		reused := false
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }})
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/incidents", nil)
		req.Header.Set("Authorization", "Bearer "+gwKey)
		req.Header.Set("X-Tenant-ID", "fabrikam")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), reused
	}
	first, _ := serialOf(client)

	// A new certificate without its key: refused, the old pair serves on.
	newCert, newKey, newSerial := p.ca.Issue(t, "xdrproxy rotated", true)
	swapFile(t, certPath, string(newCert))
	if err := <-p.reloads; err == nil || !strings.Contains(err.Error(), "XDRPROXY_TLS_CERT_FILE") {
		t.Fatalf("half a rotation: %v", err)
	}
	if s, _ := serialOf(p.client(t, nil)); s != first {
		t.Errorf("after a mismatched certificate the proxy presents serial %d, want %d", s, first)
	}
	// Then its key: applied.
	swapFile(t, keyPath, string(newKey))
	if err := <-p.reloads; err != nil {
		t.Fatalf("rotation: %v", err)
	}
	// The open connection lives on with the old certificate...
	if s, reused := serialOf(client); !reused || s != first {
		t.Errorf("open connection: reused=%v serial=%d, want the old connection kept (serial %d)", reused, s, first)
	}
	// ...and new connections get the new one.
	if s, reused := serialOf(p.client(t, nil)); reused || s != newSerial {
		t.Errorf("new connection: serial %d, want %d", s, newSerial)
	}
}
