package admin

import (
	"bufio"
	"bytes"
	"encoding/json"
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

// tenants serves every tenant's token state, per scope, as
// {"tenants": [...]} indented like writeJSON. It is written tenant by
// tenant as it is encoded, so that its cost in memory is one tenant's
// report and a buffer, however many tenants there are (10,000 tenants:
// 4 MB of JSON, none of it held at once).
func (e *endpoints) tenants(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	tenants := e.Tenants.Tenants().All()
	if len(tenants) == 0 {
		_, _ = w.Write([]byte("{\n  \"tenants\": []\n}\n"))
		return
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	_, _ = bw.WriteString("{\n  \"tenants\": [\n")
	var one bytes.Buffer
	enc := json.NewEncoder(&one)
	enc.SetIndent(tenantIndent, "  ")
	enc.SetEscapeHTML(false)
	for i, t := range tenants {
		one.Reset()
		if err := enc.Encode(e.tenantReport(t)); err != nil {
			return // a tenantReport always encodes
		}
		if i > 0 {
			_, _ = bw.WriteString(",\n")
		}
		_, _ = bw.WriteString(tenantIndent)
		if _, err := bw.Write(bytes.TrimSuffix(one.Bytes(), []byte("\n"))); err != nil {
			return // the client went away
		}
	}
	_, _ = bw.WriteString("\n  ]\n}\n")
	_ = bw.Flush()
}

// tenantIndent is the indent of an element of the tenants array.
const tenantIndent = "    "

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
