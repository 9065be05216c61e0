package tokencache

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
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

func TestBackoffFor(t *testing.T) {
	c := &Cache{opts: Options{MinBackoff: 5 * time.Second, MaxBackoff: 2 * time.Minute, PermanentMinBackoff: time.Minute, PermanentMaxBackoff: 30 * time.Minute,
		Rand: func() float64 { return 0.5 }}} // no jitter: factor 1
	consent := &AcquisitionError{Status: http.StatusBadRequest, OAuthError: "unauthorized_client", Codes: []int{700016}}
	transient := &AcquisitionError{Status: http.StatusServiceUnavailable}
	throttled := &AcquisitionError{Status: http.StatusTooManyRequests, RetryAfter: 45 * time.Second}
	tests := []struct {
		name string
		err  error
		n    int
		want time.Duration
	}{
		{"permanent, first", consent, 1, time.Minute},
		{"permanent, sixth", consent, 6, 30 * time.Minute},
		{"transient, first", transient, 1, 5 * time.Second},
		{"transient, third", transient, 3, 20 * time.Second},
		{"Retry-After wins when longer", throttled, 1, 45 * time.Second},
		{"backoff wins when longer than Retry-After", throttled, 5, 80 * time.Second},
		{"foreign error counts as transient", errExpiredToken, 1, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.backoffFor(tt.err, tt.n); got != tt.want {
				t.Errorf("backoffFor = %v, want %v", got, tt.want)
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

func TestBackoffJitterStaysWithin20Percent(t *testing.T) {
	transient := &AcquisitionError{Status: 503}
	for _, r := range []float64{0, 0.25, 0.999} {
		c := &Cache{opts: Options{MinBackoff: 10 * time.Second, MaxBackoff: time.Minute, PermanentMinBackoff: time.Minute, PermanentMaxBackoff: time.Hour,
			Rand: func() float64 { return r }}}
		got := c.backoffFor(transient, 1)
		if got < 8*time.Second || got >= 12*time.Second {
			t.Errorf("rand %v: backoff %v, want within ±20%% of 10s", r, got)
		}
	}
}
