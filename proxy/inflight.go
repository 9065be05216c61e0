package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
)

// DefaultMaxUpstreamPerTenant is how many requests one tenant may have
// upstream at once. A client streaming bodies slowly holds an upstream
// connection per request for as long as it likes; without a bound, one
// client could pin every connection and file descriptor the proxy has.
// 64 is far above what Microsoft's published rates let a tenant use (the
// busiest API allows 100 calls a minute, and a call rarely takes a
// second), while 10,000 connections (XDRPROXY_MAX_CONNECTIONS) can then
// pin at most 64 upstream requests per tenant they reach.
const DefaultMaxUpstreamPerTenant = 64

// upstreamSlots bounds each tenant's requests upstream at once: a
// buffered channel per tenant, a slot taken by sending into it.
type upstreamSlots struct {
	max     int
	tenants sync.Map // tenant ID → chan struct{}
}

func (s *upstreamSlots) of(tenantID string) chan struct{} {
	if c, ok := s.tenants.Load(tenantID); ok {
		return c.(chan struct{})
	}
	c, _ := s.tenants.LoadOrStore(tenantID, make(chan struct{}, s.max))
	return c.(chan struct{})
}

// takeSlot waits for one of t's upstream slots, up to what is left of
// the queue wait; the caller gives it back with <-slots.
func (h *Handler) takeSlot(ex *exchange, r *http.Request, t config.Tenant) (slots chan struct{}, err error) {
	slots = h.slots.of(t.ID)
	select {
	case slots <- struct{}{}:
		return slots, nil
	default:
	}
	wait := h.opts.QueueTimeout - ex.queueWait
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case slots <- struct{}{}:
			return slots, nil
		case <-timer.C:
		case <-h.draining:
			return nil, errShuttingDown()
		case <-r.Context().Done():
			return nil, errors.New("client went away while waiting for an upstream slot")
		}
	}
	h.opts.Metrics.rateLimit(tenantLabel(t), ex.route)
	return nil, &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: "1",
		Message: fmt.Sprintf("tenant %s already has %d requests in flight upstream, the most the proxy lets one tenant hold; retry when one finishes", t.Name(), cap(slots))}
}
