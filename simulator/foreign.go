package simulator

import (
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// What a foreign credential was, as ForeignCredential.Kind says it. None
// of them holds any part of the credential.
const (
	// ForeignMissing: the request had no Authorization header.
	ForeignMissing = "missing"
	// ForeignSeveral: the request had more than one Authorization header.
	ForeignSeveral = "several Authorization headers"
	// ForeignNotBearer: the Authorization scheme was not Bearer (Basic, a
	// bare key, anything else).
	ForeignNotBearer = "not a bearer token"
	// ForeignEmptyBearer: "Bearer" with nothing after it.
	ForeignEmptyBearer = "empty bearer token"
	// ForeignNotIssued: a bearer value the simulator's signing key did not
	// sign: a client key, an xdrproxy placeholder, another issuer's token,
	// garbage.
	ForeignNotIssued = "not a token issued by this simulator"
)

// ForeignCredential describes an API request that reached the simulator
// without a bearer token the simulator issued: the credential a client
// sent the proxy got through to the upstream, or none at all did. It
// never holds the credential itself.
type ForeignCredential struct {
	// Method and Path are the request's.
	Method, Path string
	// Kind says what the Authorization was: one of the Foreign constants.
	Kind string
}

// ForeignCredentials returns how many API requests (Defender and Graph,
// not Entra ID's endpoints) arrived with an Authorization that is not a
// bearer token this simulator issued. A proxy that never lets a client's
// credential through keeps it at zero. A token the simulator issued counts
// as its own even when it is expired or for another API: the upstream
// refuses it, but it is no client's credential.
func (s *Server) ForeignCredentials() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.foreignTotal
}

// ForeignCredentialRequests describes the requests ForeignCredentials
// counts, oldest first (at most the last 1,000).
func (s *Server) ForeignCredentialRequests() []ForeignCredential {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ForeignCredential(nil), s.foreign...)
}

// noteForeignCredential records r if its Authorization is foreign.
func (s *Server) noteForeignCredential(r *http.Request) {
	kind := s.foreignKind(r.Header)
	if kind == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.foreignTotal++
	if len(s.foreign) >= 1000 {
		s.foreign = s.foreign[1:]
	}
	s.foreign = append(s.foreign, ForeignCredential{Method: r.Method, Path: r.URL.Path, Kind: kind})
}

// foreignKind says what is foreign about h's Authorization, or "" when it
// is exactly one bearer token signed with the simulator's key.
func (s *Server) foreignKind(h http.Header) string {
	values := h.Values("Authorization")
	switch {
	case len(values) == 0:
		return ForeignMissing
	case len(values) > 1:
		return ForeignSeveral
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	switch {
	case !ok && strings.EqualFold(scheme, "Bearer"): // the server trims "Bearer "
		return ForeignEmptyBearer
	case !ok || !strings.EqualFold(scheme, "Bearer"):
		return ForeignNotBearer
	case strings.TrimSpace(token) == "":
		return ForeignEmptyBearer
	case !s.signedBySimulator(token):
		return ForeignNotIssued
	}
	return ""
}

// signedBySimulator reports whether token is a JWT signed with the
// simulator's key, whatever its claims say.
func (s *Server) signedBySimulator(token string) bool {
	if s.init() != nil {
		return false
	}
	_, err := jwt.Parse(token,
		func(*jwt.Token) (any, error) { return &s.pki.signingKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithoutClaimsValidation(),
	)
	return err == nil
}

// isAPIPath reports whether path is in the APIs' space rather than Entra
// ID's: what a client following a link may reach even where the simulator
// models no endpoint.
func isAPIPath(path string) bool {
	for _, prefix := range []string{"/api/", "/v1.0/", "/beta/", "/bench/"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}
