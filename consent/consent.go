// Package consent is `xdrproxy consent-url`: the admin-consent links a
// customer's admin opens so that the application may call their tenant's
// APIs.
package consent

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// Links are an application's admin-consent links, addressed to one tenant
// or to any. Make them with NewLinks.
type Links struct {
	app         *config.Config
	target      string // a tenant ID or domain, or "organizations" for any
	redirectURI string
}

// NewLinks returns app's links for tenant (a GUID, an alias from
// XDRPROXY_TENANTS or XDRPROXY_TENANTS_FILE, or a verified domain; empty
// means any tenant) with the v2 link returning to redirectURI. Every
// error names the flag that is wrong: --redirect-uri when it is not an
// absolute URL, --tenant when it names no tenant Entra ID accepts.
func NewLinks(app *config.Config, tenant, redirectURI string) (*Links, error) {
	if u, err := url.Parse(redirectURI); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("--redirect-uri %q is not an absolute URL", redirectURI)
	}
	l := &Links{app: app, target: "organizations", redirectURI: redirectURI}
	if t := strings.TrimSpace(tenant); t != "" {
		var err error
		if l.target, err = resolveTenant(t); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Print writes the links, each with what it is for and who may open it.
func (l *Links) Print(w io.Writer) {
	app := l.app
	fmt.Fprintf(w, "Admin-consent links for application %s (cloud %s, %s).\n\n", app.ClientID, app.Cloud.Name, app.AuthorityHost)
	fmt.Fprintf(w, "Microsoft's partner-access link (any tenant; the admin consents for the directory they sign in to):\n  %s\n\n",
		tokencache.PartnerConsentURL(app.AuthorityHost, app.ClientID))
	if l.target != "organizations" {
		fmt.Fprintf(w, "The same, addressed to tenant %s:\n  %s\n\n", l.target, tokencache.AdminConsentURL(app.AuthorityHost, app.ClientID, l.target))
	}
	fmt.Fprintf(w, "v2 admin consent for tenant %s (returns to %s with admin_consent=True&tenant=<tenant ID>):\n  %s\n",
		l.target, l.redirectURI, tokencache.AdminConsentV2URL(app.AuthorityHost, app.ClientID, l.target, app.Scope, l.redirectURI))
	if len(app.Scopes()) > 1 {
		fmt.Fprintln(w, "\nConsent covers every permission configured on the application, the routes' APIs included.")
	}
	fmt.Fprintln(w, "\nThe admin must be a Global Administrator or Privileged Role Administrator of that tenant.")
}

// resolveTenant resolves --tenant: a GUID as given, an alias from
// XDRPROXY_TENANTS or XDRPROXY_TENANTS_FILE, or else a verified domain
// (anything with a dot).
func resolveTenant(t string) (string, error) {
	switch {
	case config.IsGUID(t):
		return strings.ToLower(t), nil
	case strings.EqualFold(t, "common"):
		return "", fmt.Errorf("--tenant common is refused by Entra ID's v2 admin consent; omit --tenant or name the tenant")
	}
	var tenants []config.Tenant
	if list, err := config.ParseTenantList(os.Getenv("XDRPROXY_TENANTS")); err == nil {
		tenants = append(tenants, list...)
	}
	if path := os.Getenv("XDRPROXY_TENANTS_FILE"); path != "" {
		if list, err := config.ReadTenantsFile(path); err == nil {
			tenants = append(tenants, list...)
		}
	}
	if set, err := config.NewTenantSet(tenants); err == nil {
		if tenant, ok := set.Lookup(t); ok {
			return tenant.ID, nil
		}
	}
	if strings.Contains(t, ".") {
		return t, nil // a verified domain such as contoso.onmicrosoft.com
	}
	return "", fmt.Errorf("--tenant %q is neither a GUID, a domain, nor an alias in XDRPROXY_TENANTS or XDRPROXY_TENANTS_FILE", t)
}
