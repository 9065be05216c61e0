package interop

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// azidentityClient gets its tokens from azidentity's ClientSecretCredential
// with the proxy as its authority host, and pages as an Azure SDK client
// does: an azcore pipeline whose bearer-token policy asks the credential
// for each request, driven by runtime.Pager.
func azidentityClient(t *testing.T, s stack, tenant string) map[string][]page {
	httpClient := s.httpClient(t)
	cred, err := azidentity.NewClientSecretCredential(tenant, simulator.DefaultClientID, clientSecret,
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.origin + "/"},
				Transport: httpClient,
			},
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := map[string][]page{}
	for _, a := range apis {
		pl := runtime.NewPipeline("xdrproxy-interop", "v0", runtime.PipelineOptions{
			PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{a.scope}, nil)},
		}, &policy.ClientOptions{Transport: httpClient, Retry: policy.RetryOptions{MaxRetries: -1}})
		got[a.name] = azcorePages(ctx, pl, s.origin+a.path)
	}
	return got
}

// azcorePages follows @odata.nextLink from first through pl with azcore's
// Pager, recording each page, the one that failed included.
func azcorePages(ctx context.Context, pl runtime.Pipeline, first string) []page {
	var tried string // the URL of the last fetch: the pager gives no page with its error
	pager := runtime.NewPager(runtime.PagingHandler[page]{
		More: func(p page) bool { return nextLink(p) != "" },
		Fetcher: func(ctx context.Context, cur *page) (page, error) {
			p := page{URL: first}
			if cur != nil {
				p.URL = nextLink(*cur)
			}
			tried = p.URL
			req, err := runtime.NewRequest(ctx, http.MethodGet, p.URL)
			if err != nil {
				return p, err
			}
			resp, err := pl.Do(req)
			if err != nil {
				return p, err
			}
			defer resp.Body.Close()
			p.Status = resp.StatusCode
			p.Body, err = io.ReadAll(resp.Body)
			return p, err
		},
	})
	var pages []page
	for pager.More() && len(pages) < maxPages {
		p, err := pager.NextPage(ctx)
		if err != nil {
			return append(pages, page{URL: tried, Error: err.Error()})
		}
		pages = append(pages, p)
	}
	return pages
}

// msalGoClient gets its tokens from MSAL Go's confidential client with the
// proxy as its authority, as the proxy itself and Go tools do, and pages
// by hand with the token as its bearer.
func msalGoClient(t *testing.T, s stack, tenant string) map[string][]page {
	httpClient := s.httpClient(t)
	cred, err := confidential.NewCredFromSecret(clientSecret)
	if err != nil {
		t.Fatal(err)
	}
	app, err := confidential.New(s.origin+"/"+tenant, simulator.DefaultClientID, cred,
		confidential.WithHTTPClient(httpClient), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := map[string][]page{}
	for _, a := range apis {
		tok, err := app.AcquireTokenByCredential(ctx, []string{a.scope})
		if err != nil {
			t.Fatalf("%s: acquiring a token: %v", a.name, err)
		}
		got[a.name] = followPages(ctx, httpClient, s.origin+a.path, tok.AccessToken)
	}
	return got
}
