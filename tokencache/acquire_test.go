package tokencache

import (
	"net/http"
	"testing"
	"time"
)

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
