package tokencache

import (
	"errors"
	"testing"
	"time"
)

// TestStateWithoutFailureHoldsNone: a state that remembers no failure
// holds no failure record, so a key whose tokens come does not pay for
// one; one that does keeps what it was given.
func TestStateWithoutFailureHoldsNone(t *testing.T) {
	tok := state{token: Token{Value: "v"}}
	if s := tok.withFailure(failure{}); s.fail != nil || s.err() != nil || !s.retryAt().IsZero() || s.token.Value != "v" {
		t.Errorf("no failure: %+v", s.failed())
	}
	err := errors.New("refused")
	at := time.Unix(1_800_000_000, 0)
	s := tok.withFailure(failure{err: err, retryAt: at, failures: 3})
	if s.err() != err || !s.retryAt().Equal(at) || s.failed().failures != 3 || s.token.Value != "v" {
		t.Errorf("a failure: %+v", s.failed())
	}
	if tok.fail != nil {
		t.Error("withFailure changed the state it copied")
	}
}

func TestStateTiming(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	held := func(refreshAt, usableUntil time.Time) state {
		return state{token: Token{Value: "v"}, refreshAt: refreshAt, usableUntil: usableUntil}
	}
	failed := func(s state, retryAt time.Time) state {
		return *s.withFailure(failure{err: errors.New("refused"), retryAt: retryAt, failures: 1})
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
		{"dropped token (Invalidate)", *state{}.withFailure(failure{failures: 2}), false, true, true},
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
