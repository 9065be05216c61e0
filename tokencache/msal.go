package tokencache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
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
	// Credential is the application's credential: a client secret, a
	// certificate (PEM in Secret), or a federated token file read afresh
	// for every acquisition. Required.
	Credential config.Credential
	// InstanceDiscovery is false for hosts that are not Microsoft's.
	InstanceDiscovery bool
	// HTTPClient sends MSAL's requests. Nil means a client with the
	// system's roots and a 30 second timeout. Redirects are never
	// followed: a redirected token request would re-post the credential
	// to another host.
	HTTPClient *http.Client
}

// MSALSource acquires app-only tokens with the client-credentials grant
// through MSAL Go's confidential client.
//
// It uses one confidential.Client for every tenant, naming the tenant with
// WithTenantID on each acquisition, rather than one client per tenant: the
// credential is held once (a rotation replaces one client, not thousands),
// and MSAL still resolves and caches each tenant's endpoints separately
// (about 400 bytes a tenant, which saves a discovery request per
// acquisition). MSAL's own token cache is switched off (see noCache): it
// keeps no tenant's token or response, the Cache is the one place tokens
// live, and so it alone decides when a token is refreshed, which MSAL's
// rule (a token is served until 5 minutes before expiry) would otherwise
// overrule.
type MSALSource struct {
	opts   MSALOptions
	client atomic.Pointer[msalClient]
}

// msalClient is a confidential client and the secret to scrub from its
// errors; replaced whole on rotation.
type msalClient struct {
	client confidential.Client
	secret string
}

// NewMSALSource builds the confidential client. It makes no network call.
func NewMSALSource(o MSALOptions) (*MSALSource, error) {
	if o.AuthorityHost == nil || o.ClientID == "" {
		return nil, errors.New("tokencache: MSALOptions needs AuthorityHost, ClientID and Credential")
	}
	httpClient := &http.Client{Timeout: 30 * time.Second}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		httpClient = &c
	}
	httpClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.HTTPClient = httpClient
	s := &MSALSource{opts: o}
	if err := s.Rotate(o.Credential); err != nil {
		return nil, err
	}
	return s, nil
}

// Rotate replaces the credential, for acquisitions that start from now
// on; tokens already acquired stay valid. A credential that cannot be
// used is refused and the old one kept.
func (s *MSALSource) Rotate(cred config.Credential) error {
	o := s.opts
	var msalCred confidential.Credential
	var err error
	var opts []confidential.Option
	scrub := ""
	switch cred.Kind {
	case config.ClientSecret, config.ClientSecretFile:
		if cred.Secret == "" {
			return errors.New("tokencache: the client secret is empty")
		}
		msalCred, err = confidential.NewCredFromSecret(cred.Secret.Reveal())
		scrub = cred.Secret.Reveal()
	case config.ClientCertificate:
		certs, key, perr := confidential.CertFromPEM([]byte(cred.Secret.Reveal()), "")
		if perr != nil {
			return fmt.Errorf("reading the certificate credential %s: %w", cred.File, perr)
		}
		msalCred, err = confidential.NewCredFromCert(certs, key)
		if cred.SendX5C {
			opts = append(opts, confidential.WithX5C())
		}
	case config.FederatedToken:
		msalCred = confidential.NewCredFromAssertionCallback(federatedAssertion(cred.File))
	default:
		return errors.New("tokencache: no credential configured")
	}
	if err != nil {
		return fmt.Errorf("building the %s credential: %w", cred.Variable(), err)
	}
	// "organizations" is only the client's home authority; every
	// acquisition names its tenant with WithTenantID.
	authority := o.AuthorityHost.JoinPath("organizations").String()
	opts = append(opts,
		confidential.WithHTTPClient(o.HTTPClient),
		confidential.WithInstanceDiscovery(o.InstanceDiscovery),
		confidential.WithCache(noCache{}),
	)
	client, err := confidential.New(authority, o.ClientID, msalCred, opts...)
	if err != nil {
		return fmt.Errorf("building MSAL confidential client for %s: %w", authority, err)
	}
	s.client.Store(&msalClient{client: client, secret: scrub})
	return nil
}

// federatedAssertion reads the projected service-account token afresh for
// every acquisition: the kubelet rotates it in place.
func federatedAssertion(path string) func(context.Context, confidential.AssertionRequestOptions) (string, error) {
	return func(context.Context, confidential.AssertionRequestOptions) (string, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("reading the federated token file: %w", err)
		}
		token := strings.TrimSpace(string(data))
		if token == "" {
			return "", fmt.Errorf("the federated token file %s is empty", path)
		}
		return token, nil
	}
}

// Token acquires a new token for the tenant and scope from Entra ID, its
// claims decoded. A failure is an *AcquisitionError carrying Entra ID's
// AADSTS code.
func (s *MSALSource) Token(ctx context.Context, tenantID, scope string) (Token, error) {
	c := s.client.Load()
	res, err := c.client.AcquireTokenByCredential(ctx, []string{scope}, confidential.WithTenantID(tenantID))
	if err != nil {
		return Token{}, classify(tenantID, err, c.secret)
	}
	tok := NewToken(res.AccessToken, res.ExpiresOn, res.Metadata.RefreshOn)
	if tok.Claims.TenantID == tenantID {
		tok.Claims.TenantID = tenantID // the caller's copy, not one more per token
	}
	return tok, nil
}

// noCache empties MSAL's in-memory cache before every read and write, so
// that each AcquireTokenByCredential asks Entra ID, and MSAL's cache holds
// at most the last token written (until the next acquisition empties it),
// not one per tenant.
type noCache struct{}

func (noCache) Replace(_ context.Context, c cache.Unmarshaler, _ cache.ReplaceHints) error {
	return c.Unmarshal([]byte("{}"))
}

func (noCache) Export(context.Context, cache.Marshaler, cache.ExportHints) error { return nil }

var _ Source = (*MSALSource)(nil)
