package simulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

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

func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("tenant")
	if _, ok := s.tenant(tenantID); !ok {
		// As Entra ID does, a verified domain names its tenant too: the
		// document then gives the tenant's GUID, which is how an operator
		// finds it.
		t, ok := s.tenantByDomain(tenantID)
		if !ok {
			s.writeEntraError(w, &entraRefusal{http.StatusBadRequest, "invalid_tenant", 90002, faultMessage(90002, tenantID, "", "")})
			return
		}
		tenantID = t.ID
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

// entraRefusal is a request refused with one of Entra ID's errors: the
// HTTP status, the OAuth error code, the AADSTS code and its message.
type entraRefusal struct {
	status  int
	code    string
	aadsts  int
	message string
}

// invalidClient is the 401 for a client that failed to authenticate.
func invalidClient(aadsts int, format string, args ...any) *entraRefusal {
	return &entraRefusal{status: http.StatusUnauthorized, code: "invalid_client", aadsts: aadsts, message: fmt.Sprintf(format, args...)}
}

// missingParameter is the 400 for a request without a parameter it needs.
func missingParameter(name string) *entraRefusal {
	return &entraRefusal{http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: '" + name + "'."}
}

// writeEntraError writes Entra ID's error body for the refusal, with a new
// trace and correlation ID.
func (s *Server) writeEntraError(w http.ResponseWriter, f *entraRefusal) {
	now := s.now().UTC()
	trace, corr := uuid.NewString(), uuid.NewString()
	ts := now.Format("2006-01-02 15:04:05Z")
	writeJSON(w, f.status, entraError{
		Error:         f.code,
		Description:   fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", f.aadsts, f.message, trace, corr, ts),
		ErrorCodes:    []int{f.aadsts},
		Timestamp:     ts,
		TraceID:       trace,
		CorrelationID: corr,
		ErrorURI:      "https://login.microsoftonline.com/error?code=" + strconv.Itoa(f.aadsts),
	})
}
