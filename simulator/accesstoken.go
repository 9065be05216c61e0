package simulator

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

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

// mintAccessToken signs an app-only access token for resource in tenant,
// valid for lifetime from now, with the roles the tenant consented to on
// that resource (its GraphRoles for Microsoft Graph, its Roles for the
// rest). appIDACR says how the client authenticated.
func (s *Server) mintAccessToken(tenant Tenant, resource, appIDACR string, now time.Time, lifetime time.Duration) (string, error) {
	roles := tenant.Roles
	if strings.EqualFold(resource, graphResource) {
		roles = tenant.GraphRoles
	}
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
	return tok.SignedString(s.pki.signingKey)
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
