package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
)

// caller is who sent a request.
type caller struct {
	key   config.ClientKey // the client key, when keyed
	keyed bool             // false when no keys are configured
	// placeholder is the verified placeholder the request bears, or nil.
	placeholder *placeholder.Claims
}

// authenticate checks the request's bearer token. With token emulation,
// a token carrying the placeholder issuer must verify and stands for the
// client key it was obtained with. Otherwise, when keys are configured,
// it must be a client key (Authorization: Bearer <key>).
func (h *Handler) authenticate(r *http.Request) (caller, error) {
	keys := h.keys.Load()
	scheme, presented, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	presented = strings.TrimSpace(presented)
	bearer := strings.EqualFold(scheme, "Bearer") && presented != ""
	if h.opts.Placeholders != nil && bearer && strings.Count(presented, ".") == 2 {
		who, err := h.authenticatePlaceholder(presented, keys)
		if !errors.Is(err, placeholder.ErrNotPlaceholder) {
			return who, err
		}
	}
	if keys == nil {
		return caller{}, nil
	}
	if !bearer {
		return caller{keyed: true}, unauthenticated("this proxy requires a client key: send Authorization: Bearer <key>", nil)
	}
	k, ok := keys.Match(presented)
	if !ok {
		return caller{keyed: true}, invalidToken("the client key is not valid", nil)
	}
	return caller{key: k, keyed: true}, nil
}

// authenticatePlaceholder verifies a bearer token that may be a
// placeholder. It returns placeholder.ErrNotPlaceholder for a token that
// does not carry the placeholder issuer, which is then taken as a key.
func (h *Handler) authenticatePlaceholder(presented string, keys *clientKeys) (caller, error) {
	c, err := h.opts.Placeholders.Verify(presented)
	switch {
	case errors.Is(err, placeholder.ErrNotPlaceholder):
		return caller{}, err
	case err != nil:
		return caller{keyed: keys != nil}, invalidToken("the placeholder token is not valid here (expired, or not signed by this proxy's key): ask the proxy's token endpoint for a new one", err)
	}
	who := caller{placeholder: &c}
	if keys == nil {
		return who, nil
	}
	if !c.HasClientKey {
		return caller{keyed: true}, invalidToken("the placeholder token was issued without a client key, and this proxy requires one: ask its token endpoint for a new token", nil)
	}
	k, ok := keys.byBinding[c.ClientKey]
	if !ok {
		return caller{keyed: true}, invalidToken("the client key this placeholder token was obtained with is no longer valid", nil)
	}
	who.key, who.keyed = k, true
	return who, nil
}

func unauthenticated(msg string, cause error) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: msg, Err: cause}
}

// errInvalidToken marks a 401 for a bearer token that was presented and
// refused, as opposed to none presented.
var errInvalidToken = errors.New("invalid_token")

// invalidToken is the 401 for a presented bearer token (a client key or
// a placeholder) that is refused.
func invalidToken(msg string, cause error) *Error {
	if cause == nil {
		cause = errInvalidToken
	} else {
		cause = fmt.Errorf("%w: %w", errInvalidToken, cause)
	}
	return unauthenticated(msg, cause)
}

// bearerChallenge is the WWW-Authenticate header of a 401 (RFC 6750 §3):
// error="invalid_token" when a token was presented and refused, which
// tells an SDK to get a new one rather than retry the same; no error
// code when none was presented.
func bearerChallenge(err error) string {
	var e *Error
	if !errors.Is(err, errInvalidToken) || !errors.As(err, &e) {
		return `Bearer realm="xdrproxy"`
	}
	desc := strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return -1 // quoted-string safe (RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E)
		}
		return r
	}, e.Message)
	return `Bearer realm="xdrproxy", error="invalid_token", error_description="` + desc + `"`
}

// keyMayNotUseTenant is the one answer a key limited to some tenants gets
// for any other.
func keyMayNotUseTenant() *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeTenantNotAllowed,
		Message: "this client key may not use the tenant the request names; ask for it to be added to the key's line in XDRPROXY_CLIENT_KEYS_FILE"}
}

// limitedKeyMaySee reports whether a key limited to some tenants may be
// told the outcome of resolving its request: every tenant the request
// named is one the key may use. Otherwise it gets one 403 for all cases.
func limitedKeyMaySee(key config.ClientKey, t target, perr *Error) bool {
	switch {
	case perr == nil:
		return key.Allows(t.tenant) // every tenant named is this one
	case perr.Code == CodeMissingTenant || perr.Code == CodeInvalidPath:
		return true // nothing about any tenant
	case perr.Code != CodeInvalidTenant || len(t.named) < 2:
		return false // a tenant not known or not served
	}
	for _, n := range t.named { // a conflict between tenants
		if !key.Allows(n) {
			return false
		}
	}
	return true
}

// errKeyNarrowed is what recheckAfterWait finds when the key is still
// valid but no longer allows the tenant.
var errKeyNarrowed = errors.New("the client key no longer allows the tenant")

// recheckAfterWait checks again, after a request waited for its limit or
// its token, that its client key is still valid and still allows t: a
// reload may have removed the key or narrowed its tenants meanwhile.
// again is the caller's own check against the keys now in force (the
// bearer token on the data plane, the presented secret at the token
// endpoint): it returns the key, or the caller's own refusal, which
// recheckAfterWait returns unchanged.
func recheckAfterWait(t config.Tenant, again func() (config.ClientKey, error)) error {
	k, err := again()
	if err != nil {
		return err
	}
	if !k.Allows(t) {
		return errKeyNarrowed
	}
	return nil
}
