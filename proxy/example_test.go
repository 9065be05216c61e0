package proxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy"
	"github.com/xdrproxy/xdrproxy/simulator"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// Example wires the proxy as xdrproxy serve does, against the simulator:
// MSAL Go acquires the tenant's token, the cache keeps it, and the handler
// forwards a plain-HTTP request that names the tenant.
func Example() {
	sim := &simulator.Server{}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer sim.Close()
	roots, _ := sim.CertPool()
	simURL, _ := url.Parse(sim.URL())

	entra := http.DefaultTransport.(*http.Transport).Clone()
	entra.TLSClientConfig.RootCAs = roots
	src, err := tokencache.NewMSALSource(tokencache.MSALOptions{
		AuthorityHost: simURL,
		ClientID:      simulator.DefaultClientID,
		Credential:    config.Credential{Kind: config.ClientSecret, Secret: config.Secret(simulator.DefaultClientSecret)},
		HTTPClient:    &http.Client{Transport: entra},
	})
	if err != nil {
		panic(err)
	}
	cache := tokencache.New(src, tokencache.Options{})
	defer cache.Close()

	tenants, _ := config.NewTenantSet([]config.Tenant{{ID: simulator.ContosoTenantID, Alias: "contoso"}})
	h, err := proxy.New(proxy.Options{
		Upstream:  simURL,
		Scope:     "https://api.security.microsoft.com/.default",
		Tenants:   tenants,
		Tokens:    cache,
		Transport: proxy.NewTransport(0, roots),
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/api/incidents?$top=3", nil)
	req.Header.Set("X-Tenant-ID", "contoso")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	var list struct{ Value []simulator.Incident }
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	fmt.Println(resp.Status, len(list.Value), "incidents")

	req, _ = http.NewRequest("GET", srv.URL+"/api/incidents", nil)
	resp, _ = http.DefaultClient.Do(req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.Status, " ", string(body))
	// Output:
	// 200 OK 3 incidents
	// 400 Bad Request {"error":{"code":"MissingTenant","message":"no tenant named: send the X-Tenant-ID header (a tenant GUID or alias), or prefix the path with /tenants/{tenant}/"}}
}
