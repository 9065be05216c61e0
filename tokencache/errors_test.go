package tokencache

import (
	"errors"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		err       AcquisitionError
		class     Class
		transient bool
	}{
		{"not consented", AcquisitionError{Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016}}, ClassConsent, false},
		{"consent missing for a permission", AcquisitionError{Status: 400, OAuthError: "invalid_grant", Codes: []int{65001}}, ClassConsent, false},
		{"resource not in tenant", AcquisitionError{Status: 400, OAuthError: "invalid_resource", Codes: []int{500011}}, ClassConsent, false},
		{"no licence", AcquisitionError{Status: 400, OAuthError: "invalid_request", Codes: []int{650052}}, ClassNoLicence, false},
		{"wrong secret", AcquisitionError{Status: 401, OAuthError: "invalid_client", Codes: []int{7000215}}, ClassCredential, false},
		{"expired secret", AcquisitionError{Status: 401, OAuthError: "invalid_client", Codes: []int{7000222}}, ClassCredential, false},
		{"no federated match", AcquisitionError{Status: 400, OAuthError: "invalid_request", Codes: []int{70021}}, ClassCredential, false},
		{"federated subject mismatch", AcquisitionError{Status: 400, OAuthError: "invalid_client", Codes: []int{7002138}}, ClassCredential, false},
		{"unknown tenant", AcquisitionError{Status: 400, OAuthError: "invalid_tenant", Codes: []int{90002}}, ClassTenant, false},
		{"conditional access", AcquisitionError{Status: 400, OAuthError: "invalid_grant", Codes: []int{53003}}, ClassPolicy, false},
		{"loop detected", AcquisitionError{Status: 400, OAuthError: "invalid_request", Codes: []int{50196}}, ClassThrottled, true},
		{"tenant throttled", AcquisitionError{Status: 429, OAuthError: "invalid_request", Codes: []int{90055}}, ClassThrottled, true},
		{"budget exceeded", AcquisitionError{Status: 400, OAuthError: "invalid_request", Codes: []int{90024}}, ClassTransient, true},
		{"retryable", AcquisitionError{Status: 400, OAuthError: "invalid_request", Codes: []int{50033}}, ClassTransient, true},
		{"temporarily unavailable", AcquisitionError{Status: 400, OAuthError: "temporarily_unavailable"}, ClassTransient, true},
		{"plain 429", AcquisitionError{Status: 429}, ClassThrottled, true},
		{"503 without body", AcquisitionError{Status: 503}, ClassTransient, true},
		{"network", AcquisitionError{Unreachable: true}, ClassUnreachable, true},
		{"unknown code", AcquisitionError{Status: 400, OAuthError: "invalid_request", Codes: []int{12345}}, ClassUnknown, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Class(); got != tt.class {
				t.Errorf("Class() = %s, want %s", got, tt.class)
			}
			if got := tt.err.Transient(); got != tt.transient {
				t.Errorf("Transient() = %v, want %v", got, tt.transient)
			}
			if tt.class != ClassUnknown && tt.err.Hint() == "" {
				t.Error("no hint")
			}
		})
	}
}

func TestFederatedCodesGetTheFederatedHint(t *testing.T) {
	for _, code := range []int{70021, 700211, 700212, 700213, 7002137, 7002138} {
		e := AcquisitionError{Status: 400, OAuthError: "invalid_request", Codes: []int{code}}
		if !strings.Contains(e.Hint(), "federated") {
			t.Errorf("AADSTS%d hint = %q", code, e.Hint())
		}
	}
}

func TestScrubBeforeTruncate(t *testing.T) {
	secret := "S3CR3T-abcdefghijklmnopqrstuvwxyz"
	desc := strings.Repeat("x", 390) + secret
	ae := classify("t", errors.New(desc), secret)
	if strings.Contains(ae.Description, "S3CR3T") {
		t.Errorf("part of the secret survived: %q", ae.Description[380:])
	}
	if cause := errors.Unwrap(ae); cause == nil || strings.Contains(cause.Error(), "S3CR3T") || strings.Contains(ae.Error(), "S3CR3T") {
		t.Errorf("the secret survived in the wrapped error: %v", cause)
	}
}
