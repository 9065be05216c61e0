package simulator_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// defenderScope is the scope the product asks MSAL for.
const defenderScope = "https://api.security.microsoft.com/.default"

// startSim starts sim on loopback, stops it when the test ends and returns a
// client that trusts only the simulator's CA.
func startSim(t *testing.T, sim *simulator.Server) *http.Client {
	t.Helper()
	return trustingClient(t, testutil.StartSimulator(t, sim), nil)
}

// trustingClient returns a client whose transport trusts sim's CA. If dial is
// set, every connection goes to that address whatever the URL's host.
func trustingClient(t *testing.T, sim *simulator.Server, dial *string) *http.Client {
	t.Helper()
	pool, err := sim.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	if dial != nil {
		addr := *dial
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// simAddr is the host:port sim listens on.
func simAddr(t *testing.T, sim *simulator.Server) string {
	t.Helper()
	u, err := url.Parse(sim.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, c *http.Client, method, rawURL, token string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// postForm posts a token request form to path on sim.
func postForm(t *testing.T, c *http.Client, sim *simulator.Server, path string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.PostForm(sim.URL()+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// credForm is a valid v2.0 client-credentials form for scope.
func credForm(scope string) url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {simulator.DefaultClientID},
		"client_secret": {simulator.DefaultClientSecret},
		"scope":         {scope},
	}
}

// token gets an access token for tenant and scope through the v2.0 endpoint.
func token(t *testing.T, c *http.Client, sim *simulator.Server, tenant, scope string) string {
	t.Helper()
	resp, body := postForm(t, c, sim, "/"+tenant+"/oauth2/v2.0/token", credForm(scope))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token for %s: status %d: %s", tenant, resp.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token for %s: no access_token (%v): %s", tenant, err, body)
	}
	return tr.AccessToken
}

// apiErr is the Defender XDR API's error body, decoded strictly.
type apiErr struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Target  string `json:"target"`
	} `json:"error"`
}

// checkAPIError checks that resp is an API error with status and code, in
// exactly the {"error":{"code","message","target"}} shape, and returns it.
func checkAPIError(t *testing.T, resp *http.Response, body []byte, status int, code string) apiErr {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var raw map[string]map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("error body is not {\"error\":{...}}: %v: %s", err, body)
	}
	if len(raw) != 1 || raw["error"] == nil {
		t.Errorf("error body top-level keys = %v, want only \"error\"", keys(raw))
	}
	inner := raw["error"]
	if len(inner) != 3 {
		t.Errorf("error object keys = %v, want code, message, target", keys(inner))
	}
	var e apiErr
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("decoding error body: %v: %s", err, body)
	}
	if e.Error.Code != code {
		t.Errorf("error.code = %q, want %q", e.Error.Code, code)
	}
	if e.Error.Message == "" {
		t.Error("error.message is empty")
	}
	if e.Error.Target == "" {
		t.Error("error.target is empty")
	}
	return e
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
