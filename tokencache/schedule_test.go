package tokencache

import (
	"testing"
	"time"
)

func TestRefreshTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		expires   time.Time
		refreshOn time.Time
		want      time.Time
	}{
		{"one-hour token refreshes after 45 minutes", now.Add(time.Hour), time.Time{}, now.Add(45 * time.Minute)},
		{"Entra's 3599s token", now.Add(3599 * time.Second), time.Time{}, now.Add(3599 * time.Second).Add(-3599 * time.Second / 4)},
		{"24h token refreshes 6h early", now.Add(24 * time.Hour), time.Time{}, now.Add(18 * time.Hour)},
		{"10-minute token keeps a 5-minute margin", now.Add(10 * time.Minute), time.Time{}, now.Add(5 * time.Minute)},
		{"2-minute token refreshes at half", now.Add(2 * time.Minute), time.Time{}, now.Add(time.Minute)},
		{"expired token is due now", now.Add(-time.Second), time.Time{}, now},
		{"earlier refresh_in hint wins", now.Add(time.Hour), now.Add(30 * time.Minute), now.Add(30 * time.Minute)},
		{"later refresh_in hint is ignored", now.Add(time.Hour), now.Add(55 * time.Minute), now.Add(45 * time.Minute)},
		{"past refresh_in hint is ignored", now.Add(time.Hour), now.Add(-time.Minute), now.Add(45 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refreshTime(now, tt.expires, tt.refreshOn); !got.Equal(tt.want) {
				t.Errorf("refreshTime = %v, want %v", got.Sub(now), tt.want.Sub(now))
			}
		})
	}
}

func TestUsableUntil(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		expires time.Time
		want    time.Time
	}{
		{"one-hour token: 30s margin", now.Add(time.Hour), now.Add(time.Hour - 30*time.Second)},
		{"100s token: tenth of lifetime", now.Add(100 * time.Second), now.Add(90 * time.Second)},
		{"expired token", now.Add(-time.Minute), now.Add(-time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := usableUntil(now, tt.expires); !got.Equal(tt.want) {
				t.Errorf("usableUntil = %v, want %v", got.Sub(now), tt.want.Sub(now))
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	base, limit := 5*time.Second, 2*time.Minute
	tests := []struct {
		name string
		n    int
		want time.Duration
	}{
		{"first failure waits the base", 1, 5 * time.Second},
		{"second doubles", 2, 10 * time.Second},
		{"third", 3, 20 * time.Second},
		{"fourth", 4, 40 * time.Second},
		{"fifth", 5, 80 * time.Second},
		{"sixth reaches the cap", 6, 2 * time.Minute},
		{"seventh stays at the cap", 7, 2 * time.Minute},
		{"thousandth stays at the cap", 1000, limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := backoff(tt.n, base, limit); got != tt.want {
				t.Errorf("backoff(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestJitteredRefreshTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		expires   time.Time
		refreshOn time.Time
		r         float64
		want      time.Time
	}{
		{"no jitter: the plain refresh time", now.Add(time.Hour), time.Time{}, 0, now.Add(45 * time.Minute)},
		{"half: 5% of the 15-minute margin early", now.Add(time.Hour), time.Time{}, 0.5, now.Add(45*time.Minute - 45*time.Second)},
		{"almost one: nearly 10% of the margin early", now.Add(time.Hour), time.Time{}, 0.999, now.Add(45*time.Minute - time.Duration(0.999*0.1*float64(15*time.Minute)))},
		{"margin from Entra's hint", now.Add(time.Hour), now.Add(20 * time.Minute), 1, now.Add(20*time.Minute - 4*time.Minute)},
		{"expired token: due now, nothing to move", now.Add(-time.Second), time.Time{}, 0.5, now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jitteredRefreshTime(now, tt.expires, tt.refreshOn, tt.r); !got.Equal(tt.want) {
				t.Errorf("jitteredRefreshTime = %v, want %v", got.Sub(now), tt.want.Sub(now))
			}
		})
	}
}

// TestEarliestRefreshTime: no jitter finds a token due before
// EarliestRefreshTime, whatever the lifetime or Entra ID's hint.
func TestEarliestRefreshTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, lifetime := range []time.Duration{-time.Second, time.Minute, 10 * time.Minute, time.Hour, 24 * time.Hour} {
		for _, hint := range []time.Duration{0, 30 * time.Second, 20 * time.Minute} {
			tok := Token{ExpiresOn: now.Add(lifetime)}
			if hint > 0 {
				tok.RefreshOn = now.Add(hint)
			}
			earliest := EarliestRefreshTime(now, tok)
			for _, r := range []float64{0, 0.25, 0.5, 0.999} {
				if at := jitteredRefreshTime(now, tok.ExpiresOn, tok.RefreshOn, r); at.Before(earliest) {
					t.Errorf("lifetime %v, hint %v, r %v: due %v, before the earliest %v", lifetime, hint, r, at.Sub(now), earliest.Sub(now))
				}
			}
			// r = 0.999 is a thousandth of the jitter (at most a tenth of
			// the lifetime) from the limit.
			if jittered := jitteredRefreshTime(now, tok.ExpiresOn, tok.RefreshOn, 0.999); lifetime > 0 && jittered.Sub(earliest) > lifetime/10000+time.Millisecond {
				t.Errorf("lifetime %v, hint %v: earliest %v is not the jitter's limit (%v)", lifetime, hint, earliest.Sub(now), jittered.Sub(now))
			}
		}
	}
}

func TestRetryDelay(t *testing.T) {
	base, limit := 10*time.Second, time.Minute
	tests := []struct {
		name       string
		n          int
		retryAfter time.Duration
		r          float64
		want       time.Duration
	}{
		{"middle of the range: no jitter", 1, 0, 0.5, 10 * time.Second},
		{"lowest: 20% shorter", 1, 0, 0, 8 * time.Second},
		{"highest: just under 20% longer", 1, 0, 0.999, time.Duration(1.1996 * float64(10*time.Second))},
		{"jitter applies after the doubling", 2, 0, 0.25, 18 * time.Second},
		{"jitter applies after the cap", 10, 0, 0, 48 * time.Second},
		{"Retry-After wins when longer", 1, 45 * time.Second, 0.5, 45 * time.Second},
		{"backoff wins when longer than Retry-After", 3, 30 * time.Second, 0.5, 40 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryDelay(tt.n, base, limit, tt.retryAfter, tt.r); got != tt.want {
				t.Errorf("retryDelay = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMayForceRefresh(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		last time.Time
		want bool
	}{
		{"never dropped before", time.Time{}, true},
		{"dropped a second ago", now.Add(-time.Second), false},
		{"dropped just under 30s ago", now.Add(-30*time.Second + time.Nanosecond), false},
		{"dropped 30s ago", now.Add(-30 * time.Second), true},
		{"dropped an hour ago", now.Add(-time.Hour), true},
		{"clock went back", now.Add(time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mayForceRefresh(now, tt.last); got != tt.want {
				t.Errorf("mayForceRefresh = %v, want %v", got, tt.want)
			}
		})
	}
}
