package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
	"github.com/xdrproxy/xdrproxy/tokencache"
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

// maxTokenRequest bounds a token request's form body.
const maxTokenRequest = 64 << 10

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

// entraError is a refusal in Entra ID's token-endpoint error shape, so
// that tools built for Entra ID show it sensibly.
type entraError struct {
	Status  int
	OAuth   string // the error field: invalid_client, unauthorized_client, …
	Code    int    // the AADSTS code
	Message string
}

func (e *entraError) Error() string {
	return fmt.Sprintf("%s: AADSTS%d: %s", e.OAuth, e.Code, e.Message)
}

func (h *Handler) writeEntraError(w http.ResponseWriter, r *http.Request, e *entraError) {
	ts := h.now().UTC().Format("2006-01-02 15:04:05Z")
	trace := uuid.NewString()
	corr := r.Header.Get("client-request-id") // MSAL's correlation ID
	if !config.IsGUID(corr) {
		corr = uuid.NewString()
	}
	body := map[string]any{
		"error":             e.OAuth,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", e.Code, e.Message, trace, corr, ts),
		"error_codes":       []int{e.Code},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
	}
	writeTokenJSON(w, e.Status, body)
}

// writeTokenJSON writes a token-endpoint answer, never to be cached.
func writeTokenJSON(w http.ResponseWriter, status int, v any) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store, no-cache")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// serveEmulated answers an emulated Entra ID endpoint. pin is the tenant
// of a tenant listener, or "".
func (h *Handler) serveEmulated(w http.ResponseWriter, r *http.Request, pin, name string, ep emulated) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	h.opts.Metrics.inflightAdd(1)
	var (
		tenant  config.Tenant
		client  string
		failure error
	)
	defer func() {
		h.finish(r, rec, tenant, emulationRoute, clientID{fingerprint: client}, false, 0, start, 0, 0, failure)
	}()
	switch ep {
	case tokenV1, tokenV2:
		tenant, client, failure = h.serveToken(rec, r, pin, name, ep == tokenV2)
	case discoveryV1, discoveryV2:
		failure = h.serveDiscovery(rec, r, name, ep == discoveryV2)
	case keySet:
		if failure = h.onlyGET(rec, r); failure == nil {
			writeTokenJSON(rec, http.StatusOK, h.opts.Placeholders.JWKS())
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
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host + "/" + name
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

// serveToken answers a client-credentials token request with a
// placeholder for the tenant's real token. It returns the tenant and the
// client key's fingerprint for the access log, and why it refused.
func (h *Handler) serveToken(w http.ResponseWriter, r *http.Request, pin, name string, v2 bool) (config.Tenant, string, error) {
	basicUser, basicSecret, basic := r.BasicAuth()
	refuse := func(e *entraError) error {
		if e.Status == http.StatusUnauthorized && basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="xdrproxy"`) // RFC 6749 §5.2
		}
		h.writeEntraError(w, r, e)
		return e
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		return config.Tenant{}, "", refuse(&entraError{Status: http.StatusMethodNotAllowed, OAuth: "invalid_request", Code: 900561,
			Message: fmt.Sprintf("The endpoint only accepts POST requests. Received a %s request.", r.Method)})
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if err := r.ParseForm(); err != nil {
		return config.Tenant{}, "", refuse(&entraError{Status: http.StatusBadRequest, OAuth: "invalid_request", Code: 900144,
			Message: "The request body must be an application/x-www-form-urlencoded form of at most 64 KiB, with the following parameter: 'grant_type'."})
	}
	form := r.PostForm
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return config.Tenant{}, "", refuse(&entraError{Status: http.StatusBadRequest, OAuth: "invalid_request", Code: 900144, Message: "The request body must contain the following parameter: 'grant_type'."})
	default:
		return config.Tenant{}, "", refuse(&entraError{Status: http.StatusBadRequest, OAuth: "unsupported_grant_type", Code: 70003,
			Message: fmt.Sprintf("The app requested an unsupported grant type '%s'. This proxy issues tokens for the client_credentials grant only.", gt)})
	}
	if form.Get("client_id") == "" && basicUser == "" {
		return config.Tenant{}, "", refuse(&entraError{Status: http.StatusBadRequest, OAuth: "invalid_request", Code: 900144, Message: "The request body must contain the following parameter: 'client_id'."})
	}

	// The tool authenticates with a client key in place of the secret:
	// client_secret, HTTP Basic, or Authorization: Bearer.
	presented := form.Get("client_secret")
	if presented == "" && basic {
		presented = basicSecret
	}
	if scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " "); presented == "" && strings.EqualFold(scheme, "Bearer") {
		presented = strings.TrimSpace(key)
	}
	var key config.ClientKey
	keys := h.keys.Load()
	keyed := keys != nil
	client := ""
	if keyed {
		if presented == "" {
			return config.Tenant{}, "", refuse(&entraError{Status: http.StatusUnauthorized, OAuth: "invalid_client", Code: 7000218,
				Message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'. This proxy takes one of its client keys (XDRPROXY_CLIENT_KEYS_FILE) as client_secret."})
		}
		var ok bool
		if key, ok = keys.Match(presented); !ok {
			return config.Tenant{}, "", refuse(&entraError{Status: http.StatusUnauthorized, OAuth: "invalid_client", Code: 7000215,
				Message: "Invalid client secret provided. This proxy takes one of its client keys (XDRPROXY_CLIENT_KEYS_FILE) as client_secret, not the application's secret."})
		}
		client = key.Fingerprint()
	}

	tc := h.tenants.Load()
	t, ok := tc.set.Lookup(name)
	if pin != "" {
		pinned, pinOK := tc.set.Lookup(pin)
		ok = ok && pinOK && pinned.ID == t.ID
	}
	if values := r.Header.Values(TenantHeader); len(values) > 1 || len(values) == 1 && strings.TrimSpace(values[0]) != "" {
		// The path names the tenant; a header naming another (or several)
		// conflicts, as on the data plane.
		named, namedOK := tc.set.Lookup(strings.TrimSpace(values[0]))
		ok = ok && len(values) == 1 && namedOK && named.ID == t.ID
	}
	if !ok || keyed && !key.Allows(t) {
		// One answer for unknown, unserved and not-allowed tenants: a key
		// limited to some tenants learns nothing about the others.
		return config.Tenant{}, client, refuse(unauthorizedClient("Tenant '%s' is not served by this proxy for this client: it must be in XDRPROXY_TENANTS (or the tenants file), on the client key's line in XDRPROXY_CLIENT_KEYS_FILE, on a tenant listener be the listener's tenant, and agree with any X-Tenant-ID header.", name))
	}

	resource, bad := requestedResource(form, v2)
	if bad != nil {
		return t, client, refuse(bad)
	}
	scope := h.scopeFor(resource)
	tok, err := h.opts.Tokens.Token(r.Context(), t.ID, scope)
	if _, still := h.tenants.Load().set.Lookup(t.ID); err == nil && !still || errors.Is(err, tokencache.ErrTenantNotServed) {
		return t, client, refuse(unauthorizedClient("Tenant '%s' is no longer served by this proxy.", name))
	}
	if keyed {
		// The key may have been revoked, or its tenants narrowed, while
		// the token was fetched.
		if again, ok := h.keys.Load().Match(presented); !ok {
			return t, client, refuse(&entraError{Status: http.StatusUnauthorized, OAuth: "invalid_client", Code: 7000215, Message: "The client key was revoked while the token was fetched."})
		} else if !again.Allows(t) {
			return t, client, refuse(unauthorizedClient("Tenant '%s' is not served by this proxy for this client.", name))
		}
	}
	if err != nil {
		if r.Context().Err() != nil {
			return t, client, fmt.Errorf("client went away while waiting for a token: %w", err)
		}
		e := h.tokenRequestFailure(t, scope, err)
		if e.Status == http.StatusServiceUnavailable {
			retry := "5"
			var be *tokencache.BackoffError
			if errors.As(err, &be) && be.RetryIn > 0 {
				retry = wholeSeconds(be.RetryIn)
			}
			w.Header().Set("Retry-After", retry)
		}
		return t, client, refuse(e)
	}

	claims, _ := tokencache.DecodeClaims(tok.Value)
	exp := tok.ExpiresOn
	if !claims.ExpiresAt.IsZero() && claims.ExpiresAt.Before(exp) {
		exp = claims.ExpiresAt
	}
	now := h.now()
	signed, err := h.opts.Placeholders.Mint(placeholder.Claims{
		TenantID:     t.ID,
		Audience:     claims.Audience,
		Roles:        claims.Roles,
		AppID:        claims.AppID,
		ExpiresAt:    exp,
		ClientKey:    h.opts.Placeholders.Bind(key.Hash),
		HasClientKey: keyed,
	})
	if err != nil {
		e := &entraError{Status: http.StatusServiceUnavailable, OAuth: "temporarily_unavailable", Code: 90033,
			Message: "The proxy's token for this tenant is about to expire and is being renewed; retry in a few seconds."}
		w.Header().Set("Retry-After", "5")
		return t, client, refuse(e)
	}
	lifetime := int64(exp.Truncate(time.Second).Sub(now) / time.Second)
	if v2 {
		writeTokenJSON(w, http.StatusOK, map[string]any{
			"token_type":     "Bearer",
			"expires_in":     lifetime,
			"ext_expires_in": lifetime,
			"access_token":   signed,
		})
		return t, client, nil
	}
	// The v1 endpoint answers numbers as strings.
	writeTokenJSON(w, http.StatusOK, map[string]string{
		"token_type":     "Bearer",
		"expires_in":     strconv.FormatInt(lifetime, 10),
		"ext_expires_in": strconv.FormatInt(lifetime, 10),
		"expires_on":     strconv.FormatInt(exp.Unix(), 10),
		"not_before":     strconv.FormatInt(now.Unix(), 10),
		"resource":       resource, // echoed, as Entra ID does: tools may key their caches on it
		"access_token":   signed,
	})
	return t, client, nil
}

// unauthorizedClient is the refusal of a tenant the client may not have
// a token for (AADSTS700016).
func unauthorizedClient(format, name string) *entraError {
	return &entraError{Status: http.StatusBadRequest, OAuth: "unauthorized_client", Code: 700016, Message: fmt.Sprintf(format, name)}
}

// requestedResource reads the resource of a v1 request (resource=) or a
// v2 one (scope=, one resource's /.default), refusing as Entra ID does.
func requestedResource(form map[string][]string, v2 bool) (string, *entraError) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if !v2 {
		resource := strings.TrimSpace(get("resource"))
		if resource == "" {
			return "", &entraError{Status: http.StatusBadRequest, OAuth: "invalid_request", Code: 900144, Message: "The request body must contain the following parameter: 'resource'."}
		}
		return resource, nil
	}
	scope := get("scope")
	var resources []string
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access":
			continue
		}
		r, ok := strings.CutSuffix(sc, "/.default")
		if !ok {
			return "", &entraError{Status: http.StatusBadRequest, OAuth: "invalid_scope", Code: 1002012,
				Message: fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc)}
		}
		resources = append(resources, r)
	}
	switch len(resources) {
	case 0:
		return "", &entraError{Status: http.StatusBadRequest, OAuth: "invalid_request", Code: 900144, Message: "The request body must contain the following parameter: 'scope'."}
	case 1:
		return resources[0], nil
	}
	return "", &entraError{Status: http.StatusBadRequest, OAuth: "invalid_scope", Code: 700022,
		Message: "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope " + scope + " is not valid."}
}

// scopeFor picks the proxy scope whose resource the tool asked for, else
// the default scope: a placeholder stands for its tenant, and requests
// bearing it go out with the route's token whatever was asked for; its
// aud says which token it mirrors.
func (h *Handler) scopeFor(resource string) string {
	want := normResource(resource)
	if normResource(h.opts.Scope) == want {
		return h.opts.Scope
	}
	for _, r := range h.opts.Routes {
		if normResource(r.Scope) == want {
			return r.Scope
		}
	}
	return h.opts.Scope
}

func normResource(s string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSuffix(s, "/.default"), "/"))
}

// tokenRequestFailure turns a failed acquisition into Entra ID's error
// shape. A transient failure is temporarily_unavailable (503). A refusal
// about the tenant (consent, licence, policy…) keeps Entra ID's error and
// code. A refusal of the proxy's own credential or application is the
// proxy's fault, not the tool's: 500 server_error (AADSTS50000), with
// Entra ID's code in the description, never invalid_client, which would
// tell the tool its key is wrong.
func (h *Handler) tokenRequestFailure(t config.Tenant, scope string, err error) *entraError {
	msg := "The proxy " + h.tokenError(t, scope, err).Message
	e := &entraError{Status: http.StatusServiceUnavailable, OAuth: "temporarily_unavailable", Code: 90033, Message: msg}
	var ae *tokencache.AcquisitionError
	if !errors.As(err, &ae) {
		return e
	}
	if c := ae.Code(); c != 0 {
		e.Code = c
	}
	switch {
	case ae.Transient():
	case ae.Class() == tokencache.ClassCredential || ae.Class() == tokencache.ClassApplication || ae.OAuthError == "invalid_client":
		e.Status, e.OAuth, e.Code = http.StatusInternalServerError, "server_error", 50000
	default:
		e.Status, e.OAuth = http.StatusBadRequest, ae.OAuthError
		if e.OAuth == "" {
			e.OAuth = "unauthorized_client"
		}
	}
	return e
}

// now is the handler's clock (Options.Now, else time.Now).
func (h *Handler) now() time.Time { return h.limits.now() }
