package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// SIGHUP after a customer's admin consented retries the failed tenant at
// once, without waiting out its backoff (a minute at least), and leaves
// the tenants that have tokens alone.
func TestHangupRetriesFailedTenants(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	cfg := serveConfig(t, sim, nil)
	roots, _ := sim.CertPool()
	hangup := make(chan os.Signal)
	handled := make(chan struct{})
	addrs, _ := startServeOptions(t, cfg, Options{Roots: roots, Hangup: hangup, HungUp: func() { handled <- struct{}{} }})
	adminURL := "http://" + addrs.Admin.String()
	waitReady(t, adminURL) // the warm-up has tried every tenant once
	if code, body := testutil.Get(t, adminURL+"/readyz?tenant=northwind"); code != 503 || !strings.Contains(body, "AADSTS700016") {
		t.Fatalf("northwind before consent: %d %s", code, body)
	}
	if err := sim.SetTenant(simulator.Tenant{ID: simulator.UnconsentedTenantID, Name: "Northwind", Consented: true, Roles: simulator.DefaultRoles}); err != nil {
		t.Fatal(err)
	}
	northwind, contoso := sim.TokenRequests(simulator.UnconsentedTenantID), sim.TokenRequests(simulator.ContosoTenantID)
	hangup <- syscall.SIGHUP
	<-handled
	if code, body := testutil.Get(t, adminURL+"/readyz?tenant=northwind"); code != 200 {
		t.Errorf("northwind after consent and SIGHUP: %d %s", code, body)
	}
	if n := sim.TokenRequests(simulator.UnconsentedTenantID) - northwind; n != 1 {
		t.Errorf("SIGHUP made %d token requests for the failed tenant, want 1", n)
	}
	if n := sim.TokenRequests(simulator.ContosoTenantID) - contoso; n != 0 {
		t.Errorf("SIGHUP made %d token requests for a tenant with a token, want 0", n)
	}
}

// SIGHUP re-reads every watched file at once, not at the next poll.
func TestHangupRereadsEveryFile(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	hangup := make(chan os.Signal, 1)
	keysFile, _, reloads := serveWithKeysFile(t, sim, Options{Hangup: hangup, ReloadInterval: time.Hour})
	swapFile(t, keysFile, testutil.KeyLine("new-key", "contoso"))
	hangup <- syscall.SIGHUP
	awaitReload(t, reloads, "SIGHUP did not re-read the keys file (the next poll is an hour away)")
}

// A SIGHUP's retries, however long Entra ID takes, never hold up what the
// reload loop does meanwhile: a key removed still stops at the next poll.
func TestHangupRetriesBesideReloads(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var slow atomic.Bool
	sim := testutil.StartSimulator(t, &simulator.Server{BeforeToken: func(w http.ResponseWriter, r *http.Request, tenantID string) bool {
		if slow.Load() && tenantID == simulator.UnconsentedTenantID {
			select {
			case entered <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		return false
	}})
	hangup := make(chan os.Signal, 1)
	keysFile, addrs, reloads := serveWithKeysFile(t, sim, Options{Hangup: hangup})
	t.Cleanup(func() { close(release) }) // before the server and the simulator stop
	waitReady(t, "http://"+addrs.Admin.String())
	slow.Store(true)
	hangup <- syscall.SIGHUP
	<-entered // the retry of the unconsented tenant is with Entra ID, which does not answer
	swapFile(t, keysFile, testutil.KeyLine("new-key", "contoso"))
	awaitReload(t, reloads, "a key revoked while a SIGHUP retry waits on Entra ID was not applied")
}

// serveWithKeysFile serves sim's tenants with o and a client keys file
// holding one key, and returns the file's path, the addresses and the
// reload outcomes.
func serveWithKeysFile(t *testing.T, sim *simulator.Server, o Options) (string, Addrs, chan error) {
	t.Helper()
	keysFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keysFile, []byte(testutil.KeyLine("old-key", "*")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig(t, sim, map[string]string{"XDRPROXY_CLIENT_KEYS_FILE": keysFile})
	o.Roots, _ = sim.CertPool()
	addrs, reloads := startServeOptions(t, cfg, o)
	return keysFile, addrs, reloads
}

// awaitReload waits for the next reload, which must succeed; failing says
// what did not happen.
func awaitReload(t *testing.T, reloads chan error, failing string) {
	t.Helper()
	select {
	case err := <-reloads:
		if err != nil {
			t.Fatalf("the changed file was refused: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal(failing)
	}
}

// waitReady waits until the admin listener at adminURL answers /readyz
// 200: the warm-up has tried every tenant once.
func waitReady(t *testing.T, adminURL string) {
	t.Helper()
	for i := 0; ; i++ {
		if code, _ := testutil.Get(t, adminURL+"/readyz"); code == 200 {
			return
		}
		if i == 500 {
			t.Fatal("/readyz never opened")
		}
		waitABit()
	}
}
