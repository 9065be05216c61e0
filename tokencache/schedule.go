package tokencache

import "time"

// refreshTime returns when a token obtained at now and expiring at expires
// should be replaced: when a quarter of its lifetime remains, but never
// later than five minutes (or half the lifetime, for shorter tokens) before
// it expires. A one-hour token is refreshed after 45 minutes, which leaves
// 15 minutes to ride out an Entra ID outage on the old token. refreshOn,
// when not zero, is Entra ID's own hint (refresh_in) and wins if earlier.
func refreshTime(now, expires, refreshOn time.Time) time.Time {
	lifetime := expires.Sub(now)
	if lifetime <= 0 {
		return now
	}
	margin := lifetime / 4
	if floor := min(lifetime/2, 5*time.Minute); margin < floor {
		margin = floor
	}
	at := expires.Add(-margin)
	if !refreshOn.IsZero() && refreshOn.Before(at) && refreshOn.After(now) {
		at = refreshOn
	}
	return at
}

// usableUntil returns the last moment a token may be handed out: a little
// before it expires, so that a request forwarded with it does not arrive
// after its expiry. The margin is 30 seconds, or a tenth of the lifetime
// for tokens shorter than five minutes.
func usableUntil(now, expires time.Time) time.Time {
	lifetime := expires.Sub(now)
	if lifetime <= 0 {
		return expires
	}
	return expires.Add(-min(30*time.Second, lifetime/10))
}

// backoff returns how long to wait after the nth consecutive failure
// (n >= 1) before asking Entra ID again: base doubled each time, capped at
// limit.
func backoff(n int, base, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
