package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Discovery for a tenant's domain gives its GUID, as Entra ID's does: the
// way an operator finds the GUID of contoso.onmicrosoft.com.
func TestDiscoveryByDomainGivesTheGUID(t *testing.T) {
	s := &Server{}
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	for _, tc := range []struct{ domain, want string }{
		{"contoso.onmicrosoft.com", ContosoTenantID},
		{"Fabrikam.OnMicrosoft.com", FabrikamTenantID},
	} {
		resp, err := srv.Client().Get(srv.URL + "/" + tc.domain + "/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Issuer        string `json:"issuer"`
			TokenEndpoint string `json:"token_endpoint"`
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !strings.HasSuffix(doc.Issuer, "/"+tc.want+"/v2.0") || !strings.Contains(doc.TokenEndpoint, "/"+tc.want+"/") {
			t.Errorf("%s: %d %+v %v; want the issuer and token endpoint of %s", tc.domain, resp.StatusCode, doc, err, tc.want)
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/nowhere.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown domain: %d, want 400 (AADSTS90002)", resp.StatusCode)
	}
}
