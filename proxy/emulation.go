package proxy

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/xdrproxy/xdrproxy/config"
)

// Token emulation: with Options.Placeholders set, the handler answers
// Entra ID's client-credentials token endpoints (v1 resource=, v2
// scope=), its OpenID discovery and its key set, for legacy tools whose
// OAuth flow is built in. The tool gets a placeholder signed by the
// proxy, never the real token; requests bearing it are routed to its
// tenant and carry the real token upstream.

// emulated names an Entra ID endpoint the proxy answers.
type emulated int

const (
	notEmulated emulated = iota
	tokenV1
	tokenV2
	discoveryV1
	discoveryV2
	keySet
)

// emulationRoute is the route label of emulated endpoints in metrics and
// the access log.
const emulationRoute = "token-emulation"

// emulatedEndpoint recognises /{tenant}/oauth2/token,
// /{tenant}/oauth2/v2.0/token, /{tenant}[/v2.0]/.well-known/openid-configuration
// and /{tenant}/discovery[/v2.0]/keys.
func emulatedEndpoint(path string) (tenant string, e emulated) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return "", notEmulated
	}
	tenant, rest, ok = strings.Cut(rest, "/")
	if !ok || tenant == "" {
		return "", notEmulated
	}
	switch rest {
	case "oauth2/token":
		return tenant, tokenV1
	case "oauth2/v2.0/token":
		return tenant, tokenV2
	case ".well-known/openid-configuration":
		return tenant, discoveryV1
	case "v2.0/.well-known/openid-configuration":
		return tenant, discoveryV2
	case "discovery/keys", "discovery/v2.0/keys":
		return tenant, keySet
	}
	return "", notEmulated
}

// serveEmulated answers an emulated Entra ID endpoint. pin is the tenant
// of a tenant listener, or "".
func (h *Handler) serveEmulated(w http.ResponseWriter, r *http.Request, pin, name string, ep emulated) {
	ex := h.begin(w, r)
	ex.route = emulationRoute
	defer ex.finish()
	switch ep {
	case tokenV1, tokenV2:
		ex.body.readWithin(tokenFormTimeout)
		ex.tenant, ex.client.fingerprint, ex.failure = h.serveToken(&ex.rec, r, pin, name, ep == tokenV2)
	case discoveryV1, discoveryV2:
		ex.failure = h.serveDiscovery(&ex.rec, r, name, ep == discoveryV2)
	case keySet:
		if ex.failure = h.onlyGET(&ex.rec, r); ex.failure == nil {
			writeTokenJSON(&ex.rec, http.StatusOK, h.opts.Placeholders.JWKS())
		}
	}
}

// onlyGET refuses, as Entra ID does, a request to a GET endpoint with
// another method.
func (h *Handler) onlyGET(w http.ResponseWriter, r *http.Request) error {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	e := &entraError{Status: http.StatusMethodNotAllowed, OAuth: "invalid_request", Code: 900561, Message: "The endpoint only accepts GET requests."}
	w.Header().Set("Allow", "GET, HEAD")
	h.writeEntraError(w, r, e)
	return e
}

// serveDiscovery answers the OpenID configuration of {tenant}, so that
// MSAL-based tools accept the proxy as their authority. Any tenant that
// is a GUID or alias in form gets one: answering only for the tenants
// served would tell anyone who asks which tenants those are.
func (h *Handler) serveDiscovery(w http.ResponseWriter, r *http.Request, name string, v2 bool) error {
	if err := h.onlyGET(w, r); err != nil {
		return err
	}
	if !config.IsGUID(name) && !config.IsAlias(name) {
		e := &entraError{Status: http.StatusBadRequest, OAuth: "invalid_tenant", Code: 90002,
			Message: fmt.Sprintf("Tenant '%s' not found: name a tenant GUID or a configured alias in the authority URL.", name)}
		h.writeEntraError(w, r, e)
		return e
	}
	base := h.origin(r) + "/" + name
	doc := map[string]any{
		"issuer":                                base + "/v2.0",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize", // MSAL requires one; never served
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"grant_types_supported":                 []string{"client_credentials"},
		"response_types_supported":              []string{"token"},
		"id_token_signing_alg_values_supported": []string{h.opts.Placeholders.Algorithm()},
		"subject_types_supported":               []string{"pairwise"},
	}
	if !v2 {
		doc["issuer"] = base + "/"
		doc["token_endpoint"] = base + "/oauth2/token"
		doc["authorization_endpoint"] = base + "/oauth2/authorize"
		doc["jwks_uri"] = base + "/discovery/keys"
	}
	writeTokenJSON(w, http.StatusOK, doc)
	return nil
}
