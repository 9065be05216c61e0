package tokencache

import (
	"context"
	"time"
)

// Token is an access token, its expiry and its claims.
type Token struct {
	// Value is the raw bearer token. It must never be logged.
	Value string
	// Claims are the token's claims, decoded once where the token entered
	// the process (NewToken); zero when Value is not a JWT.
	Claims Claims
	// ExpiresOn is when the token expires.
	ExpiresOn time.Time
	// RefreshOn is Entra ID's refresh hint; zero when it gave none.
	RefreshOn time.Time
	// Cached is true when Cache.Token answered without waiting for an
	// acquisition.
	Cached bool
}

// NewToken returns the Token for the raw access token value, its claims
// decoded: how a Source hands a token from Entra ID to the Cache, so that
// no one decodes it again. refreshOn is Entra ID's refresh hint, or zero.
func NewToken(value string, expiresOn, refreshOn time.Time) Token {
	claims, err := DecodeClaims(value)
	claims.ReadErr = err
	return Token{Value: value, Claims: claims, ExpiresOn: expiresOn, RefreshOn: refreshOn}
}

// String hides the token's value, so that printing a Token by mistake does
// not leak it.
func (t Token) String() string {
	return "Token{expires " + t.ExpiresOn.UTC().Format(time.RFC3339) + "}"
}

// GoString hides the token's value from %#v.
func (t Token) GoString() string { return t.String() }

// Source acquires a fresh access token for a tenant and scope. It is asked
// only when the cache needs a token; it must not cache on its own.
type Source interface {
	Token(ctx context.Context, tenantID, scope string) (Token, error)
}

// Key names one cached token.
type Key struct {
	// TenantID is the tenant's GUID in lower case.
	TenantID string
	// Scope is the OAuth scope, such as https://api.security.microsoft.com/.default.
	Scope string
}
