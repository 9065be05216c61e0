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

	// Warm-up done, but northwind has no token: not ready.
	var code int
	var body string
	for i := 0; i < 200; i++ {
		if code, body = testutil.Get(t, adminURL+"/readyz"); !strings.Contains(body, "warming up") {
			break
		}
		waitABit()
	}
	if code != 503 || !strings.Contains(body, "northwind: Incident.Read.All") {
		t.Fatalf("/readyz with an unconsented tenant: %d %s", code, body)
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

	_, metrics := testutil.Get(t, adminURL+"/metrics")
	for _, want := range []string{
		`xdrproxy_requests_total{code="200",route="default",tenant="contoso"} 2`,
		`xdrproxy_requests_total{code="502",route="default",tenant="northwind"} 1`,
		`xdrproxy_requests_total{code="400",route="none",tenant="none"} 1`,
		`xdrproxy_token_acquisitions_total{result="consent_required",tenant="northwind"}`,
		`xdrproxy_token_acquisitions_total{result="success",tenant="contoso"} 2`,
		`xdrproxy_token_expiry_timestamp_seconds{scope="https://graph.microsoft.com/.default",tenant="fabrikam"}`,
		`go_goroutines`, `process_resident_memory_bytes`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if code, _ := testutil.Get(t, adminURL+"/debug/pprof/"); code != 200 {
		t.Errorf("/debug/pprof/ with XDRPROXY_PPROF=true: %d", code)
	}
}

func waitABit() { time.Sleep(10 * time.Millisecond) }
