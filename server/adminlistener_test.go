package server

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

func TestAdminListener(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	cfg := serveConfig(t, sim, map[string]string{
		"XDRPROXY_REQUIRED_ROLES": "Incident.Read.All",
		"XDRPROXY_PPROF":          "true",
		"XDRPROXY_ROUTES":         "/graph/=" + sim.URL() + "|https://graph.microsoft.com/.default",
	})
	roots, _ := sim.CertPool()
	proxyURL, adminURL, _ := startServeAdmin(t, cfg, roots)

	// Warm-up done; northwind has no consent, which is its own problem,
	// not the pod's: /readyz is 200, its strict form for northwind 503.
	var code int
	var body string
	for i := 0; i < 200; i++ {
		if code, body = testutil.Get(t, adminURL+"/readyz"); !strings.Contains(body, "warming up") {
			break
		}
		waitABit()
	}
	if code != 200 {
		t.Fatalf("/readyz with one unconsented tenant: %d %s", code, body)
	}
	if code, body = testutil.Get(t, adminURL+"/readyz?tenant=northwind"); code != 503 || !strings.Contains(body, "AADSTS700016") || !strings.Contains(body, "admin-consent link") {
		t.Fatalf("/readyz?tenant=northwind: %d %s", code, body)
	}
	if code, body = testutil.Get(t, adminURL+"/readyz?tenant=contoso"); code != 200 {
		t.Fatalf("/readyz?tenant=contoso: %d %s", code, body)
	}
	if code, _ := testutil.Get(t, adminURL+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}

	// Some traffic for the metrics.
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for _, tenant := range []string{"contoso", "contoso", "northwind", "nobody"} {
		incidentsStatus(t, client, proxyURL, http.Header{"X-Tenant-Id": {tenant}})
	}

	_, tenants := testutil.Get(t, adminURL+"/tenants")
	if strings.Contains(tenants, "eyJ") || strings.Contains(tenants, simulator.DefaultClientSecret) {
		t.Fatal("/tenants shows a token or the secret")
	}
	normalized := regexp.MustCompile(`"20\d\d-\d\d-\d\dT[0-9:]+Z"`).ReplaceAllString(tenants, `"<time>"`)
	normalized = strings.ReplaceAll(normalized, sim.URL(), "https://<simulator>")
	testutil.Golden(t, "tenants.json", []byte(normalized))

	_, missing := testutil.GetUntil(t, adminURL+"/metrics",
		`xdrproxy_requests_total{code="200",route="default",tenant="contoso"} 2`,
		`xdrproxy_requests_total{code="502",route="default",tenant="northwind"} 1`,
		`xdrproxy_requests_total{code="400",route="none",tenant="none"} 1`,
		`xdrproxy_token_acquisitions_total{result="consent_required",tenant="northwind"}`,
		`xdrproxy_token_acquisitions_total{result="success",tenant="contoso"} 2`,
		`xdrproxy_token_expiry_timestamp_seconds{scope="https://graph.microsoft.com/.default",tenant="fabrikam"}`,
		`go_goroutines`, `process_resident_memory_bytes`,
	)
	for _, want := range missing {
		t.Errorf("/metrics lacks %s", want)
	}

	if code, _ := testutil.Get(t, adminURL+"/debug/pprof/"); code != 200 {
		t.Errorf("/debug/pprof/ with XDRPROXY_PPROF=true: %d", code)
	}

	// A retry before the consent: still not ready, and it says why.
	if code, body = post(t, adminURL+"/tenants/northwind/retry"); code != 503 || !strings.Contains(body, `"ready": false`) || !strings.Contains(body, "AADSTS700016") {
		t.Errorf("POST /tenants/northwind/retry before consent: %d %s", code, body)
	}
	// Northwind's admin consents; a retry makes it ready at once, without
	// waiting out the remembered failure's backoff.
	if err := sim.SetTenant(simulator.Tenant{ID: simulator.UnconsentedTenantID, Name: "Northwind", Consented: true,
		Roles: simulator.DefaultRoles}); err != nil {
		t.Fatal(err)
	}
	before := sim.TokenRequests(simulator.UnconsentedTenantID)
	if code, body = post(t, adminURL+"/tenants/Northwind/retry"); code != 200 || !strings.Contains(body, `"ready": true`) || !strings.Contains(body, `"state": "valid"`) {
		t.Fatalf("POST /tenants/Northwind/retry after consent: %d %s", code, body)
	}
	if n := sim.TokenRequests(simulator.UnconsentedTenantID) - before; n != 2 {
		t.Errorf("the retry made %d token requests, want 2 (one per API)", n)
	}
	if code, _ = testutil.Get(t, adminURL+"/readyz?tenant=northwind"); code != 200 {
		t.Errorf("/readyz?tenant=northwind after the retry: %d", code)
	}
	if status := incidentsStatus(t, client, proxyURL, http.Header{"X-Tenant-Id": {"northwind"}}); status != 200 {
		t.Errorf("northwind's request after the retry: %d", status)
	}
	if code, body = post(t, adminURL+"/tenants/nobody/retry"); code != 404 || !strings.Contains(body, "not served") || !strings.Contains(body, `"code":"InvalidTenant"`) {
		t.Errorf("retry of a tenant not served: %d %s", code, body)
	}
	if code, _ = testutil.Get(t, adminURL+"/tenants/northwind/retry"); code != 405 {
		t.Errorf("GET on the retry endpoint: %d, want 405: a GET never changes state", code)
	}
}

// post sends an empty POST to url and returns the status and body.
func post(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := testutil.Do(t, req)
	return resp.StatusCode, string(body)
}

func waitABit() { time.Sleep(10 * time.Millisecond) }
