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

// earlyRefreshShare is the largest share of a token's refresh margin by
// which its refresh may start early.
const earlyRefreshShare = 0.1

// jitteredRefreshTime returns refreshTime moved earlier by up to a tenth of
// the margin it leaves before expiry, r (in [0, 1)) choosing how much:
// tenants warmed together then do not all refresh in the same sweep. A
// one-hour token is refreshed between 43.5 and 45 minutes in.
func jitteredRefreshTime(now, expires, refreshOn time.Time, r float64) time.Time {
	at := refreshTime(now, expires, refreshOn)
	if margin := expires.Sub(at); margin > 0 {
		at = at.Add(-time.Duration(r * earlyRefreshShare * float64(margin)))
	}
	return at
}

// EarliestRefreshTime returns the earliest moment the Cache's jittered
// schedule may find tok, obtained at obtained, due: its refresh time moved
// as early as the jitter moves it. A fleet that refreshes a shared token
// then is never asked by a replica for the token it is replacing.
func EarliestRefreshTime(obtained time.Time, tok Token) time.Time {
	return jitteredRefreshTime(obtained, tok.ExpiresOn, tok.RefreshOn, 1)
}

// retryDelay returns how long to wait after the nth consecutive failure:
// backoff(n, base, limit) varied by ±20%, r (in [0, 1)) choosing where,
// so that tenants failing together do not retry in lockstep; and never
// shorter than retryAfter, Entra ID's Retry-After (zero when it sent none
// or it does not count).
func retryDelay(n int, base, limit, retryAfter time.Duration, r float64) time.Duration {
	jitter := 0.8 + 0.4*r
	return max(time.Duration(jitter*float64(backoff(n, base, limit))), retryAfter)
}

// forcedRefreshInterval is the least time between two tokens of one
// (tenant, scope) dropped because the upstream refused them: an endpoint
// that refuses every token must not turn each request into a token
// request.
const forcedRefreshInterval = 30 * time.Second

// mayForceRefresh reports whether a token the upstream refused may be
// dropped at now, the key's previous token having been dropped at last
// (zero: never): at most once per forcedRefreshInterval.
func mayForceRefresh(now, last time.Time) bool {
	return last.IsZero() || now.Sub(last) >= forcedRefreshInterval
}
