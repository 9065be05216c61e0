package check

import "time"

// Result is one (tenant, scope) line of the report. It never holds the
// token.
type Result struct {
	// TenantID and Alias name the tenant; Alias is empty without one.
	TenantID string `json:"tenant_id"`
	Alias    string `json:"alias,omitempty"`
	// Scope is the API the token was asked for.
	Scope string `json:"scope"`
	// OK is true when a token was acquired and the tenant's tokens carry
	// every required role between them.
	OK bool `json:"ok"`
	// Audience, Expires and Roles describe the token; empty without one.
	Audience string     `json:"audience,omitempty"`
	Expires  *time.Time `json:"expires,omitempty"`
	Roles    []string   `json:"roles,omitempty"`
	// MissingRoles are the required roles none of the tenant's tokens
	// carry, on the tenant's first scope only.
	MissingRoles []string `json:"missing_roles,omitempty"`
	// Error is why no usable token was acquired; nil when one was.
	Error *Diagnosis `json:"error,omitempty"`
}

// Diagnosis says why an acquisition failed and what to do about it.
type Diagnosis struct {
	// Class is the failure's tokencache class, such as consent_required.
	Class string `json:"class"`
	// Code is the first AADSTS code; zero when Entra ID gave none.
	Code int `json:"aadsts,omitempty"`
	// OAuthError is the OAuth error, such as unauthorized_client.
	OAuthError string `json:"oauth_error,omitempty"`
	// Message is Entra ID's description, or what went wrong.
	Message string `json:"message"`
	// Hint says how to fix it; empty when there is no advice.
	Hint string `json:"hint,omitempty"`
	// AdminConsentURL is set when the tenant's admin must consent.
	AdminConsentURL string `json:"admin_consent_url,omitempty"`
}
