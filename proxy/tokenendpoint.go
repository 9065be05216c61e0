package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// maxTokenRequest bounds a token request's form body.
const maxTokenRequest = 64 << 10

// tokenRequest is a tool's client-credentials request, as far as read.
type tokenRequest struct {
	form      url.Values
	presented string // the client key the tool sent in place of a secret
	basic     bool   // it came by HTTP Basic
	v2        bool   // the v2 endpoint (scope=), else v1 (resource=)
	name, pin string // the tenant in the path; the listener's, or ""
	key       config.ClientKey
	keyed     bool
}

// serveToken answers a client-credentials token request with a
// placeholder for the tenant's real token. It returns the tenant and the
// client key's fingerprint for the access log, and why it refused.
func (h *Handler) serveToken(w http.ResponseWriter, r *http.Request, pin, name string, v2 bool) (config.Tenant, string, error) {
	tr := &tokenRequest{v2: v2, name: name, pin: pin}
	refuse := func(e *entraError) error {
		if e.Status == http.StatusUnauthorized && tr.basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="xdrproxy"`) // RFC 6749 §5.2
		}
		h.writeEntraError(w, r, e)
		return e
	}
	if e := tr.read(w, r); e != nil {
		return config.Tenant{}, "", refuse(e)
	}
	if e := h.authenticateTool(tr); e != nil {
		return config.Tenant{}, "", refuse(e)
	}
	client := ""
	if tr.keyed {
		client = tr.key.Fingerprint()
	}
	t, e := h.toolTenant(r, tr)
	if e != nil {
		return config.Tenant{}, client, refuse(e)
	}
	resource, e := requestedResource(tr.form, v2)
	if e != nil {
		return t, client, refuse(e)
	}
	routes := h.served.Load().routes
	scope, ok := routes.scopeFor(resource)
	if !ok {
		return t, client, refuse(&entraError{Status: http.StatusBadRequest, OAuth: "invalid_resource", Code: 500011,
			Message: fmt.Sprintf("The resource principal named %s was not found: this proxy serves %s. Ask for one of those (by application ID URI or application ID), or add a route for this API to XDRPROXY_ROUTES.", shownResource(resource), routes.servedResources())})
	}
	tok, err := h.toolToken(w, r, tr, t, scope)
	var ee *entraError
	if errors.As(err, &ee) {
		return t, client, refuse(ee)
	} else if err != nil {
		return t, client, err
	}
	if e := h.answerToken(w, tr, t, tok, resource); e != nil {
		return t, client, refuse(e)
	}
	return t, client, nil
}

// read checks the method, reads the form (at most 64 KiB) and the client
// key the tool presents: client_secret, HTTP Basic, or a bearer token.
func (tr *tokenRequest) read(w http.ResponseWriter, r *http.Request) *entraError {
	basicUser, basicSecret, basic := r.BasicAuth()
	tr.basic = basic
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		return &entraError{Status: http.StatusMethodNotAllowed, OAuth: "invalid_request", Code: 900561,
			Message: fmt.Sprintf("The endpoint only accepts POST requests. Received a %s request.", r.Method)}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if err := r.ParseForm(); err != nil {
		return invalidRequest(900144, "The request body must be an application/x-www-form-urlencoded form of at most 64 KiB, with the following parameter: 'grant_type'.")
	}
	tr.form = r.PostForm
	switch gt := tr.form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return invalidRequest(900144, "The request body must contain the following parameter: 'grant_type'.")
	default:
		return &entraError{Status: http.StatusBadRequest, OAuth: "unsupported_grant_type", Code: 70003,
			Message: fmt.Sprintf("The app requested an unsupported grant type '%s'. This proxy issues tokens for the client_credentials grant only.", gt)}
	}
	if tr.form.Get("client_id") == "" && basicUser == "" {
		return invalidRequest(900144, "The request body must contain the following parameter: 'client_id'.")
	}
	tr.presented = tr.form.Get("client_secret")
	if tr.presented == "" && basic {
		tr.presented = basicSecret
	}
	if scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " "); tr.presented == "" && strings.EqualFold(scheme, "Bearer") {
		tr.presented = strings.TrimSpace(key)
	}
	return nil
}

// authenticateTool matches the presented secret against the client keys,
// when keys are configured.
func (h *Handler) authenticateTool(tr *tokenRequest) *entraError {
	keys := h.keys.Load()
	if keys == nil {
		return nil
	}
	tr.keyed = true
	if tr.presented == "" {
		return &entraError{Status: http.StatusUnauthorized, OAuth: "invalid_client", Code: 7000218,
			Message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'. This proxy takes one of its client keys (XDRPROXY_CLIENT_KEYS_FILE) as client_secret."}
	}
	k, ok := keys.Match(tr.presented)
	if !ok {
		return &entraError{Status: http.StatusUnauthorized, OAuth: "invalid_client", Code: 7000215,
			Message: "Invalid client secret provided. This proxy takes one of its client keys (XDRPROXY_CLIENT_KEYS_FILE) as client_secret, not the application's secret."}
	}
	tr.key = k
	return nil
}

// toolTenant finds the tenant the path names. It must be served, be the
// listener's on a tenant listener, agree with any X-Tenant-ID header and
// be allowed for the key; one answer covers every refusal, so a key
// limited to some tenants learns nothing about the others.
func (h *Handler) toolTenant(r *http.Request, tr *tokenRequest) (config.Tenant, *entraError) {
	set := h.served.Load().tenants
	t, ok := set.Lookup(tr.name)
	if tr.pin != "" {
		pinned, pinOK := set.Lookup(tr.pin)
		ok = ok && pinOK && pinned.ID == t.ID
	}
	if values := r.Header.Values(TenantHeader); len(values) > 1 || len(values) == 1 && strings.TrimSpace(values[0]) != "" {
		named, namedOK := set.Lookup(strings.TrimSpace(values[0]))
		ok = ok && len(values) == 1 && namedOK && named.ID == t.ID
	}
	if !ok || tr.keyed && !tr.key.Allows(t) {
		return config.Tenant{}, unauthorizedClient("Tenant '%s' is not served by this proxy for this client: it must be in %s, on the client key's line in XDRPROXY_CLIENT_KEYS_FILE, on a tenant listener be the listener's tenant, and agree with any X-Tenant-ID header.", tr.name, h.served.Load().tenantsSource)
	}
	return t, nil
}

// toolToken gets the tenant's real token for scope and re-checks the key
// after the wait. A refusal is an *entraError; any other error means the
// tool went away.
func (h *Handler) toolToken(w http.ResponseWriter, r *http.Request, tr *tokenRequest, t config.Tenant, scope string) (tokencache.Token, error) {
	tok, err := h.opts.Tokens.Token(r.Context(), t.ID, scope)
	if h.tenantGone(t, err) {
		return tok, unauthorizedClient("Tenant '%s' is no longer served by this proxy.", tr.name)
	}
	if tr.keyed {
		again := func() (config.ClientKey, error) {
			k, ok := h.keys.Load().Match(tr.presented)
			if !ok {
				return k, &entraError{Status: http.StatusUnauthorized, OAuth: "invalid_client", Code: 7000215, Message: "The client key was revoked while the token was fetched."}
			}
			return k, nil
		}
		if err := recheckAfterWait(t, again); errors.Is(err, errKeyNarrowed) {
			return tok, unauthorizedClient("Tenant '%s' is not served by this proxy for this client.", tr.name)
		} else if err != nil {
			return tok, err
		}
	}
	if err == nil {
		return tok, nil
	}
	if r.Context().Err() != nil {
		return tok, fmt.Errorf("client went away while waiting for a token: %w", err)
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
	return tok, e
}

// answerToken mints the placeholder for tok and writes the token
// response in the endpoint's own shape.
func (h *Handler) answerToken(w http.ResponseWriter, tr *tokenRequest, t config.Tenant, tok tokencache.Token, resource string) *entraError {
	claims := tok.Claims
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
		ClientKey:    h.opts.Placeholders.Bind(tr.key.Hash),
		HasClientKey: tr.keyed,
	})
	if err != nil {
		w.Header().Set("Retry-After", "5")
		return &entraError{Status: http.StatusServiceUnavailable, OAuth: "temporarily_unavailable", Code: 90033,
			Message: "The proxy's token for this tenant is about to expire and is being renewed; retry in a few seconds."}
	}
	lifetime := int64(exp.Truncate(time.Second).Sub(now) / time.Second)
	if tr.v2 {
		writeTokenJSON(w, http.StatusOK, map[string]any{
			"token_type":     "Bearer",
			"expires_in":     lifetime,
			"ext_expires_in": lifetime,
			"access_token":   signed,
		})
		return nil
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
	return nil
}

// requestedResource reads the resource of a v1 request (resource=) or a
// v2 one (scope=, one resource's /.default), refusing as Entra ID does.
func requestedResource(form url.Values, v2 bool) (string, *entraError) {
	if !v2 {
		resource := strings.TrimSpace(form.Get("resource"))
		if resource == "" {
			return "", invalidRequest(900144, "The request body must contain the following parameter: 'resource'.")
		}
		return resource, nil
	}
	scope := form.Get("scope")
	var resources []string
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access":
			continue
		}
		r, ok := strings.CutSuffix(sc, "/.default")
		if !ok {
			return "", &entraError{Status: http.StatusBadRequest, OAuth: "invalid_scope", Code: 1002012,
				Message: fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", shownResource(sc))}
		}
		resources = append(resources, r)
	}
	switch len(resources) {
	case 0:
		return "", invalidRequest(900144, "The request body must contain the following parameter: 'scope'.")
	case 1:
		return resources[0], nil
	}
	return "", &entraError{Status: http.StatusBadRequest, OAuth: "invalid_scope", Code: 700022,
		Message: "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope " + shownResource(scope) + " is not valid."}
}
