package simulator

import (
	"fmt"
	"net/http"
	"strings"
)

// tokenFault is a scripted refusal of a tenant's token requests.
type tokenFault struct {
	status     int
	oauthError string
	aadsts     int
	remaining  int // < 0: until cleared
}

// FailTokens makes the next n token requests for the tenant (on the v2.0
// and the v1 endpoint) fail with Entra ID's error body: the HTTP status,
// the OAuth error (such as "temporarily_unavailable" or "invalid_client")
// and the AADSTS code, with a 429 also carrying "Retry-After: 1". A
// negative n fails every request until FailTokens is called again with n
// == 0, which clears the fault. A later call replaces an earlier one.
// Failed requests still count in TokenRequests. BeforeToken, when set,
// runs first; a request it answers does not use up the fault. FailTokens
// is safe to call while the simulator serves requests.
func (s *Server) FailTokens(tenantID string, status int, oauthError string, aadsts int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tenantID = strings.ToLower(tenantID)
	if n == 0 {
		delete(s.tokenFaults, tenantID)
		return
	}
	if s.tokenFaults == nil {
		s.tokenFaults = map[string]*tokenFault{}
	}
	s.tokenFaults[tenantID] = &tokenFault{status: status, oauthError: oauthError, aadsts: aadsts, remaining: n}
}

// injectTokenFault answers the request with the tenant's scripted fault,
// if one is pending, and reports whether it did.
func (s *Server) injectTokenFault(w http.ResponseWriter, tenantID string) bool {
	s.mu.Lock()
	f, ok := s.tokenFaults[tenantID]
	var fault tokenFault
	if ok {
		fault = *f
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				delete(s.tokenFaults, tenantID)
			}
		}
	}
	s.mu.Unlock()
	if !ok {
		return false
	}
	if fault.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	name := tenantID
	if t, ok := s.tenant(tenantID); ok {
		name = t.Name
	}
	s.writeEntraError(w, &entraRefusal{fault.status, fault.oauthError, fault.aadsts, faultMessage(fault.aadsts, tenantID, name, s.clientID())})
	return true
}

// faultMessage is Entra ID's wording for the codes the simulator answers
// and tests usually script, and a plain note for the rest.
func faultMessage(aadsts int, tenantID, tenantName, clientID string) string {
	switch aadsts {
	case 700016:
		return fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenantName)
	case 7000215:
		return fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID)
	case 7000222:
		return fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", clientID)
	case 90002:
		return fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenantID)
	case 65001:
		return fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource.", clientID)
	case 700027:
		return "Client assertion failed signature validation."
	case 700024:
		return "Client assertion is not within its valid time range."
	}
	return fmt.Sprintf("xdrsim scripted failure %d for tenant %s.", aadsts, tenantID)
}
