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
