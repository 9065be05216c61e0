package simulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
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

// tokenRequest is a client-credentials request as the token endpoint's
// steps learn it.
type tokenRequest struct {
	// v1 is true on the v1 endpoint, which takes resource= instead of
	// scope= and answers in v1's shape.
	v1 bool
	// tenantID is the tenant in the path, in lower case.
	tenantID string
	// tenant is that tenant, once found.
	tenant Tenant
	// clientID is the client_id, from the form or HTTP Basic.
	clientID string
	// appIDACR is how the client authenticated: "1" with a secret, "2"
	// with an assertion.
	appIDACR string
	// resource is the App ID URI the token is for.
	resource string
}

// tokenStep checks one thing about a token request, filling in what it
// learns, and returns Entra ID's refusal if the check fails.
type tokenStep func(r *http.Request, req *tokenRequest) *entraRefusal

// token is the client-credentials grant of the v2.0 endpoint (scope=) and of
// the v1 endpoint (resource=). It checks what Entra ID checks, in about the
// same order, and answers with the same AADSTS codes.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	tenantID := strings.ToLower(r.PathValue("tenant"))
	s.countTokenRequest(tenantID)
	if s.BeforeToken != nil && s.BeforeToken(w, r, tenantID) {
		return
	}
	if s.injectTokenFault(w, tenantID) {
		return
	}
	req := &tokenRequest{v1: !strings.Contains(r.URL.Path, "/v2.0/"), tenantID: tenantID}
	for _, step := range []tokenStep{
		parseTokenForm,       // a form Go can parse
		s.findTenant,         // the tenant in the path exists
		checkGrantType,       // client_credentials, the only grant simulated
		s.checkConsent,       // a client ID, registered and consented in the tenant
		s.authenticateClient, // a client secret, or a certificate or federated assertion
		resolveResource,      // one known resource, from resource= (v1) or scope= (v2.0)
	} {
		if refused := step(r, req); refused != nil {
			s.writeEntraError(w, refused)
			return
		}
	}
	s.issueToken(w, req)
}

func (s *Server) countTokenRequest(tenantID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenRequests[tenantID]++
}

// parseTokenForm parses the request body. Entra ID answers a body it
// cannot read as one that lacks grant_type.
func parseTokenForm(r *http.Request, _ *tokenRequest) *entraRefusal {
	if err := r.ParseForm(); err != nil {
		return missingParameter("grant_type")
	}
	return nil
}

func (s *Server) findTenant(_ *http.Request, req *tokenRequest) *entraRefusal {
	tenant, ok := s.tenant(req.tenantID)
	if !ok {
		return &entraRefusal{http.StatusBadRequest, "invalid_request", 90002, faultMessage(90002, req.tenantID, "", "")}
	}
	req.tenant = tenant
	return nil
}

func checkGrantType(r *http.Request, _ *tokenRequest) *entraRefusal {
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		return &entraRefusal{http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt)}
	}
	return nil
}

// checkConsent requires a client ID, in the form or (client_secret_basic,
// as the discovery document advertises) in HTTP Basic, naming the
// application, which the tenant's admin must have consented to.
func (s *Server) checkConsent(r *http.Request, req *tokenRequest) *entraRefusal {
	req.clientID = r.PostForm.Get("client_id")
	if req.clientID == "" {
		req.clientID, _, _ = r.BasicAuth()
	}
	if req.clientID == "" {
		return missingParameter("client_id")
	}
	if !strings.EqualFold(req.clientID, s.clientID()) || !req.tenant.Consented {
		return &entraRefusal{http.StatusBadRequest, "unauthorized_client", 700016,
			faultMessage(700016, req.tenantID, req.tenant.Name, req.clientID)}
	}
	return nil
}

// authenticateClient checks the client's credential: a client_assertion
// (see checkClientAssertion) if there is one, else the client secret from
// the form or HTTP Basic.
func (s *Server) authenticateClient(r *http.Request, req *tokenRequest) *entraRefusal {
	secret, assertion := r.PostForm.Get("client_secret"), r.PostForm.Get("client_assertion")
	if secret == "" {
		_, secret, _ = r.BasicAuth()
	}
	switch {
	case secret == "" && assertion == "":
		return invalidClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	case assertion != "":
		if refused := s.checkClientAssertion(r, req.clientID, assertion); refused != nil {
			return refused
		}
		req.appIDACR = "2"
	case secret != s.clientSecret():
		return &entraRefusal{http.StatusUnauthorized, "invalid_client", 7000215,
			faultMessage(7000215, req.tenantID, req.tenant.Name, req.clientID)}
	default:
		req.appIDACR = "1"
	}
	return nil
}

// resolveResource finds the resource the token is for: the v1 endpoint's
// resource parameter, or the v2.0 endpoint's scope. It must be one the
// directory knows.
func resolveResource(r *http.Request, req *tokenRequest) *entraRefusal {
	if req.v1 {
		req.resource = strings.TrimRight(r.PostForm.Get("resource"), "/")
		if req.resource == "" {
			return missingParameter("resource")
		}
	} else {
		var refused *entraRefusal
		if req.resource, refused = resourceOfScope(r.PostForm.Get("scope")); refused != nil {
			return refused
		}
	}
	if !knownResource(req.resource) {
		return &entraRefusal{http.StatusBadRequest, "invalid_resource", 500011,
			fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", req.resource, req.tenant.Name)}
	}
	return nil
}

// resourceOfScope checks a client-credentials scope (one resource's
// "/.default"; OpenID scopes MSAL may add are ignored) and returns the
// resource.
func resourceOfScope(scope string) (string, *entraRefusal) {
	var resources []string
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access":
			continue
		}
		if !strings.HasSuffix(sc, "/.default") {
			return "", &entraRefusal{http.StatusBadRequest, "invalid_scope", 1002012,
				fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc)}
		}
		resources = append(resources, strings.TrimSuffix(sc, "/.default"))
	}
	switch len(resources) {
	case 0:
		return "", missingParameter("scope")
	case 1:
		return resources[0], nil
	}
	return "", &entraRefusal{http.StatusBadRequest, "invalid_request", 700022,
		"The provided value for the input parameter scope is not valid because it contains more than one resource. Scope " + scope + " is not valid."}
}

func knownResource(resource string) bool {
	for _, r := range Resources {
		if strings.EqualFold(r, resource) {
			return true
		}
	}
	return false
}

// issueToken mints the access token the request earned and answers in the
// v1 or the v2.0 endpoint's shape.
func (s *Server) issueToken(w http.ResponseWriter, req *tokenRequest) {
	now, lifetime := s.now(), s.tokenLifetime()
	signed, err := s.mintAccessToken(req.tenant, req.resource, req.appIDACR, now, lifetime)
	if err != nil {
		s.writeEntraError(w, &entraRefusal{http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token."})
		return
	}
	secs := int(lifetime / time.Second)
	if req.v1 {
		writeJSON(w, http.StatusOK, map[string]string{
			"token_type":     "Bearer",
			"expires_in":     strconv.Itoa(secs),
			"ext_expires_in": strconv.Itoa(secs),
			"expires_on":     strconv.FormatInt(now.Add(lifetime).Unix(), 10),
			"not_before":     strconv.FormatInt(now.Unix(), 10),
			"resource":       req.resource,
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
