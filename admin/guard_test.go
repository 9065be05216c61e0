package admin_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/admin"
	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

func TestKeysRequired(t *testing.T) {
	tests := []struct {
		addr       string
		configured bool
		want       bool
	}{
		{"127.0.0.1:9090", false, false},
		{"127.0.0.2:9090", false, false}, // all of 127.0.0.0/8 is loopback
		{"[::1]:9090", false, false},
		{"localhost:9090", false, false},
		{"127.0.0.1:0", true, true}, // configured keys are always asked for
		{"0.0.0.0:9090", false, true},
		{":9090", false, true},
		{"[::]:9090", false, true},
		{"10.1.2.3:9090", false, true},
		{"[::ffff:10.1.2.3]:9090", false, true},
		{"0.0.0.0:9090", true, true},
	}
	for _, tt := range tests {
		if got := admin.KeysRequired(tt.addr, tt.configured); got != tt.want {
			t.Errorf("KeysRequired(%q, %v) = %v, want %v", tt.addr, tt.configured, got, tt.want)
		}
	}
}

// adminKeys parses an admin keys file listing the given keys' hashes.
func adminKeys(t *testing.T, keys ...string) *config.AdminKeys {
	t.Helper()
	var file strings.Builder
	for _, k := range keys {
		sum := sha256.Sum256([]byte(k))
		file.WriteString(hex.EncodeToString(sum[:]) + "\n")
	}
	ks, err := config.ParseAdminKeys("admin-keys", []byte(file.String()))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// answer is what the admin listener said to one request.
type answer struct {
	status    int
	challenge string // WWW-Authenticate
	code      string // the JSON error's code, if any
	message   string
	body      string
}

// ask sends method path to srvURL with authorization (none if empty).
func ask(t *testing.T, method, url, authorization string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, b := testutil.Do(t, req)
	a := answer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate"), body: string(b)}
	if resp.Header.Get("Content-Type") == "application/json" {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil {
			a.code, a.message = e.Error.Code, e.Error.Message
		}
	}
	return a
}

const (
	noChallenge    = ""
	askForKey      = `Bearer realm="xdrproxy-admin"`
	wrongKeyAnswer = `Bearer realm="xdrproxy-admin", error="invalid_token"`
)

func TestGuardedEndpoints(t *testing.T) {
	var ready admin.Readiness
	ready.MarkWarm()
	o := adminOptions(t, nil, true, tokenStates{}, &ready)
	o.RequireKeys, o.Keys = true, admin.NewKeys(adminKeys(t, "admin-key-1"))
	srv := serveAdmin(t, o)

	tests := []struct {
		name, method, path, auth string
		want                     int
		challenge, code          string
	}{
		{"tenants without a key", "GET", "/tenants", "", 401, askForKey, "Unauthenticated"},
		{"tenants with a wrong key", "GET", "/tenants", "Bearer admin-key-2", 401, wrongKeyAnswer, "Unauthenticated"},
		{"tenants with the key", "GET", "/tenants", "Bearer admin-key-1", 200, noChallenge, ""},
		{"the scheme in any case", "GET", "/tenants", "bearer admin-key-1", 200, noChallenge, ""},
		{"the key under another scheme", "GET", "/tenants", "Basic admin-key-1", 401, askForKey, "Unauthenticated"},
		{"the key's hash instead of the key", "GET", "/tenants", "Bearer " + testutil.KeyHash("admin-key-1"), 401, wrongKeyAnswer, "Unauthenticated"},
		{"an empty bearer", "GET", "/tenants", "Bearer ", 401, askForKey, "Unauthenticated"},
		{"retry without a key, before any 404", "POST", "/tenants/contoso/retry", "", 401, askForKey, "Unauthenticated"},
		{"retry with a wrong key", "POST", "/tenants/contoso/retry", "Bearer nope", 401, wrongKeyAnswer, "Unauthenticated"},
		{"pprof without a key", "GET", "/debug/pprof/", "", 401, askForKey, "Unauthenticated"},
		{"pprof with the key", "GET", "/debug/pprof/", "Bearer admin-key-1", 200, noChallenge, ""},
		{"pprof's profile without a key", "GET", "/debug/pprof/profile?seconds=1", "", 401, askForKey, "Unauthenticated"},
		{"the status page without a key", "GET", "/", "", 401, askForKey, "Unauthenticated"},
		{"the status page with a wrong key", "GET", "/", "Bearer nope", 401, wrongKeyAnswer, "Unauthenticated"},
		{"the status page with the key", "GET", "/", "Bearer admin-key-1", 200, noChallenge, ""},
		{"an unknown path without a key", "GET", "/elsewhere", "", 401, askForKey, "Unauthenticated"},
		{"an unknown path with the key", "GET", "/elsewhere", "Bearer admin-key-1", 404, noChallenge, ""},
		{"tenants spelt in capitals", "GET", "/TENANTS", "", 401, askForKey, "Unauthenticated"},
		{"tenants percent-encoded", "GET", "/%74enants", "", 401, askForKey, "Unauthenticated"},
		{"tenants behind a dot-dot", "GET", "/healthz/../tenants", "", 401, askForKey, "Unauthenticated"},
		{"tenants with a trailing slash", "GET", "/tenants/", "", 401, askForKey, "Unauthenticated"},
		{"healthz is open", "GET", "/healthz", "", 200, noChallenge, ""},
		{"readyz is open", "GET", "/readyz", "", 200, noChallenge, ""},
		{"readyz for one tenant is open (not ready: no token yet)", "GET", "/readyz?tenant=contoso", "", 503, noChallenge, ""},
		{"metrics is open", "GET", "/metrics", "", 200, noChallenge, ""},
		{"healthz with a wrong key is open", "GET", "/healthz", "Bearer nope", 200, noChallenge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ask(t, tt.method, srv.URL+tt.path, tt.auth)
			if a.status != tt.want || a.challenge != tt.challenge || a.code != tt.code {
				t.Errorf("%s %s: %d %q %q, want %d %q %q (%s)", tt.method, tt.path, a.status, a.challenge, a.code, tt.want, tt.challenge, tt.code, a.body)
			}
			if strings.Contains(a.body, "admin-key-1") {
				t.Error("the answer shows the key")
			}
		})
	}
	if a := ask(t, "GET", srv.URL+"/tenants", "Bearer admin-key-1"); !strings.Contains(a.body, `"tenant_id": "`+contoso+`"`) {
		t.Errorf("/tenants with the key: %s", a.body)
	}
}

func TestGuardWithoutAdminKeys(t *testing.T) {
	var ready admin.Readiness
	ready.MarkWarm()
	o := adminOptions(t, nil, true, tokenStates{}, &ready)
	o.RequireKeys = true // not on loopback, and no XDRPROXY_ADMIN_KEYS_FILE
	srv := serveAdmin(t, o)
	for _, path := range []string{"/", "/tenants", "/debug/pprof/", "/tenants/contoso/retry"} {
		for _, auth := range []string{"", "Bearer anything"} {
			a := ask(t, "GET", srv.URL+path, auth)
			if a.status != 403 || a.code != "AdminKeysNotConfigured" || !strings.Contains(a.message, "set XDRPROXY_ADMIN_KEYS_FILE") || a.challenge != "" {
				t.Errorf("%s (%q) without admin keys: %d %q %q", path, auth, a.status, a.code, a.message)
			}
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if a := ask(t, "GET", srv.URL+path, ""); a.status != 200 {
			t.Errorf("%s without admin keys: %d, want 200", path, a.status)
		}
	}
}

func TestGuardOffOnLoopback(t *testing.T) {
	var ready admin.Readiness
	o := adminOptions(t, nil, true, tokenStates{}, &ready)
	o.RequireKeys = admin.KeysRequired("127.0.0.1:9090", false)
	srv := serveAdmin(t, o)
	for _, path := range []string{"/", "/tenants", "/debug/pprof/"} {
		if a := ask(t, "GET", srv.URL+path, ""); a.status != 200 {
			t.Errorf("%s on loopback without keys: %d, want 200", path, a.status)
		}
	}
}

func TestAdminKeysReplaced(t *testing.T) {
	var ready admin.Readiness
	o := adminOptions(t, nil, false, tokenStates{}, &ready)
	keys := admin.NewKeys(adminKeys(t, "old-key"))
	o.RequireKeys, o.Keys = true, keys
	srv := serveAdmin(t, o)
	status := func(key string) int { return ask(t, "GET", srv.URL+"/tenants", "Bearer "+key).status }
	if got := status("old-key"); got != 200 {
		t.Fatalf("old key: %d", got)
	}
	keys.Set(adminKeys(t, "new-key"))
	if got, got2 := status("old-key"), status("new-key"); got != 401 || got2 != 200 {
		t.Errorf("after the swap: old key %d (want 401), new key %d (want 200)", got, got2)
	}
	keys.Set(adminKeys(t)) // the last key revoked
	if got := status("new-key"); got != 401 {
		t.Errorf("with no key left: %d, want 401", got)
	}
}

// TestGuardAnswersBeforeTheBody: a refused request that announces a body
// and sends none is answered at once and its connection closed; the
// server does not wait for the body.
func TestGuardAnswersBeforeTheBody(t *testing.T) {
	var ready admin.Readiness
	o := adminOptions(t, nil, false, tokenStates{}, &ready)
	o.RequireKeys, o.Keys = true, admin.NewKeys(adminKeys(t, "k"))
	srv := serveAdmin(t, o)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /tenants/contoso/retry HTTP/1.1\r\nHost: admin\r\nContent-Length: 1000\r\n\r\nx"); err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second)) // a bound on failure, not a wait
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer while the body is pending: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !resp.Close {
		t.Errorf("%d, close=%v; want 401 and the connection closed", resp.StatusCode, resp.Close)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the answer: %v, want EOF (connection closed)", err)
	}
}

// TestGuardedReadyzTellsWhyOnlyWithAKey: on a listener that asks for
// admin keys, /readyz stays open with its status, but why it is not
// ready (tenants, Entra ID's answers, consent links: what /tenants
// guards) is told only to a request with an admin key, and without one
// the answers do not say which tenants are served.
func TestGuardedReadyzTellsWhyOnlyWithAKey(t *testing.T) {
	consent := &tokencache.AcquisitionError{TenantID: fabrikam, Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016},
		Description: "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'."}
	refused := &tokencache.AcquisitionError{TenantID: contoso, Status: 401, OAuthError: "invalid_client", Codes: []int{7000215},
		Description: "AADSTS7000215: Invalid client secret provided."}
	var ready admin.Readiness
	ready.MarkWarm()
	states := tokenStates{
		{TenantID: contoso, Scope: defender}:  withRoles("Incident.Read.All"),
		{TenantID: contoso, Scope: graph}:     withRoles("SecurityIncident.Read.All"),
		{TenantID: fabrikam, Scope: defender}: {LastError: consent},
		{TenantID: fabrikam, Scope: graph}:    {LastError: consent},
	}
	o := adminOptions(t, nil, false, states, &ready)
	o.RequireKeys, o.Keys = true, admin.NewKeys(adminKeys(t, "admin-key-1"))
	guarded := serveAdmin(t, o)
	failing := tokenStates{}
	for k := range states {
		failing[k] = tokencache.Status{LastError: refused}
	}
	o = adminOptions(t, nil, false, failing, &ready)
	o.RequireKeys, o.Keys = true, admin.NewKeys(adminKeys(t, "admin-key-1"))
	down := serveAdmin(t, o)

	tests := []struct {
		name, url, auth string
		want            int
		body            string // the whole body without a key; contained in it with one
	}{
		{"a failing tenant, no key", guarded.URL + "/readyz?tenant=" + fabrikam, "", 503, "not ready (send an admin key to be told why)\n"},
		{"a failing tenant, the key", guarded.URL + "/readyz?tenant=" + fabrikam, "Bearer admin-key-1", 503, "AADSTS700016"},
		{"a ready tenant by GUID, no key: its alias untold", guarded.URL + "/readyz?tenant=" + contoso, "", 200, "ready\n"},
		{"a ready tenant, the key", guarded.URL + "/readyz?tenant=" + contoso, "Bearer admin-key-1", 200, "contoso ready"},
		{"a tenant not served, no key: as not ready", guarded.URL + "/readyz?tenant=northwind", "", 503, "not ready (send an admin key to be told why)\n"},
		{"a tenant not served, the key", guarded.URL + "/readyz?tenant=northwind", "Bearer admin-key-1", 404, "not served"},
		{"a wrong key is no key", guarded.URL + "/readyz?tenant=" + fabrikam, "Bearer nope", 503, "not ready (send an admin key to be told why)\n"},
		{"no tenant served, no key", down.URL + "/readyz", "", 503, "not ready (send an admin key to be told why)\n"},
		{"no tenant served, the key", down.URL + "/readyz", "Bearer admin-key-1", 503, "AADSTS7000215"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ask(t, "GET", tt.url, tt.auth)
			ok := a.body == tt.body
			if tt.auth == "Bearer admin-key-1" {
				ok = strings.Contains(a.body, tt.body)
			}
			if a.status != tt.want || !ok {
				t.Errorf("%d %q, want %d %q", a.status, a.body, tt.want, tt.body)
			}
		})
	}
}
