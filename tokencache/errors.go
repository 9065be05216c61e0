package tokencache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

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

// consentCodes are the AADSTS codes that mean the tenant's admin has not
// (or not fully) consented to the application.
var consentCodes = []int{700016, 7000229, 65001, 90094, 650056, 650057, 500011}

// ConsentRequired reports whether the tenant's admin must grant (or
// re-grant) admin consent.
func (e *AcquisitionError) ConsentRequired() bool {
	return slices.ContainsFunc(e.Codes, func(c int) bool { return slices.Contains(consentCodes, c) })
}

// Hint says what to do about the failure, in one sentence, or "".
func (e *AcquisitionError) Hint() string {
	switch {
	case e.ConsentRequired():
		return "the tenant's admin has not granted the application admin consent (or the application ID is wrong)"
	}
	switch e.Code() {
	case 7000215, 7000222, 7000218:
		return "the client secret is wrong or expired: check XDRPROXY_CLIENT_SECRET or XDRPROXY_CLIENT_SECRET_FILE"
	case 90002, 900023:
		return "the tenant does not exist in this cloud: check the tenant ID and XDRPROXY_CLOUD"
	case 70011, 700022, 1002012:
		return "the scope is not valid: check XDRPROXY_SCOPE"
	case 650052:
		return "the tenant has no Microsoft Defender subscription for this API"
	case 53003, 530032:
		return "the tenant's Conditional Access policy blocks the application"
	case 7000112, 70001:
		return "the application is disabled"
	}
	if e.Unreachable {
		return "Entra ID could not be reached: check XDRPROXY_AUTHORITY_HOST and the network; the proxy will retry"
	}
	if e.Status >= 500 || e.OAuthError == "temporarily_unavailable" {
		return "Entra ID is failing; the proxy will retry"
	}
	return ""
}

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
		ae.Description = firstLine(err.Error())
		ae.Err = errors.New(ae.Description)
	}
	if len(ae.Codes) == 0 && strings.HasPrefix(ae.Description, "AADSTS") {
		digits := strings.TrimPrefix(ae.Description, "AADSTS")
		if i := strings.IndexByte(digits, ':'); i > 0 {
			if code, err := strconv.Atoi(digits[:i]); err == nil {
				ae.Codes = []int{code}
			}
		}
	}
	if len(ae.Description) > 400 {
		ae.Description = ae.Description[:400] + "…"
	}
	if secret != "" {
		ae.Description = strings.ReplaceAll(ae.Description, secret, "[redacted]")
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
