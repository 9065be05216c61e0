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
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 2 * time.Minute, 2 * time.Minute}
	for i, w := range want {
		if got := backoff(i+1, base, limit); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := backoff(1000, base, limit); got != limit {
		t.Errorf("backoff(1000) = %v, want the cap %v", got, limit)
	}
}
