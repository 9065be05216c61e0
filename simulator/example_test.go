package simulator_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// Example starts the simulator on loopback and gets a Defender XDR token
// for a demo tenant with MSAL Go, as the proxy does.
func Example() {
	sim := &simulator.Server{}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer sim.Close()
	pool, err := sim.CertPool()
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	cred, err := confidential.NewCredFromSecret(simulator.DefaultClientSecret)
	if err != nil {
		panic(err)
	}
	app, err := confidential.New(sim.URL()+"/organizations", simulator.DefaultClientID, cred,
		confidential.WithHTTPClient(client), confidential.WithInstanceDiscovery(false))
	if err != nil {
		panic(err)
	}
	res, err := app.AcquireTokenByCredential(context.Background(),
		[]string{"https://api.security.microsoft.com/.default"},
		confidential.WithTenantID(simulator.ContosoTenantID))
	if err != nil {
		panic(err)
	}
	claims, err := sim.ParseToken(res.AccessToken)
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.TenantID, claims.Audience[0])
	fmt.Println(claims.Roles)
	// Output:
	// 11111111-1111-4111-8111-111111111111 https://api.security.microsoft.com
	// [Incident.Read.All Alert.Read.All AdvancedHunting.Read.All]
}
