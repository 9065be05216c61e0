package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// TestRequestMetricsTenantCap: with XDRPROXY_METRICS_TENANT_LABELS=1 the
// request counter names the first tenant by name and counts the others
// under (other); a reload that puts a tenant before it moves its label.
func TestRequestMetricsTenantCap(t *testing.T) {
	sim := testutil.StartSimulator(t, nil)
	tenantsFile := filepath.Join(t.TempDir(), "tenants")
	both := "contoso=" + simulator.ContosoTenantID + "\nfabrikam=" + simulator.FabrikamTenantID + "\n"
	if err := os.WriteFile(tenantsFile, []byte(both), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig(t, sim, map[string]string{
		"XDRPROXY_TENANTS":               "",
		"XDRPROXY_TENANTS_FILE":          tenantsFile,
		"XDRPROXY_METRICS_TENANT_LABELS": "1",
	})
	roots, _ := sim.CertPool()
	proxyURL, adminURL, reloads := startServeAdmin(t, cfg, roots)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	send := func(tenant string) {
		t.Helper()
		if got := incidentsStatus(t, client, proxyURL, http.Header{"X-Tenant-Id": {tenant}}); got != 200 {
			t.Fatalf("%s: %d", tenant, got)
		}
	}
	check := func(step string, want, wantNot []string) {
		t.Helper()
		lines := make([]string, len(want))
		for i, w := range want {
			lines[i] = w + "\n"
		}
		metrics, missing := testutil.GetUntil(t, adminURL+"/metrics", lines...)
		for _, w := range missing {
			t.Errorf("%s: /metrics lacks %s", step, strings.TrimSuffix(w, "\n"))
		}
		for _, w := range wantNot {
			if strings.Contains(metrics, w) {
				t.Errorf("%s: /metrics has %s", step, w)
			}
		}
	}

	send("contoso")
	send("fabrikam")
	check("one label", []string{
		`xdrproxy_requests_total{code="200",route="default",tenant="contoso"} 1`,
		`xdrproxy_requests_total{code="200",route="default",tenant="(other)"} 1`,
		`xdrproxy_token_acquisitions_total{result="success",tenant="fabrikam"} 1`, // every tenant's
	}, []string{`xdrproxy_requests_total{code="200",route="default",tenant="fabrikam"}`})

	// acme comes before contoso by name: it takes the one label.
	swapFile(t, tenantsFile, "acme="+simulator.UnconsentedTenantID+"\n"+both)
	if err := <-reloads; err != nil {
		t.Fatal(err)
	}
	send("contoso")
	check("after the reload", []string{
		`xdrproxy_requests_total{code="200",route="default",tenant="(other)"} 2`,
	}, []string{`xdrproxy_requests_total{code="200",route="default",tenant="contoso"}`})
}
