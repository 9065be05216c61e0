package tokencache

import (
	"errors"
	"testing"
	"time"
)

func TestStateTiming(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	held := func(refreshAt, usableUntil time.Time) state {
		return state{token: Token{Value: "v"}, refreshAt: refreshAt, usableUntil: usableUntil}
	}
	failed := func(s state, retryAt time.Time) state {
		s.err, s.retryAt, s.failures = errors.New("refused"), retryAt, 1
		return s
	}
	later, earlier := now.Add(time.Minute), now.Add(-time.Minute)
	tests := []struct {
		name       string
		s          state
		usable     bool
		refreshDue bool
		due        bool
	}{
		{"fresh token", held(later, later.Add(time.Hour)), true, false, false},
		{"refresh time has come", held(now, later), true, true, true},
		{"refresh time passed", held(earlier, later), true, true, true},
		{"usable until now: no longer usable", held(earlier, now), false, true, true},
		{"failed refresh in backoff, token still usable", failed(held(earlier, later), later), true, false, false},
		{"failed refresh, backoff over", failed(held(earlier, later), now), true, true, true},
		{"no token, failure in backoff", failed(state{}, later), false, false, false},
		{"no token, backoff over", failed(state{}, earlier), false, true, true},
		{"dropped token (Invalidate)", state{failures: 2}, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.usable(now); got != tt.usable {
				t.Errorf("usable = %v, want %v", got, tt.usable)
			}
			if got := tt.s.refreshDue(now); got != tt.refreshDue {
				t.Errorf("refreshDue = %v, want %v", got, tt.refreshDue)
			}
			if got := tt.s.due(now); got != tt.due {
				t.Errorf("due = %v, want %v", got, tt.due)
			}
		})
	}
}
