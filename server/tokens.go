package server

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// NewTokenSource builds the MSAL Go source for cfg's credential, as the
// proxy acquires tokens with it; `xdrproxy check` uses it too, so that it
// tests what the proxy will do. roots, if not nil, are the only CAs
// trusted for Entra ID.
func NewTokenSource(cfg *config.Config, roots *x509.CertPool) (*tokencache.MSALSource, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if roots != nil {
		transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return tokencache.NewMSALSource(tokencache.MSALOptions{
		AuthorityHost:     cfg.AuthorityHost,
		ClientID:          cfg.ClientID,
		Credential:        cfg.Credential,
		InstanceDiscovery: cfg.InstanceDiscovery,
		HTTPClient:        &http.Client{Transport: transport, Timeout: 30 * time.Second},
	})
}

// newCache builds the token cache over the process's source, serving the
// configured tenants, with each acquisition counted in the metrics under
// the tenant's name.
func (p *process) newCache() *tokencache.Cache {
	var store tokencache.Store // in the process, without a fleet
	if p.fleet != nil {
		store = p.fleet.tokens
	}
	cache := tokencache.New(p.source, tokencache.Options{
		Store:               store,
		Logger:              p.log.Named("token"),
		PermanentMinBackoff: p.opts.PermanentBackoff,
		PermanentMaxBackoff: 6 * p.opts.PermanentBackoff, // zero keeps the default
		Observe: func(k tokencache.Key, expires time.Time, err error) {
			// The handler is set before any acquisition starts.
			name := k.TenantID
			if t, ok := p.handler.Tenants().Lookup(k.TenantID); ok {
				name = t.Name()
			}
			p.metrics.ObserveAcquisition(name, k.Scope, expires, err)
		},
	})
	cache.SetTenants(tenantIDs(p.cfg.Tenants))
	return cache
}

// tenantIDs lists the GUIDs of set.
func tenantIDs(set *config.TenantSet) []string {
	ids := make([]string, 0, set.Len())
	for _, t := range set.All() {
		ids = append(ids, t.ID)
	}
	return ids
}
