package server

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// newSigner returns the signer of placeholder tokens when token emulation
// is on, and nil otherwise.
func newSigner(cfg *config.Config, log *zap.Logger) (*placeholder.Signer, error) {
	if !cfg.TokenEmulation {
		return nil, nil
	}
	signer, err := placeholder.NewSigner(cfg.PlaceholderKey, nil)
	if err != nil {
		return nil, fmt.Errorf("XDRPROXY_PLACEHOLDER_KEY_FILE: %w", err)
	}
	keyFrom := cfg.PlaceholderKeyFile
	if keyFrom == "" {
		keyFrom = "made at start: placeholders die with this process and other replicas refuse them; set XDRPROXY_PLACEHOLDER_KEY_FILE to share one"
	}
	log.Info("token emulation on: legacy tools get placeholder tokens from /{tenant}/oauth2/token and /{tenant}/oauth2/v2.0/token",
		zap.String("key", keyFrom), zap.String("kid", signer.KeyID()), zap.String("alg", signer.Algorithm()))
	return signer, nil
}

// newHandler builds the proxy handler over the process's token cache.
// signer is nil without token emulation.
func (p *process) newHandler(signer *placeholder.Signer) (*proxy.Handler, error) {
	cfg := p.cfg
	var limiter proxy.Limiter // in the process, without a fleet
	if p.fleet != nil {
		limiter = p.fleet.limiter
	}
	return proxy.New(proxy.Options{
		Limiter:         limiter,
		Upstream:        cfg.UpstreamURL,
		Scope:           cfg.Scope,
		Tenants:         cfg.Tenants,
		TenantsSource:   cfg.TenantsSource(),
		AuthorityHost:   cfg.AuthorityHost,
		DefaultTenant:   cfg.DefaultTenant,
		Routes:          cfg.Routes,
		ClientKeys:      cfg.ClientKeys,
		RateLimits:      cfg.RateLimits,
		QueueTimeout:    cfg.QueueTimeout,
		Tokens:          p.cache,
		Transport:       proxy.NewTransport(cfg.UpstreamTimeout, p.opts.Roots),
		Logger:          p.log.Named("access"),
		ConsentURL:      tokencache.ConsentLinks(cfg.AuthorityHost, cfg.ClientID),
		UpstreamTimeout: cfg.UpstreamTimeout,
		Metrics:         p.metrics,
		Placeholders:    signer,
		PublicURL:       cfg.PublicURL,
		BodyIdleTimeout: cfg.BodyIdleTimeout,
	})
}
