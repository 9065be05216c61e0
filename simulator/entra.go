package simulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Resources lists the App ID URIs the simulated directory knows, with the
// audience their tokens carry. The Defender pages use all three Defender
// forms interchangeably.
var Resources = []string{
	"https://api.security.microsoft.com",
	"https://api.securitycenter.microsoft.com",
	"https://securitycenter.onmicrosoft.com/windowsatpservice",
	"https://graph.microsoft.com",
	"https://api-gcc.security.microsoft.us",
	"https://api-gov.security.microsoft.us",
}

// Claims are the claims of an access token the simulator issues: those of
// an Entra ID v1.0 app-only token.
type Claims struct {
	jwt.RegisteredClaims
	// TenantID is the tid claim: the tenant the token is for.
	TenantID string `json:"tid"`
	// AppID is the appid claim: the client the token was issued to.
	AppID string `json:"appid"`
	// AppIDACR is "1" for a client secret, "2" for a client assertion
	// (a certificate or a federated credential).
	AppIDACR string `json:"appidacr"`
	// IDP is the identity provider, as Entra ID sets it for app tokens.
	IDP string `json:"idp"`
	// OID is the object ID of the application's service principal.
	OID string `json:"oid"`
	// Roles are the consented application permissions.
	Roles []string `json:"roles,omitempty"`
	// Version is the ver claim.
	Version string `json:"ver"`
}

// entraError is Entra ID's OAuth error body.
type entraError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	ErrorCodes    []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri"`
}

func (s *Server) routeEntra(mux *http.ServeMux) {
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.openIDConfiguration)
	mux.HandleFunc("GET /{tenant}/.well-known/openid-configuration", s.openIDConfiguration)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.keys)
	mux.HandleFunc("GET /{tenant}/discovery/keys", s.keys)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	mux.HandleFunc("POST /{tenant}/oauth2/token", s.token)
	mux.HandleFunc("GET /{tenant}/oauth2/authorize", s.adminConsent)
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", s.adminConsentV2)
}

// baseURL is the simulator's own origin as the client reached it.
func baseURL(r *http.Request) string {
	return "https://" + r.Host
}

func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("tenant")
	if _, ok := s.tenant(tenantID); !ok {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_tenant", 90002,
			faultMessage(90002, tenantID, "", ""))
		return
	}
	base := baseURL(r)
	v2 := strings.Contains(r.URL.Path, "/v2.0/")
	doc := map[string]any{
		"token_endpoint":                        base + "/" + tenantID + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/" + tenantID + "/oauth2/v2.0/authorize",
		"issuer":                                base + "/" + tenantID + "/v2.0",
		"jwks_uri":                              base + "/" + tenantID + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"subject_types_supported":               []string{"pairwise"},
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
	}
	if !v2 {
		doc["token_endpoint"] = base + "/" + tenantID + "/oauth2/token"
		doc["authorization_endpoint"] = base + "/" + tenantID + "/oauth2/authorize"
		doc["issuer"] = "https://sts.windows.net/" + tenantID + "/"
		doc["jwks_uri"] = base + "/" + tenantID + "/discovery/keys"
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"keys": []jwk{s.pki.jwk()}})
}

// token is the client-credentials grant of the v2.0 endpoint (scope=) and of
// the v1 endpoint (resource=). It checks what Entra ID checks, in about the
// same order, and answers with the same AADSTS codes.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	tenantID := strings.ToLower(r.PathValue("tenant"))
	s.mu.Lock()
	s.tokenRequests[tenantID]++
	s.mu.Unlock()
	if s.BeforeToken != nil && s.BeforeToken(w, r, tenantID) {
		return
	}
	if s.injectTokenFault(w, r, tenantID) {
		return
	}
	v1 := !strings.Contains(r.URL.Path, "/v2.0/")
	if err := r.ParseForm(); err != nil {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	tenant, ok := s.tenant(tenantID)
	if !ok {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 90002,
			faultMessage(90002, tenantID, "", ""))
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		s.writeEntraError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt))
		return
	}
	// client_secret_basic, as the discovery document advertises: the
	// client ID and secret may come in HTTP Basic instead of the form.
	basicID, basicSecret, _ := r.BasicAuth()
	clientID := r.PostForm.Get("client_id")
	if clientID == "" {
		clientID = basicID
	}
	if clientID == "" {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	if !strings.EqualFold(clientID, s.clientID()) || !tenant.Consented {
		s.writeEntraError(w, r, http.StatusBadRequest, "unauthorized_client", 700016,
			faultMessage(700016, tenantID, tenant.Name, clientID))
		return
	}
	secret, assertion := r.PostForm.Get("client_secret"), r.PostForm.Get("client_assertion")
	if secret == "" {
		secret = basicSecret
	}
	appIDACR := "1"
	switch {
	case secret == "" && assertion == "":
		s.writeEntraError(w, r, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	case assertion != "":
		if refusal := s.checkClientAssertion(r, clientID, assertion); refusal != nil {
			s.writeEntraError(w, r, refusal.status, refusal.code, refusal.aadsts, refusal.message)
			return
		}
		appIDACR = "2"
	case secret != s.clientSecret():
		s.writeEntraError(w, r, http.StatusUnauthorized, "invalid_client", 7000215,
			faultMessage(7000215, tenantID, tenant.Name, clientID))
		return
	}

	var resource string
	if v1 {
		resource = strings.TrimRight(r.PostForm.Get("resource"), "/")
		if resource == "" {
			s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'resource'.")
			return
		}
	} else {
		var ok bool
		resource, ok = s.resourceOfScope(w, r, r.PostForm.Get("scope"))
		if !ok {
			return
		}
	}
	if !knownResource(resource) {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_resource", 500011,
			fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenant.Name))
		return
	}

	roles := tenant.Roles
	if strings.EqualFold(resource, graphResource) {
		roles = tenant.GraphRoles
	}
	now := s.now()
	lifetime := s.tokenLifetime()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    "https://sts.windows.net/" + tenant.ID + "/",
			Subject:   servicePrincipalID(tenant.ID),
			Audience:  jwt.ClaimStrings{resource},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(lifetime)),
			ID:        randomID(),
		},
		TenantID: tenant.ID,
		AppID:    s.clientID(),
		AppIDACR: appIDACR,
		IDP:      "https://sts.windows.net/" + tenant.ID + "/",
		OID:      servicePrincipalID(tenant.ID),
		Roles:    roles,
		Version:  "1.0",
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = s.pki.keyID
	tok.Header["x5t"] = s.pki.keyID
	signed, err := tok.SignedString(s.pki.signingKey)
	if err != nil {
		s.writeEntraError(w, r, http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
		return
	}
	secs := int(lifetime / time.Second)
	if v1 {
		writeJSON(w, http.StatusOK, map[string]string{
			"token_type":     "Bearer",
			"expires_in":     strconv.Itoa(secs),
			"ext_expires_in": strconv.Itoa(secs),
			"expires_on":     strconv.FormatInt(now.Add(lifetime).Unix(), 10),
			"not_before":     strconv.FormatInt(now.Unix(), 10),
			"resource":       resource,
			"access_token":   signed,
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   signed,
	})
}

// resourceOfScope checks a client-credentials scope (one resource's
// "/.default"; OpenID scopes MSAL may add are ignored) and returns the
// resource.
func (s *Server) resourceOfScope(w http.ResponseWriter, r *http.Request, scope string) (string, bool) {
	var resources []string
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access":
			continue
		}
		if !strings.HasSuffix(sc, "/.default") {
			s.writeEntraError(w, r, http.StatusBadRequest, "invalid_scope", 1002012,
				fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc))
			return "", false
		}
		resources = append(resources, strings.TrimSuffix(sc, "/.default"))
	}
	switch len(resources) {
	case 0:
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		return "", false
	case 1:
		return resources[0], true
	}
	s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 700022,
		"The provided value for the input parameter scope is not valid because it contains more than one resource. Scope "+scope+" is not valid.")
	return "", false
}

func knownResource(resource string) bool {
	for _, r := range Resources {
		if strings.EqualFold(r, resource) {
			return true
		}
	}
	return false
}

// ParseToken verifies an access token issued by this simulator (signature,
// expiry by the simulator's clock) and returns its claims.
func (s *Server) ParseToken(token string) (*Claims, error) {
	if err := s.init(); err != nil {
		return nil, err
	}
	claims := &Claims{}
	_, err := jwt.ParseWithClaims(token, claims,
		func(*jwt.Token) (any, error) { return &s.pki.signingKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithTimeFunc(s.now),
		jwt.WithExpirationRequired(),
	)
	if err != nil {
		return nil, err
	}
	return claims, nil
}

func (s *Server) writeEntraError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, message string) {
	now := s.now().UTC()
	trace, corr := uuid.NewString(), uuid.NewString()
	ts := now.Format("2006-01-02 15:04:05Z")
	writeJSON(w, status, entraError{
		Error:         code,
		Description:   fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", aadsts, message, trace, corr, ts),
		ErrorCodes:    []int{aadsts},
		Timestamp:     ts,
		TraceID:       trace,
		CorrelationID: corr,
		ErrorURI:      "https://login.microsoftonline.com/error?code=" + strconv.Itoa(aadsts),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// servicePrincipalID derives a stable object ID for the application's
// service principal in a tenant.
func servicePrincipalID(tenantID string) string {
	sum := sha256.Sum256([]byte("sp:" + tenantID))
	b := sum[:16]
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b[:])
}
