package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// token gets the tenant's token for scope. A keyed caller that waited
// (for its limit, or for Entra ID) is checked again: its key may have
// been revoked, or its tenants narrowed, meanwhile.
func (h *Handler) token(ex *exchange, r *http.Request, who caller, t config.Tenant, scope string) (tokencache.Token, error) {
	start := time.Now()
	tok, err := h.opts.Tokens.Token(r.Context(), t.ID, scope)
	ex.tokenWait = time.Since(start)
	ex.cached = tok.Cached
	if h.tenantGone(t, err) {
		return tok, &Error{Status: http.StatusForbidden, Code: CodeTenantNotAllowed,
			Message: fmt.Sprintf("tenant %s is no longer served by this proxy", t.Name())}
	}
	if who.keyed && (ex.queueWait > 0 || ex.tokenWait > time.Millisecond) {
		again := func() (config.ClientKey, error) {
			who, err := h.authenticate(r)
			return who.key, err
		}
		if err := recheckAfterWait(t, again); errors.Is(err, errKeyNarrowed) {
			return tok, keyMayNotUseTenant()
		} else if err != nil {
			return tok, err
		}
	}
	if err != nil {
		if r.Context().Err() != nil {
			return tok, fmt.Errorf("client went away while waiting for a token: %w", err)
		}
		return tok, h.tokenError(t, scope, err)
	}
	return tok, nil
}

// tenantGone reports whether t was removed from service while a request
// waited for its token (err is the token's outcome).
func (h *Handler) tenantGone(t config.Tenant, err error) bool {
	if errors.Is(err, tokencache.ErrTenantNotServed) {
		return true
	}
	_, still := h.served.Load().tenants.Lookup(t.ID)
	return err == nil && !still
}

// tokenError turns a failed acquisition into the client's 502.
func (h *Handler) tokenError(t config.Tenant, scope string, err error) *Error {
	msg := fmt.Sprintf("could not get an access token for tenant %s from Entra ID", t.Name())
	if len(h.served.Load().routes.routes) > 0 {
		msg += " (scope " + scope + ")" // with routes, say which API's consent or token failed
	}
	msg += tokencache.Diagnose(err, h.opts.ConsentURL).Explain()
	return &Error{Status: http.StatusBadGateway, Code: CodeTokenAcquisitionFailed, Message: msg, Err: err}
}
