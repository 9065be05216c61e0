package admin

import (
	"net/http"
	"sort"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// tenantReport is one tenant in /tenants. It never holds a token.
type tenantReport struct {
	TenantID string        `json:"tenant_id"`
	Alias    string        `json:"alias,omitempty"`
	Scopes   []scopeReport `json:"scopes"`
}

// scopeReport is one scope of a tenant in /tenants.
type scopeReport struct {
	Scope     string       `json:"scope"`
	State     string       `json:"state"` // valid, failing (token still valid), failed, none
	Expires   *time.Time   `json:"expires,omitempty"`
	RefreshAt *time.Time   `json:"refresh_at,omitempty"`
	Roles     []string     `json:"roles,omitempty"`
	LastError *errorReport `json:"last_error,omitempty"`
	RetryAt   *time.Time   `json:"retry_at,omitempty"`
}

// errorReport is the diagnosis of a failed acquisition in /tenants.
type errorReport struct {
	Class           string `json:"class"`
	Code            int    `json:"aadsts,omitempty"`
	Message         string `json:"message"`
	Hint            string `json:"hint,omitempty"`
	AdminConsentURL string `json:"admin_consent_url,omitempty"`
}

// tenants serves every tenant's token state, per scope.
func (e *endpoints) tenants(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Tenants []tenantReport `json:"tenants"`
	}{Tenants: []tenantReport{}}
	for _, t := range e.Tenants.Tenants().All() {
		out.Tenants = append(out.Tenants, e.tenantReport(t))
	}
	writeJSON(w, http.StatusOK, out)
}

// tenantReport is t's token state for every API.
func (e *endpoints) tenantReport(t config.Tenant) tenantReport {
	tr := tenantReport{TenantID: t.ID, Alias: t.Alias}
	for _, scope := range e.Config.Scopes() {
		tr.Scopes = append(tr.Scopes, e.report(t, scope))
	}
	return tr
}

// report is the state of t's token for scope.
func (e *endpoints) report(t config.Tenant, scope string) scopeReport {
	sr := scopeReport{Scope: scope, State: "none"}
	st, ok := e.Tokens.Status(tokencache.Key{TenantID: t.ID, Scope: scope})
	if !ok {
		return sr
	}
	if st.HasToken {
		sr.State = "valid"
		exp, ref := st.ExpiresOn.UTC().Truncate(time.Second), st.RefreshAt.UTC().Truncate(time.Second)
		roles := append([]string(nil), st.Roles...)
		sort.Strings(roles)
		sr.Expires, sr.RefreshAt, sr.Roles = &exp, &ref, roles
	}
	if st.LastError != nil {
		sr.State = map[bool]string{true: "failing", false: "failed"}[st.HasToken]
		sr.LastError = e.diagnose(st.LastError)
		if st.RetryAt.After(e.Now()) {
			at := st.RetryAt.UTC().Truncate(time.Second)
			sr.RetryAt = &at
		}
	}
	return sr
}

// diagnose explains an acquisition failure, with the consent link when
// the tenant's admin must consent.
func (e *endpoints) diagnose(err error) *errorReport {
	a := tokencache.Diagnose(err, tokencache.ConsentLinks(e.Config.AuthorityHost, e.Config.ClientID))
	return &errorReport{Class: string(a.Class), Code: a.Code, Message: a.Description, Hint: a.Hint, AdminConsentURL: a.AdminConsentURL}
}
