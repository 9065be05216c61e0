package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RateLimit allows at most N requests per tenant in any window of Per,
// for request paths starting with Prefix.
type RateLimit struct {
	// Prefix is the request path prefix (after any /tenants/{t} prefix).
	Prefix string
	// N is how many requests may pass in any window.
	N int
	// Per is the window: a second, a minute or an hour.
	Per time.Duration
}

// String returns the limit as written in XDRPROXY_RATE_LIMITS.
func (r RateLimit) String() string {
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[r.Per]
	return fmt.Sprintf("%s=%d/%s", r.Prefix, r.N, unit)
}

// DefaultRateLimits are Microsoft's published per-(application, tenant)
// limits: Defender XDR incidents 50 a minute and 1,500 an hour
// (api-list-incidents), advanced hunting 45 a minute and 1,500 an hour
// (api-advanced-hunting, run-advanced-query-api), and most Defender for
// Endpoint entity APIs 100 a minute and 1,500 an hour.
var DefaultRateLimits = mustParseRateLimits(strings.Join([]string{
	"/api/incidents=50/m", "/api/incidents=1500/h",
	"/api/advancedhunting=45/m", "/api/advancedhunting=1500/h",
	"/api/advancedqueries=45/m", "/api/advancedqueries=1500/h",
	"/api/alerts=100/m", "/api/alerts=1500/h",
	"/api/machines=100/m", "/api/machines=1500/h",
	"/api/machineactions=100/m", "/api/machineactions=1500/h",
	"/api/files=100/m", "/api/files=1500/h",
	"/api/indicators=100/m", "/api/indicators=1500/h",
	"/api/investigations=100/m", "/api/investigations=1500/h",
}, ","))

func mustParseRateLimits(s string) []RateLimit {
	limits, err := ParseRateLimits(s)
	if err != nil {
		panic(err)
	}
	return limits
}

// ParseRateLimits parses XDRPROXY_RATE_LIMITS: a comma list of
// PREFIX=N/s, PREFIX=N/m or PREFIX=N/h. A prefix may be listed with
// several units; every one applies. The result is ordered longest prefix
// first.
func ParseRateLimits(s string) ([]RateLimit, error) {
	var limits []RateLimit
	var bad []string
	for _, entry := range commaList(s) {
		prefix, rate, ok := strings.Cut(entry, "=")
		prefix, rate = strings.TrimSpace(prefix), strings.TrimSpace(rate)
		n, unit, ok2 := strings.Cut(rate, "/")
		count, err := strconv.Atoi(n)
		per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
		switch {
		case !ok || !ok2:
			bad = append(bad, fmt.Sprintf("%q is not PREFIX=N/s, PREFIX=N/m or PREFIX=N/h", entry))
		case !strings.HasPrefix(prefix, "/") || hasDotSegmentOrQuery(prefix):
			bad = append(bad, fmt.Sprintf("%q: the prefix must be a path starting with /", entry))
		case err != nil || count < 1 || count > 100_000:
			bad = append(bad, fmt.Sprintf("%q: N must be a whole number from 1 to 100000", entry))
		case per == 0:
			bad = append(bad, fmt.Sprintf("%q: the unit must be s, m or h", entry))
		default:
			dup := false
			for _, l := range limits {
				if strings.EqualFold(l.Prefix, prefix) && l.Per == per {
					bad = append(bad, fmt.Sprintf("%q: %s already has a limit per %s", entry, prefix, unit))
					dup = true
				}
			}
			if !dup {
				limits = append(limits, RateLimit{Prefix: strings.ToLower(prefix), N: count, Per: per})
			}
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	// Longest prefix first, and a prefix's limits next to each other.
	sort.SliceStable(limits, func(i, j int) bool {
		if len(limits[i].Prefix) != len(limits[j].Prefix) {
			return len(limits[i].Prefix) > len(limits[j].Prefix)
		}
		return limits[i].Prefix < limits[j].Prefix
	})
	return limits, nil
}
