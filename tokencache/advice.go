package tokencache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Advice is what a person needs to know about a failed token acquisition:
// what Entra ID said, what to do, and when the proxy tries again. The
// proxy's 502, the admin report, check and the logs all build their text
// from it.
type Advice struct {
	// Class is the failure's class; ClassUnknown for an error that is not
	// an *AcquisitionError.
	Class Class
	// Code is the first AADSTS code; 0 when there is none.
	Code int
	// OAuthError is Entra ID's OAuth error, such as "unauthorized_client";
	// empty when Entra ID did not answer.
	OAuthError string
	// Description is Entra ID's first line, as AcquisitionError.Description
	// (it may start with "AADSTSnnnn: "), or the message of an error that
	// is not an *AcquisitionError.
	Description string
	// Hint says what to do, in one sentence; empty when there is nothing
	// to say.
	Hint string
	// AdminConsentURL is the link for the tenant's admin when consent is
	// required and Diagnose was given a link maker; empty otherwise.
	AdminConsentURL string
	// RetryIn is how long until the next attempt when the failure is a
	// remembered one (a *BackoffError); zero otherwise.
	RetryIn time.Duration
	// Unreachable is true when Entra ID could not be reached or did not
	// answer in time.
	Unreachable bool
	// TimedOut is true when the wait ran out (context.DeadlineExceeded).
	TimedOut bool
}

// Diagnose returns the advice for err, any error a Source or Cache
// returns. consentURL, if not nil, makes the admin-consent link for a
// tenant (AcquisitionError.TenantID) whose consent is missing.
func Diagnose(err error, consentURL func(tenantID string) string) Advice {
	if err == nil {
		return Advice{}
	}
	a := Advice{Class: ClassUnknown, Description: err.Error(), TimedOut: errors.Is(err, context.DeadlineExceeded)}
	var be *BackoffError
	if errors.As(err, &be) {
		a.RetryIn = be.RetryIn
	}
	var ae *AcquisitionError
	if errors.As(err, &ae) {
		a.Class, a.Code, a.OAuthError, a.Hint = ae.Class(), ae.Code(), ae.OAuthError, ae.Hint()
		a.Description, a.Unreachable = ae.Description, ae.Unreachable
		if ae.ConsentRequired() && consentURL != nil {
			a.AdminConsentURL = consentURL(ae.TenantID)
		}
	}
	return a
}

// Explain returns the advice as the end of a sentence that starts "could
// not get an access token for tenant … from Entra ID": Entra ID's code,
// OAuth error and description, the hint and the admin-consent link, e.g.
// ": AADSTS700016 (unauthorized_client): Application with identifier '…'
// was not found in the directory '…'. — the tenant's admin has not …;
// admin-consent link: https://…"; for an error Entra ID did not classify,
// ": Entra ID did not answer in time" after a timeout and ": " and its
// message otherwise. A remembered failure ends with " (remembered; next
// attempt in 5s)".
func (a Advice) Explain() string {
	var b strings.Builder
	switch {
	case a.fromEntra():
		if a.Code != 0 {
			fmt.Fprintf(&b, ": AADSTS%d", a.Code)
		}
		if a.OAuthError != "" {
			b.WriteString(" (" + a.OAuthError + ")")
		}
		b.WriteString(": " + WithoutCode(a.Description))
		if a.Hint != "" {
			b.WriteString(" — " + a.Hint)
		}
		if a.AdminConsentURL != "" {
			b.WriteString("; admin-consent link: " + a.AdminConsentURL)
		}
	case a.TimedOut:
		b.WriteString(": Entra ID did not answer in time")
	default:
		b.WriteString(": " + a.Description)
	}
	if a.RetryIn > 0 {
		fmt.Fprintf(&b, " (remembered; next attempt in %s)", a.RetryIn.Round(time.Second))
	}
	return b.String()
}

// fromEntra reports whether the advice carries Entra ID's classification
// of the failure, rather than only an error's message.
func (a Advice) fromEntra() bool {
	return a.Class != ClassUnknown && a.Class != "" || a.Code != 0 || a.OAuthError != ""
}

// Hint says what to do about the failure, in one sentence, or "".
func (e *AcquisitionError) Hint() string {
	switch e.Class() {
	case ClassConsent:
		return "the tenant's admin has not granted the application admin consent for this API (or the application ID is wrong): send them the admin-consent link"
	case ClassNoLicence:
		return "the tenant has no Microsoft Defender subscription for this API"
	case ClassCredential:
		switch e.Code() {
		case 7000222:
			return "the client secret has expired: create a new one and rotate XDRPROXY_CLIENT_SECRET_FILE"
		case 7000215, 7000218:
			return "the client secret is wrong: use the secret's value (not its ID) in XDRPROXY_CLIENT_SECRET or XDRPROXY_CLIENT_SECRET_FILE"
		case 70021, 700211, 700212, 700213, 700229, 7002137, 7002138:
			return "no federated identity credential on the application matches the presented token (issuer, subject, audience): check the application's federated credentials and the service account"
		}
		return "the application's credential was refused: check that the certificate is registered on the application and unexpired, or that the secret is current"
	case ClassTenant:
		return "the tenant does not exist in this cloud: check the tenant ID and XDRPROXY_CLOUD"
	case ClassPolicy:
		return "the tenant's Conditional Access or security policy blocks the application: ask the tenant's admin to exclude it"
	case ClassApplication:
		return "the application is disabled or misconfigured in Entra ID"
	case ClassRequest:
		return "the scope or resource is not valid: check XDRPROXY_SCOPE and XDRPROXY_ROUTES"
	case ClassThrottled:
		return "Entra ID is throttling token requests; the proxy backs off and retries"
	case ClassTransient:
		return "Entra ID is failing for now; the proxy will retry"
	case ClassUnreachable:
		return "Entra ID could not be reached: check XDRPROXY_AUTHORITY_HOST and the network; the proxy will retry"
	}
	return ""
}

// WithoutCode drops a leading "AADSTSnnnn: " from an Entra ID error
// description, for callers that show the code themselves.
func WithoutCode(desc string) string {
	if strings.HasPrefix(desc, "AADSTS") {
		if i := strings.Index(desc, ": "); i > 0 {
			return desc[i+2:]
		}
	}
	return desc
}
