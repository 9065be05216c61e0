package tokencache

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDiagnoseAndExplain(t *testing.T) {
	const (
		consentHint     = "the tenant's admin has not granted the application admin consent for this API (or the application ID is wrong): send them the admin-consent link"
		expiredHint     = "the client secret has expired: create a new one and rotate XDRPROXY_CLIENT_SECRET_FILE"
		unreachableHint = "Entra ID could not be reached: check XDRPROXY_AUTHORITY_HOST and the network; the proxy will retry"
		link            = "https://login.example/t1/oauth2/authorize?client_id=app"
	)
	consentURL := func(tenantID string) string {
		return "https://login.example/" + tenantID + "/oauth2/authorize?client_id=app"
	}
	consent := &AcquisitionError{TenantID: "t1", Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016},
		Description: "AADSTS700016: Application with identifier 'app' was not found in the directory 'Contoso'."}
	expired := &AcquisitionError{TenantID: "t1", Status: 401, OAuthError: "invalid_client", Codes: []int{7000222},
		Description: "AADSTS7000222: The provided client secret keys for app 'app' are expired."}
	timeout := classify("t1", fmt.Errorf("post: %w", context.DeadlineExceeded), "")
	unreachable := classify("t1", &url.Error{Op: "Post", URL: "https://login.example/t1/oauth2/v2.0/token", Err: errors.New("connection refused")}, "")
	plain := errors.New("token cache is closed")

	tests := []struct {
		name       string
		err        error
		consentURL func(string) string
		want       Advice
		explain    string
	}{
		{"consent, with a link maker", consent, consentURL,
			Advice{Class: ClassConsent, Code: 700016, OAuthError: "unauthorized_client", Description: consent.Description, Hint: consentHint, AdminConsentURL: link},
			": AADSTS700016 (unauthorized_client): Application with identifier 'app' was not found in the directory 'Contoso'. — " + consentHint + "; admin-consent link: " + link},
		{"consent, without a link maker", consent, nil,
			Advice{Class: ClassConsent, Code: 700016, OAuthError: "unauthorized_client", Description: consent.Description, Hint: consentHint},
			": AADSTS700016 (unauthorized_client): Application with identifier 'app' was not found in the directory 'Contoso'. — " + consentHint},
		{"expired secret: no consent link", expired, consentURL,
			Advice{Class: ClassCredential, Code: 7000222, OAuthError: "invalid_client", Description: expired.Description, Hint: expiredHint},
			": AADSTS7000222 (invalid_client): The provided client secret keys for app 'app' are expired. — " + expiredHint},
		{"Entra ID timed out", timeout, consentURL,
			Advice{Class: ClassUnreachable, Description: "Entra ID did not answer in time", Hint: unreachableHint, Unreachable: true, TimedOut: true},
			": Entra ID did not answer in time — " + unreachableHint},
		{"Entra ID unreachable", unreachable, consentURL,
			Advice{Class: ClassUnreachable, Description: "could not reach Entra ID at login.example: connection refused", Hint: unreachableHint, Unreachable: true},
			": could not reach Entra ID at login.example: connection refused — " + unreachableHint},
		{"remembered consent failure", &BackoffError{Err: consent, RetryIn: 4600 * time.Millisecond}, consentURL,
			Advice{Class: ClassConsent, Code: 700016, OAuthError: "unauthorized_client", Description: consent.Description, Hint: consentHint, AdminConsentURL: link, RetryIn: 4600 * time.Millisecond},
			": AADSTS700016 (unauthorized_client): Application with identifier 'app' was not found in the directory 'Contoso'. — " + consentHint + "; admin-consent link: " + link + " (remembered; next attempt in 5s)"},
		{"remembered failure, wrapped", fmt.Errorf("tenant t1: %w", &BackoffError{Err: expired, RetryIn: 90 * time.Second}), nil,
			Advice{Class: ClassCredential, Code: 7000222, OAuthError: "invalid_client", Description: expired.Description, Hint: expiredHint, RetryIn: 90 * time.Second},
			": AADSTS7000222 (invalid_client): The provided client secret keys for app 'app' are expired. — " + expiredHint + " (remembered; next attempt in 1m30s)"},
		{"plain error", plain, consentURL,
			Advice{Class: ClassUnknown, Description: "token cache is closed"},
			": token cache is closed"},
		{"remembered plain error", &BackoffError{Err: plain, RetryIn: 2 * time.Second}, consentURL,
			Advice{Class: ClassUnknown, Description: "token cache is closed", RetryIn: 2 * time.Second},
			": token cache is closed (remembered; next attempt in 2s)"},
		{"the caller's wait ran out", fmt.Errorf("waiting: %w", context.DeadlineExceeded), consentURL,
			Advice{Class: ClassUnknown, Description: "waiting: context deadline exceeded", TimedOut: true},
			": Entra ID did not answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diagnose(tt.err, tt.consentURL)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Diagnose (-want +got):\n%s", diff)
			}
			if e := got.Explain(); e != tt.explain {
				t.Errorf("Explain =\n%q\nwant\n%q", e, tt.explain)
			}
		})
	}
}
