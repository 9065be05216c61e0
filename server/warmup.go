package server

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// warmUp acquires every tenant's token once, so the first request of a
// tenant does not wait and operators see consent problems at start-up.
func warmUp(ctx context.Context, cfg *config.Config, cache *tokencache.Cache, log *zap.Logger) {
	start := time.Now()
	tenants := cfg.Tenants.All()
	ids := tenantIDs(cfg.Tenants)
	scopes := cfg.Scopes()
	for _, scope := range scopes {
		cache.Warm(ctx, ids, scope)
	}
	if ctx.Err() != nil {
		return // shutting down before every tenant was tried
	}
	ok := 0
	for _, t := range tenants {
		for _, scope := range scopes {
			st, _ := cache.Status(tokencache.Key{TenantID: t.ID, Scope: scope})
			if st.HasToken {
				ok++
				continue
			}
			log.Warn("tenant has no token after warm-up", noTokenFields(cfg, t, scope, st.LastError)...)
		}
	}
	log.Info("warm-up done", zap.Int("tenants", len(tenants)), zap.Int("scopes", len(scopes)), zap.Int("tokens", ok), zap.Duration("took", time.Since(start)))
}

// noTokenFields say which tenant and scope has no token, why, and how to
// fix it.
func noTokenFields(cfg *config.Config, t config.Tenant, scope string, lastErr error) []zap.Field {
	fields := []zap.Field{zap.String("tenant", t.Name()), zap.String("tenant_id", t.ID), zap.String("scope", scope)}
	if lastErr == nil {
		return fields
	}
	advice := tokencache.Diagnose(lastErr, tokencache.ConsentLinks(cfg.AuthorityHost, cfg.ClientID))
	if advice.Hint != "" {
		fields = append(fields, zap.String("fix", advice.Hint))
	}
	if advice.AdminConsentURL != "" {
		fields = append(fields, zap.String("admin_consent_url", advice.AdminConsentURL))
	}
	fields = append(fields, zap.Error(lastErr))
	return fields
}
