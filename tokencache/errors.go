package tokencache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
)

// AcquisitionError is a failed token acquisition, with what Entra ID said
// about it. Its message holds no secret and no token: only the AADSTS code,
// the first line of Entra ID's description and a hint.
type AcquisitionError struct {
	// TenantID is the tenant the token was for.
	TenantID string
	// Status is the HTTP status of Entra ID's answer; zero when there was
	// none (network failure, timeout).
	Status int
	// OAuthError is the OAuth error class, such as "unauthorized_client";
	// empty when Entra ID did not answer.
	OAuthError string
	// Codes are the AADSTS error codes, such as 700016.
	Codes []int
	// Description is the first line of Entra ID's error_description, or
	// a short account of the failure when Entra ID did not answer.
	Description string
	// Unreachable is true when Entra ID could not be reached or did not
	// answer in time.
	Unreachable bool
	// RetryAfter is Entra ID's Retry-After, zero when it sent none.
	RetryAfter time.Duration
	// Err is a sanitised cause, for errors.Is (context.DeadlineExceeded,
	// network errors). It never holds MSAL's request or response.
	Err error
}

// Error returns a one-line account of the failure.
func (e *AcquisitionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "acquiring token for tenant %s: ", e.TenantID)
	if e.OAuthError != "" {
		fmt.Fprintf(&b, "Entra ID answered %d %s: ", e.Status, e.OAuthError)
	}
	b.WriteString(e.Description)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *AcquisitionError) Unwrap() error { return e.Err }

// Code returns the first AADSTS code, or 0.
func (e *AcquisitionError) Code() int {
	if len(e.Codes) == 0 {
		return 0
	}
	return e.Codes[0]
}

// Class groups Entra ID's failures by what must be done about them. Its
// values are stable, for logs and metrics.
type Class string

// The failure classes, decided by AADSTS code and OAuth error, never by
// description text.
const (
	// ClassConsent: the tenant's admin has not (fully) consented.
	ClassConsent Class = "consent_required"
	// ClassNoLicence: the tenant has no subscription for the API.
	ClassNoLicence Class = "no_licence"
	// ClassCredential: the application's credential was refused.
	ClassCredential Class = "credential_rejected"
	// ClassTenant: the tenant does not exist (in this cloud).
	ClassTenant Class = "tenant_not_found"
	// ClassPolicy: Conditional Access or a tenant policy blocks the app.
	ClassPolicy Class = "blocked_by_policy"
	// ClassApplication: the application is disabled or misconfigured.
	ClassApplication Class = "application_problem"
	// ClassRequest: the request itself is wrong (scope, resource).
	ClassRequest Class = "invalid_request"
	// ClassThrottled: Entra ID asks us to slow down.
	ClassThrottled Class = "throttled"
	// ClassTransient: a passing fault at Entra ID.
	ClassTransient Class = "transient"
	// ClassUnreachable: Entra ID could not be reached or timed out.
	ClassUnreachable Class = "unreachable"
	// ClassUnknown: anything else.
	ClassUnknown Class = "unknown"
)

// codeClasses maps AADSTS codes to classes (Entra ID's error-code
// reference, and microsoft-facts.md §2.6).
var codeClasses = map[int]Class{
	700016: ClassConsent, 7000229: ClassConsent, 65001: ClassConsent, 90094: ClassConsent,
	650056: ClassConsent, 650057: ClassConsent, 500011: ClassConsent,
	650052:  ClassNoLicence,
	7000215: ClassCredential, 7000222: ClassCredential, 7000218: ClassCredential,
	700027: ClassCredential, 700024: ClassCredential, 700023: ClassCredential, 50012: ClassCredential,
	700030: ClassCredential, 70021: ClassCredential, 700213: ClassCredential, 700212: ClassCredential,
	700211: ClassCredential, 7002137: ClassCredential, 7002138: ClassCredential, 700229: ClassCredential,
	90002: ClassTenant, 900023: ClassTenant,
	53003: ClassPolicy, 530032: ClassPolicy,
	7000112: ClassApplication, 70001: ClassApplication,
	70011: ClassRequest, 700022: ClassRequest, 1002012: ClassRequest, 9001023: ClassRequest,
	90124: ClassRequest, 90130: ClassRequest,
	50196: ClassThrottled, 90055: ClassThrottled,
	90024: ClassTransient, 50033: ClassTransient, 90006: ClassTransient, 90033: ClassTransient,
}

// Class returns the failure's class.
func (e *AcquisitionError) Class() Class {
	for _, code := range e.Codes {
		if c, ok := codeClasses[code]; ok {
			return c
		}
	}
	switch {
	case e.Unreachable:
		return ClassUnreachable
	case e.Status == http.StatusTooManyRequests:
		return ClassThrottled
	case e.Status >= 500, e.OAuthError == "temporarily_unavailable":
		return ClassTransient
	case e.OAuthError == "invalid_client":
		return ClassCredential
	case e.OAuthError == "invalid_scope", e.OAuthError == "invalid_resource":
		return ClassRequest
	}
	return ClassUnknown
}

// Transient reports whether the failure may pass by itself, so the proxy
// retries it soon; other failures need a person and are retried rarely.
func (e *AcquisitionError) Transient() bool {
	switch e.Class() {
	case ClassThrottled, ClassTransient, ClassUnreachable, ClassUnknown:
		return true
	}
	return false
}

// ConsentRequired reports whether the tenant's admin must grant (or
// re-grant) admin consent.
func (e *AcquisitionError) ConsentRequired() bool { return e.Class() == ClassConsent }

// entraErrorBody is Entra ID's OAuth error body.
type entraErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

// classify turns an error from MSAL into an *AcquisitionError, taking the
// AADSTS code from Entra ID's answer. No MSAL text is kept verbatim: MSAL's
// errors can carry the token request (with the client secret) and a token
// response's body (with the access token). secret, when not empty, is also
// scrubbed from every text kept.
func classify(tenantID string, err error, secret string) *AcquisitionError {
	ae := &AcquisitionError{TenantID: tenantID}
	var call msalerrors.CallErr
	var badJSON msalerrors.InvalidJsonErr
	var urlErr *url.Error
	switch {
	case errors.As(err, &call):
		if call.Resp != nil {
			ae.Status = call.Resp.StatusCode
			if secs, err := strconv.ParseFloat(call.Resp.Header.Get("Retry-After"), 64); err == nil && secs > 0 {
				ae.RetryAfter = time.Duration(secs * float64(time.Second))
			}
		}
		// MSAL puts the reply body after the status line of its message.
		msg := call.Err.Error()
		if i := strings.IndexByte(msg, '{'); i >= 0 {
			var body entraErrorBody
			if json.Unmarshal([]byte(msg[i:]), &body) == nil && body.Error != "" {
				ae.OAuthError = body.Error
				ae.Codes = body.Codes
				ae.Description = firstLine(body.Description)
			}
		}
		if ae.OAuthError == "" {
			ae.Description = fmt.Sprintf("Entra ID answered %d %s", ae.Status, http.StatusText(ae.Status))
		}
		ae.Err = fmt.Errorf("entra id answered %d", ae.Status) // not call: its Req holds the secret
	case errors.As(err, &badJSON):
		ae.Description = "Entra ID sent a response that could not be read"
		ae.Err = errors.New("unreadable response from entra id")
	case errors.Is(err, context.DeadlineExceeded):
		ae.Description, ae.Unreachable, ae.Err = "Entra ID did not answer in time", true, context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		ae.Description, ae.Err = "the token request was cancelled", context.Canceled
	case errors.As(err, &urlErr):
		host := ""
		if u, perr := url.Parse(urlErr.URL); perr == nil {
			host = u.Host
		}
		ae.Description = fmt.Sprintf("could not reach Entra ID at %s: %s", host, firstLine(urlErr.Err.Error()))
		ae.Unreachable, ae.Err = true, urlErr.Err
	default:
		ae.Description = firstLine(err.Error()) // Err is set from it once scrubbed
	}
	if len(ae.Codes) == 0 && strings.HasPrefix(ae.Description, "AADSTS") {
		digits := strings.TrimPrefix(ae.Description, "AADSTS")
		if i := strings.IndexByte(digits, ':'); i > 0 {
			if code, err := strconv.Atoi(digits[:i]); err == nil {
				ae.Codes = []int{code}
			}
		}
	}
	if secret != "" { // before truncating, so no part of it survives
		ae.Description = strings.ReplaceAll(ae.Description, secret, "[redacted]")
	}
	if len(ae.Description) > 400 {
		ae.Description = ae.Description[:400] + "…"
	}
	if ae.Err == nil {
		ae.Err = errors.New(ae.Description)
	}
	return ae
}

// firstLine returns s up to its first line break: Entra ID appends trace
// and correlation IDs on the following lines.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
