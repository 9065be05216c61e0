package check

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// checkTenants acquires a token for every tenant and scope, a few at a
// time, and reports on each in the order given.
func checkTenants(ctx context.Context, cfg *config.Config, src tokencache.Source, tenants []config.Tenant) []Result {
	scopes := cfg.Scopes()
	results := make([]Result, len(tenants)*len(scopes))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, t := range tenants {
		for j, scope := range scopes {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				results[i*len(scopes)+j] = checkOne(ctx, cfg, src, t, scope)
			}()
		}
	}
	wg.Wait()
	markMissingRoles(results, len(scopes), cfg.RequiredRoles)
	return results
}

// markMissingRoles fails each tenant whose tokens all came but carry,
// between them, not every role of required: a required role may come
// from any of the tenant's APIs. results hold each tenant's perScope
// results in a row; the first of them names the missing roles.
func markMissingRoles(results []Result, perScope int, required []string) {
	for i := 0; i < len(results); i += perScope {
		var roles []string
		allOK := true
		for _, r := range results[i : i+perScope] {
			roles = append(roles, r.Roles...)
			allOK = allOK && r.OK
		}
		if !allOK {
			continue
		}
		if missing := tokencache.MissingRoles(roles, required); len(missing) > 0 {
			results[i].MissingRoles, results[i].OK = missing, false
		}
	}
}

// checkOne acquires t's token for scope and describes it.
func checkOne(ctx context.Context, cfg *config.Config, src tokencache.Source, t config.Tenant, scope string) Result {
	r := Result{TenantID: t.ID, Alias: t.Alias, Scope: scope}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tok, err := src.Token(ctx, t.ID, scope)
	if err != nil {
		r.Error = diagnose(cfg, err)
		return r
	}
	claims := tok.Claims
	if claims.ReadErr != nil {
		r.Error = &Diagnosis{Class: string(tokencache.ClassUnknown), Message: "the token's claims could not be read: " + claims.ReadErr.Error()}
		return r
	}
	r.OK = true
	r.Audience = strings.Join(claims.Audience, ",")
	exp := tok.ExpiresOn.UTC().Truncate(time.Second)
	r.Expires = &exp
	r.Roles = slices.Sorted(slices.Values(claims.Roles))
	if claims.TenantID != "" && !strings.EqualFold(claims.TenantID, t.ID) {
		r.OK = false
		r.Error = &Diagnosis{Class: string(tokencache.ClassUnknown), Message: fmt.Sprintf("Entra ID issued a token for tenant %s, not %s", claims.TenantID, t.ID)}
	}
	return r
}

// diagnose explains a failed acquisition, with the consent
// link when the tenant's admin must consent.
func diagnose(cfg *config.Config, err error) *Diagnosis {
	a := tokencache.Diagnose(err, tokencache.ConsentLinks(cfg.AuthorityHost, cfg.ClientID))
	return &Diagnosis{Class: string(a.Class), Code: a.Code, OAuthError: a.OAuthError, Message: a.Description, Hint: a.Hint, AdminConsentURL: a.AdminConsentURL}
}
