package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// adminConsent stands in for Entra ID's consent page: opening the partner
// guide's link (/{tenant}/oauth2/authorize?client_id=…&prompt=consent)
// grants the application admin consent in the tenant at once, with the
// demo roles if it had none, so the demo's unconsented tenant can be
// onboarded by hand.
func (s *Server) adminConsent(w http.ResponseWriter, r *http.Request) {
	tenantID := strings.ToLower(r.PathValue("tenant"))
	t, ok := s.tenant(tenantID)
	if !ok {
		writeText(w, http.StatusBadRequest, "AADSTS90002: Tenant '%s' not found.\n", tenantID)
		return
	}
	if clientID := r.URL.Query().Get("client_id"); !strings.EqualFold(clientID, s.clientID()) {
		writeText(w, http.StatusBadRequest, "AADSTS700016: Application with identifier '%s' was not found in the directory '%s'.\n", clientID, t.Name)
		return
	}
	t, err := s.grantConsent(t)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeText(w, http.StatusOK, "%s", s.consentGranted(t))
}

// adminConsentV2 is the v2.0 admin-consent endpoint
// (/{tenant}/v2.0/adminconsent?client_id=…&scope=…&redirect_uri=…&state=…).
// Like adminConsent it grants consent at once, then sends the browser back
// to redirect_uri with admin_consent=True, the tenant, state and scope, as
// Entra ID does; without redirect_uri it answers with a short page. The
// tenant must be a known tenant's GUID: the simulator does not resolve
// "organizations" or domain names.
func (s *Server) adminConsentV2(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tenantID := strings.ToLower(r.PathValue("tenant"))
	t, ok := s.tenant(tenantID)
	if !ok {
		writeText(w, http.StatusBadRequest, "AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.\n", tenantID)
		return
	}
	var redirect *url.URL
	if raw := q.Get("redirect_uri"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			writeText(w, http.StatusBadRequest, "AADSTS90102: 'redirect_uri' value must be a valid absolute URI.\n")
			return
		}
		redirect = u
	}
	back := func(params url.Values) {
		v := redirect.Query()
		for k, vals := range params {
			for _, val := range vals {
				v.Add(k, val)
			}
		}
		if state := q.Get("state"); state != "" {
			v.Set("state", state)
		}
		u := *redirect
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}

	clientID := q.Get("client_id")
	if !strings.EqualFold(clientID, s.clientID()) {
		msg := "AADSTS700016: " + faultMessage(700016, tenantID, t.Name, clientID)
		if redirect == nil {
			writeText(w, http.StatusBadRequest, "%s\n", msg)
			return
		}
		back(url.Values{"error": {"unauthorized_client"}, "error_description": {msg}})
		return
	}
	t, err := s.grantConsent(t)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if redirect == nil {
		writeText(w, http.StatusOK, "%s", s.consentGranted(t))
		return
	}
	params := url.Values{"admin_consent": {"True"}, "tenant": {t.ID}}
	if scope := q.Get("scope"); scope != "" {
		params.Set("scope", scope)
	}
	back(params)
}

// grantConsent marks the tenant consented, with the default Defender and
// Graph roles where it had none, and returns it as stored.
func (s *Server) grantConsent(t Tenant) (Tenant, error) {
	t.Consented = true
	if len(t.Roles) == 0 {
		t.Roles = DefaultRoles
	}
	if len(t.GraphRoles) == 0 {
		t.GraphRoles = DefaultGraphRoles
	}
	if err := s.SetTenant(t); err != nil {
		return Tenant{}, err
	}
	stored, _ := s.tenant(t.ID)
	return stored, nil
}

// consentGranted is the page that says consent was granted, and with what.
func (s *Server) consentGranted(t Tenant) string {
	return fmt.Sprintf("xdrsim: admin consent granted. Application %s may now use %s in tenant %s (%s).\n",
		s.clientID(), strings.Join(append(append([]string(nil), t.Roles...), t.GraphRoles...), ", "), t.Name, t.ID)
}

// writeText writes a plain-text page, as Entra ID's consent pages answer a
// browser.
func writeText(w http.ResponseWriter, status int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, format, args...)
}
