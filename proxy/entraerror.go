package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// entraError is a refusal in Entra ID's token-endpoint error shape, so
// that tools built for Entra ID show it sensibly.
type entraError struct {
	Status  int
	OAuth   string // the error field: invalid_client, unauthorized_client, …
	Code    int    // the AADSTS code
	Message string
}

func (e *entraError) Error() string {
	return fmt.Sprintf("%s: AADSTS%d: %s", e.OAuth, e.Code, e.Message)
}

func (h *Handler) writeEntraError(w http.ResponseWriter, r *http.Request, e *entraError) {
	ts := h.now().UTC().Format("2006-01-02 15:04:05Z")
	trace := uuid.NewString()
	corr := r.Header.Get("client-request-id") // MSAL's correlation ID
	if !config.IsGUID(corr) {
		corr = uuid.NewString()
	}
	body := map[string]any{
		"error":             e.OAuth,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", e.Code, e.Message, trace, corr, ts),
		"error_codes":       []int{e.Code},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
	}
	writeTokenJSON(w, e.Status, body)
}

// writeTokenJSON writes a token-endpoint answer, never to be cached.
func writeTokenJSON(w http.ResponseWriter, status int, v any) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store, no-cache")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// unauthorizedClient is the refusal of a tenant the client may not have
// a token for (AADSTS700016).
func unauthorizedClient(format string, args ...any) *entraError {
	return &entraError{Status: http.StatusBadRequest, OAuth: "unauthorized_client", Code: 700016, Message: fmt.Sprintf(format, args...)}
}

func invalidRequest(code int, msg string) *entraError {
	return &entraError{Status: http.StatusBadRequest, OAuth: "invalid_request", Code: code, Message: msg}
}

// tokenRequestFailure turns a failed acquisition into Entra ID's error
// shape. A transient failure is temporarily_unavailable (503). A refusal
// about the tenant (consent, licence, policy…) keeps Entra ID's error and
// code. A refusal of the proxy's own credential or application is the
// proxy's fault, not the tool's: 500 server_error (AADSTS50000), with
// Entra ID's code in the description, never invalid_client, which would
// tell the tool its key is wrong.
func (h *Handler) tokenRequestFailure(t config.Tenant, scope string, err error) *entraError {
	msg := "The proxy " + h.tokenError(t, scope, err).Message
	e := &entraError{Status: http.StatusServiceUnavailable, OAuth: "temporarily_unavailable", Code: 90033, Message: msg}
	var ae *tokencache.AcquisitionError
	if !errors.As(err, &ae) {
		return e
	}
	if c := ae.Code(); c != 0 {
		e.Code = c
	}
	switch {
	case ae.Transient():
	case ae.Class() == tokencache.ClassCredential || ae.Class() == tokencache.ClassApplication || ae.OAuthError == "invalid_client":
		e.Status, e.OAuth, e.Code = http.StatusInternalServerError, "server_error", 50000
	default:
		e.Status, e.OAuth = http.StatusBadRequest, ae.OAuthError
		if e.OAuth == "" {
			e.OAuth = "unauthorized_client"
		}
	}
	return e
}
