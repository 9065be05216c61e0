package tokencache

import (
	"time"
)

// Status describes one cached key, for diagnostics. It never holds the
// token itself.
type Status struct {
	Key
	// HasToken says whether a usable token is held.
	HasToken bool
	// ExpiresOn is the held token's expiry; zero without one.
	ExpiresOn time.Time
	// RefreshAt is when the held token will be refreshed.
	RefreshAt time.Time
	// LastError is the last acquisition failure, nil after a success.
	LastError error
	// RetryAt is the earliest next attempt after a failure.
	RetryAt time.Time
	// Roles are the held token's roles claim (its Claims.Roles).
	Roles []string
}

// Status returns the state of key k, and false if k was never asked for.
func (c *Cache) Status(k Key) (Status, bool) {
	e, ok := (*c.entries.Load())[k]
	if !ok {
		return Status{}, false
	}
	st := Status{Key: k}
	s := e.state.Load()
	if s == nil {
		return st, true
	}
	st.HasToken = s.usable(c.clock.Now())
	if st.HasToken {
		st.ExpiresOn, st.RefreshAt, st.Roles = s.token.ExpiresOn, s.refreshAt, s.token.Claims.Roles
	}
	st.LastError, st.RetryAt = s.err(), s.retryAt()
	return st, true
}
