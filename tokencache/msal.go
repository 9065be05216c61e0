package tokencache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/xdrproxy/xdrproxy/config"
)

// MSALOptions configure an MSALSource.
type MSALOptions struct {
	// AuthorityHost is Entra ID's base URL, such as
	// https://login.microsoftonline.com. Required.
	AuthorityHost *url.URL
	// ClientID is the multi-tenant application's client ID. Required.
	ClientID string
	// ClientSecret is the application's client secret. Required.
	ClientSecret config.Secret
	// InstanceDiscovery is false for hosts that are not Microsoft's.
	InstanceDiscovery bool
	// HTTPClient sends MSAL's requests. Nil means a client with the
	// system's roots and a 30 second timeout. Redirects are never
	// followed: a redirected token request would re-post the secret to
	// another host.
	HTTPClient *http.Client
}

// MSALSource acquires app-only tokens with the client-credentials grant
// through MSAL Go's confidential client.
//
// It uses one confidential.Client for every tenant, naming the tenant with
// WithTenantID on each acquisition, rather than one client per tenant: the
// credential is held once (a rotation replaces one client, not thousands),
// memory stays flat at 10,000 tenants, and MSAL still resolves and caches
// each tenant's endpoints separately. MSAL's own token cache is switched
// off (see noCache): the Cache is the one place tokens live, so it alone
// decides when a token is refreshed, which MSAL's rule (a token is served
// until 5 minutes before expiry) would otherwise overrule.
type MSALSource struct {
	client confidential.Client
	secret config.Secret
}

// NewMSALSource builds the confidential client. It makes no network call.
func NewMSALSource(o MSALOptions) (*MSALSource, error) {
	if o.AuthorityHost == nil || o.ClientID == "" || o.ClientSecret == "" {
		return nil, errors.New("tokencache: MSALOptions needs AuthorityHost, ClientID and ClientSecret")
	}
	cred, err := confidential.NewCredFromSecret(o.ClientSecret.Reveal())
	if err != nil {
		return nil, fmt.Errorf("building client secret credential: %w", err)
	}
	httpClient := &http.Client{Timeout: 30 * time.Second}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		httpClient = &c
	}
	httpClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// "organizations" is only the client's home authority; every
	// acquisition names its tenant with WithTenantID.
	authority := o.AuthorityHost.JoinPath("organizations").String()
	client, err := confidential.New(authority, o.ClientID, cred,
		confidential.WithHTTPClient(httpClient),
		confidential.WithInstanceDiscovery(o.InstanceDiscovery),
		confidential.WithCache(noCache{}),
	)
	if err != nil {
		return nil, fmt.Errorf("building MSAL confidential client for %s: %w", authority, err)
	}
	return &MSALSource{client: client, secret: o.ClientSecret}, nil
}

// Token acquires a new token for the tenant and scope from Entra ID. A
// failure is an *AcquisitionError carrying Entra ID's AADSTS code.
func (s *MSALSource) Token(ctx context.Context, tenantID, scope string) (Token, error) {
	res, err := s.client.AcquireTokenByCredential(ctx, []string{scope}, confidential.WithTenantID(tenantID))
	if err != nil {
		return Token{}, classify(tenantID, err, s.secret.Reveal())
	}
	return Token{Value: res.AccessToken, ExpiresOn: res.ExpiresOn, RefreshOn: res.Metadata.RefreshOn}, nil
}

// noCache empties MSAL's in-memory cache before every read and write, so
// that each AcquireTokenByCredential asks Entra ID.
type noCache struct{}

func (noCache) Replace(_ context.Context, c cache.Unmarshaler, _ cache.ReplaceHints) error {
	return c.Unmarshal([]byte("{}"))
}

func (noCache) Export(context.Context, cache.Marshaler, cache.ExportHints) error { return nil }

var _ Source = (*MSALSource)(nil)
