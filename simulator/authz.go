package simulator

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Why a bearer token is refused. Each API words these its own way (see
// apiDialect.tokenRefused); a token that fails ParseToken is refused with
// ParseToken's error instead.
var (
	errNoAuthorization = errors.New("no Authorization header")
	errNotBearer       = errors.New("authorization scheme is not Bearer")
	errEmptyBearer     = errors.New("bearer token is empty")
	errWrongAudience   = errors.New("token is for another audience")
	errUnknownTenant   = errors.New("token's tenant is unknown")
)

// apiHandler serves an API request whose token authorize accepted.
type apiHandler func(w http.ResponseWriter, r *http.Request, c *Claims)

// apiDialect is what differs between the simulated APIs (Defender's and
// Graph's) in refusing a request: the audiences they accept, how they word
// a refusal, and the headers and error body they answer with.
type apiDialect struct {
	// acceptsAudience reports whether a token for aud is meant for the API.
	acceptsAudience func(aud string) bool
	// unauthorizedCode is the error code of a 401.
	unauthorizedCode string
	// tokenRefused is the message of a 401: err is one of the errors above
	// or ParseToken's; claims is nil unless the token verified.
	tokenRefused func(err error, claims *Claims) string
	// forbiddenCode is the error code of a 403 for a token that holds none
	// of the required roles. Empty means "Forbidden".
	forbiddenCode string
	// rolesMissing is the message of that 403.
	rolesMissing func(required, held []string) string
	// stampHeaders sets the headers every answer carries, such as request-id.
	stampHeaders func(w http.ResponseWriter, r *http.Request)
	// writeError writes the API's error body.
	writeError func(s *Server, w http.ResponseWriter, status int, code, message string)
}

// apiRefusal is an API request refused before its handler runs: the status
// and the API's error code and message.
type apiRefusal struct {
	status  int
	code    string
	message string
}

// guard wraps an API handler in what the real API does first: noting a
// credential the simulator did not issue, the BeforeAPI hook, recording
// the request for tests, the API's response headers, and authorize. A
// refusal is written in the API's error shape.
func (s *Server) guard(api *apiDialect, roles []string, next apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.noteForeignCredential(r)
		if s.BeforeAPI != nil && s.BeforeAPI(w, r) {
			return
		}
		rec := captureAPIRequest(r)
		claims, refused := s.authorize(r, api, roles)
		if claims != nil {
			rec.TenantID = claims.TenantID
		}
		s.recordAPIRequest(rec)
		api.stampHeaders(w, r)
		if refused != nil {
			api.writeError(s, w, refused.status, refused.code, refused.message)
			return
		}
		next(w, r, claims)
	})
}

// authorize checks r's bearer token as api does and requires one of roles.
// It returns the token's claims, or the refusal to answer with; the claims
// come with a refusal too when the token verified but was refused (another
// audience, an unknown tenant, missing roles).
func (s *Server) authorize(r *http.Request, api *apiDialect, roles []string) (*Claims, *apiRefusal) {
	claims, err := s.verifyBearer(r, api.acceptsAudience)
	if err != nil {
		return claims, &apiRefusal{http.StatusUnauthorized, api.unauthorizedCode, api.tokenRefused(err, claims)}
	}
	if !holdsAnyRole(claims, roles) {
		code := api.forbiddenCode
		if code == "" {
			code = "Forbidden"
		}
		return claims, &apiRefusal{http.StatusForbidden, code, api.rolesMissing(roles, claims.Roles)}
	}
	return claims, nil
}

// verifyBearer returns the claims of r's bearer token if the simulator
// issued it (signature, expiry), for an audience acceptsAudience accepts,
// in a tenant that exists. Otherwise it says why not, with the claims when
// the token itself verified.
func (s *Server) verifyBearer(r *http.Request, acceptsAudience func(string) bool) (*Claims, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return nil, errNoAuthorization
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errNotBearer
	}
	if token == "" {
		return nil, errEmptyBearer
	}
	claims, err := s.ParseToken(token)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc([]string(claims.Audience), acceptsAudience) {
		return claims, errWrongAudience
	}
	if _, ok := s.tenant(claims.TenantID); !ok {
		return claims, errUnknownTenant
	}
	return claims, nil
}

// holdsAnyRole reports whether the token holds at least one of roles.
func holdsAnyRole(c *Claims, roles []string) bool {
	return slices.ContainsFunc(roles, func(role string) bool { return slices.Contains(c.Roles, role) })
}

// captureAPIRequest copies what tests may want to see of an API request,
// leaving its body readable.
func captureAPIRequest(r *http.Request) APIRequest {
	rec := APIRequest{
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Host:     r.Host,
		Header:   r.Header.Clone(),
	}
	if r.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		rec.Body = body
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	}
	return rec
}
