// Package check is `xdrproxy check`: it acquires a token for each
// configured tenant and API, as the proxy would, and reports the audience,
// expiry and roles of each, or why Entra ID refused it and what to do. It
// never prints a token.
package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// ErrFailed is returned by Run when a tenant got no token or lacks a role
// of XDRPROXY_REQUIRED_ROLES; the report says which and why.
var ErrFailed = errors.New("a tenant failed the check")

// Options say what Run checks and how it reports.
type Options struct {
	// Tenants are checked in this order. Nil means every configured
	// tenant.
	Tenants []config.Tenant
	// JSON reports the results as a JSON array instead of a table.
	JSON bool
}

// Select returns the tenant name names (a GUID or an alias, in any case)
// among the configured ones, for Options.Tenants; an empty name selects
// every tenant. A name that is not configured is an error.
func Select(cfg *config.Config, name string) ([]config.Tenant, error) {
	if name == "" {
		return cfg.Tenants.All(), nil
	}
	t, ok := cfg.Tenants.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("--tenant %q is not one of the tenants configured in %s", name, cfg.TenantsSource())
	}
	return []config.Tenant{t}, nil
}

// Run acquires, from src, a token for every tenant of o and scope of cfg,
// a few at a time, and writes a report to w. It returns ErrFailed when any
// tenant failed.
func Run(ctx context.Context, cfg *config.Config, src tokencache.Source, w io.Writer, o Options) error {
	tenants := o.Tenants
	if tenants == nil {
		tenants = cfg.Tenants.All()
	}
	results := checkTenants(ctx, cfg, src, tenants)
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		printTable(w, results, cfg.RequiredRoles)
	}
	for _, r := range results {
		if !r.OK {
			return ErrFailed
		}
	}
	return nil
}
