package tokencache

import (
	"net/url"
)

// AdminConsentURL returns the link a tenant's administrator opens to grant
// the application admin consent: the form of Microsoft's Defender XDR
// partner-access page (/oauth2/authorize?prompt=consent&…), addressed to
// the tenant itself rather than /common so the admin signs in to the right
// directory.
func AdminConsentURL(authorityHost *url.URL, clientID, tenantID string) string {
	u := authorityHost.JoinPath(tenantID, "oauth2", "authorize")
	q := url.Values{}
	q.Set("client_id", clientID)
	q.Set("prompt", "consent")
	q.Set("response_type", "code")
	q.Set("sso_reload", "true")
	u.RawQuery = q.Encode()
	return u.String()
}

// ConsentLinks returns a maker of AdminConsentURL links for one
// application, as Diagnose takes it.
func ConsentLinks(authorityHost *url.URL, clientID string) func(tenantID string) string {
	return func(tenantID string) string { return AdminConsentURL(authorityHost, clientID, tenantID) }
}

// PartnerConsentURL returns the link exactly as Microsoft's Defender XDR
// partner-access page gives it: on /common, so any tenant's admin can
// open it and consents for the directory they sign in to.
func PartnerConsentURL(authorityHost *url.URL, clientID string) string {
	u := authorityHost.JoinPath("common", "oauth2", "authorize")
	// The page's parameter order, kept for recognisability.
	u.RawQuery = "prompt=consent&client_id=" + url.QueryEscape(clientID) + "&response_type=code&sso_reload=true"
	return u.String()
}

// AdminConsentV2URL returns the Microsoft identity platform's v2 admin
// consent link for tenant (a GUID, a domain or "organizations"; never
// "common"): after consent Entra ID redirects to redirectURI with
// admin_consent=True&tenant=<guid>. scope is one resource's /.default.
func AdminConsentV2URL(authorityHost *url.URL, clientID, tenant, scope, redirectURI string) string {
	u := authorityHost.JoinPath(tenant, "v2.0", "adminconsent")
	q := url.Values{}
	q.Set("client_id", clientID)
	q.Set("scope", scope)
	q.Set("redirect_uri", redirectURI)
	u.RawQuery = q.Encode()
	return u.String()
}
