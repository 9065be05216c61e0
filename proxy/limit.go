package proxy

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
)

// Limiter admits requests under each tenant's rate limits and the holds
// an upstream 429 puts on a tenant and limit. The one kept in the process
// is the default; one shared by a fleet of replicas can take its place.
type Limiter interface {
	// Reserve takes the next slot of tenant under lim and says how long
	// the request must wait for it, or refuses it, without taking a
	// slot, when the wait would exceed the queue timeout.
	Reserve(tenant string, lim Limit) Admission
	// Hold keeps requests of tenant under lim.Key from passing for d.
	Hold(tenant string, lim Limit, d time.Duration)
	// HeldFor returns how long tenant's lim.Key is still held, or 0.
	HeldFor(tenant string, lim Limit) time.Duration
}

// Admission is a Limiter's answer to one request.
type Admission struct {
	// Wait is how long the request must wait before going on.
	Wait time.Duration
	// Refused is true when the request may not pass within the queue
	// timeout; it then took no slot.
	Refused bool
	// RetryIn is, when Refused, how long until a retry could pass.
	RetryIn time.Duration
}

// waitTurn waits for the request's turn under its tenant's limit. A
// request over the limit, or held by an upstream 429 that arrived while
// it waited, gets 429 RateLimited; one queued during a shutdown gets 503.
// path is the request's canonical path (parsePath), after any /tenants/
// prefix.
func (h *Handler) waitTurn(ex *exchange, r *http.Request, t config.Tenant, path string, lim Limit) error {
	adm := h.limits.Reserve(t.ID, lim)
	if !adm.Refused && adm.Wait > 0 {
		ex.queueWait = adm.Wait
		timer := time.NewTimer(adm.Wait)
		select {
		case <-timer.C:
		case <-h.draining:
			timer.Stop()
			return errShuttingDown()
		case <-r.Context().Done():
			timer.Stop()
			return errors.New("client went away while queued for its rate limit")
		}
		if held := h.limits.HeldFor(t.ID, lim); held > 0 {
			adm = Admission{Refused: true, RetryIn: held}
		}
	}
	if !adm.Refused {
		return nil
	}
	h.opts.Metrics.rateLimit(tenantLabel(t), ex.route)
	return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: wholeSeconds(adm.RetryIn),
		Message: fmt.Sprintf("tenant %s is over its request rate for %s (Microsoft's published limit, or the upstream asked to slow down); retry in %ss", t.Name(), path, wholeSeconds(adm.RetryIn))}
}

// holdOnUpstream429 holds the tenant and limit after an upstream 429
// until its Retry-After has passed, so clients wait (or get the proxy's
// 429) instead of adding to the storm, and counts the 429 in
// xdrproxy_upstream_throttled_total. The response goes back unchanged.
func (h *Handler) holdOnUpstream429(resp *http.Response, f *forward) error {
	if resp.StatusCode == http.StatusTooManyRequests {
		h.opts.Metrics.upstreamThrottled(tenantLabel(f.tenant), f.route)
		// A Retry-After date becomes a duration here, and the limiter
		// times the hold on its own clock (a fleet's is Redis's).
		h.limits.Hold(f.tenant.ID, f.limit, retryAfter(resp.Header.Get("Retry-After"), h.now()))
	}
	return nil
}

// retryAfter parses an upstream Retry-After: seconds (Graph sends
// fractions such as 2.128) or an HTTP date. Absent or unreadable means
// one second.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if secs, err := strconv.ParseFloat(h, 64); err == nil && secs >= 0 && !math.IsInf(secs, 0) {
		return time.Duration(math.Min(secs, 86400) * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
		return 0
	}
	return time.Second
}

// wholeSeconds rounds d up to whole seconds, at least 1, for Retry-After.
func wholeSeconds(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
