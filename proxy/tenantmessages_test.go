package proxy_test

import (
	"net/http"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// TestTenantMessagesNameWhatToEdit: a tenant the proxy does not serve is
// refused with a message naming where the tenants come from (here a
// tenants file, with its path), and a domain name with one that says how
// to find the tenant's GUID at the configured authority. A dotted alias
// that is configured is served, not taken for a domain.
func TestTenantMessagesNameWhatToEdit(t *testing.T) {
	const source = "XDRPROXY_TENANTS_FILE (/etc/xdrproxy/tenants)"
	tenants := []config.Tenant{{ID: simulator.ContosoTenantID, Alias: "contoso.com"}, {ID: simulator.FabrikamTenantID, Alias: "fabrikam"}}
	s := newStack(t, stackOptions{tenants: tenants, tenantsSource: source})
	discovery := s.sim.URL() + "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
	domainAdvice := []string{"a domain name", "by its GUID or by an alias configured in " + source, "The GUID is in the issuer of " + discovery}
	for _, tc := range []errorCase{
		{name: "GUID not served", path: "/api/incidents", header: tenantHeader("44444444-4444-4444-8444-444444444444"),
			status: 403, code: "TenantNotAllowed", contains: []string{"add it to " + source}},
		{name: "alias not configured", path: "/api/incidents", header: tenantHeader("acme"),
			status: 400, code: "InvalidTenant", contains: []string{`"acme" (from the X-Tenant-ID header) is not a tenant alias configured in ` + source}},
		{name: "dotted alias not configured, not a domain", path: "/api/incidents", header: tenantHeader("contoso.prod1"),
			status: 400, code: "InvalidTenant", contains: []string{"is not a tenant alias configured in " + source}},
		{name: "domain in the header", path: "/api/incidents", header: tenantHeader("contoso.onmicrosoft.com"),
			status: 400, code: "InvalidTenant", contains: append([]string{`"contoso.onmicrosoft.com" (from the X-Tenant-ID header)`}, domainAdvice...)},
		{name: "domain in the path", path: "/tenants/Contoso.OnMicrosoft.com/api/incidents",
			status: 400, code: "InvalidTenant", contains: append([]string{`"Contoso.OnMicrosoft.com" (from the path)`}, domainAdvice...)},
	} {
		t.Run(tc.name, func(t *testing.T) { checkError(t, s, tc) })
	}
	t.Run("dotted alias configured", func(t *testing.T) {
		resp, body := s.do(t, "GET", "/api/incidents", tenantHeader("contoso.com"), nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("a configured dotted alias got %d: %s", resp.StatusCode, body)
		}
	})
	if n := s.sim.TotalTokenRequests(); n != 1 {
		t.Errorf("%d token requests, want 1 (for the configured dotted alias only)", n)
	}
}
