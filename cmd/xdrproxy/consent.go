package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// runConsentURL is `xdrproxy consent-url [--tenant T] [--redirect-uri U]`:
// the links a customer's admin opens to consent to the application.
func runConsentURL(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("consent-url", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "the customer's tenant: a GUID, a verified domain, or an alias from XDRPROXY_TENANTS")
	redirect := fs.String("redirect-uri", "https://portal.azure.com", "a redirect URI registered on the application, for the v2 link")
	if err := fs.Parse(args); err != nil {
		return &exitError{Code: 2, Err: nil}
	}
	if fs.NArg() > 0 {
		return &exitError{Code: 2, Err: fmt.Errorf("consent-url takes no arguments, got %q", fs.Args())}
	}
	cfg, err := config.LoadApplication()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	if u, err := url.Parse(*redirect); err != nil || u.Scheme == "" || u.Host == "" {
		return &exitError{Code: 2, Err: fmt.Errorf("--redirect-uri %q is not an absolute URL", *redirect)}
	}
	target := "organizations"
	if t := strings.TrimSpace(*tenant); t != "" {
		target, err = consentTenant(t)
		if err != nil {
			return &exitError{Code: 2, Err: err}
		}
	}

	fmt.Fprintf(stdout, "Admin-consent links for application %s (cloud %s, %s).\n\n", cfg.ClientID, cfg.Cloud.Name, cfg.AuthorityHost)
	fmt.Fprintf(stdout, "Microsoft's partner-access link (any tenant; the admin consents for the directory they sign in to):\n  %s\n\n",
		tokencache.PartnerConsentURL(cfg.AuthorityHost, cfg.ClientID))
	if target != "organizations" {
		fmt.Fprintf(stdout, "The same, addressed to tenant %s:\n  %s\n\n", target, tokencache.AdminConsentURL(cfg.AuthorityHost, cfg.ClientID, target))
	}
	fmt.Fprintf(stdout, "v2 admin consent for tenant %s (returns to %s with admin_consent=True&tenant=<tenant ID>):\n  %s\n",
		target, *redirect, tokencache.AdminConsentV2URL(cfg.AuthorityHost, cfg.ClientID, target, cfg.Scope, *redirect))
	if len(cfg.Scopes()) > 1 {
		fmt.Fprintln(stdout, "\nConsent covers every permission configured on the application, the routes' APIs included.")
	}
	fmt.Fprintln(stdout, "\nThe admin must be a Global Administrator or Privileged Role Administrator of that tenant.")
	return nil
}

// consentTenant resolves --tenant: a GUID as given, an alias from
// XDRPROXY_TENANTS or XDRPROXY_TENANTS_FILE, or else a verified domain
// (anything with a dot).
func consentTenant(t string) (string, error) {
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
