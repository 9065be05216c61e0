package proxy

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
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
// buffered channel per tenant, a slot taken by sending into it. A
// tenant's channel exists only while it is in use, give or take a sweep:
// every sweepEvery tenants added, the channels of tenants with no
// request holding or waiting for a slot are dropped, so 10,000 tenants
// that each sent a request cost about 240 bytes each only until the
// next sweep, and however many tenants there are, at most sweepEvery
// idle ones are kept, about. A take of a tenant present costs a map look-up
// and two atomic additions on the tenant's own counter, no lock and no
// allocation.
type upstreamSlots struct {
	max     int
	added   atomic.Int64 // tenants added, counted for sweep
	tenants sync.Map     // tenant ID → *tenantSlots
}

// sweepEvery is how many tenants are added between two sweeps of idle
// ones.
const sweepEvery = 1024

// tenantSlots is one tenant's slots. refs counts the requests holding a
// slot or waiting for one; a sweep drops the tenant only at zero, after
// setting refs to deadSlots, so a request that finds it dropped (refs
// negative) looks the tenant up again and gets a fresh, empty channel:
// no slot of a dropped channel is ever held.
type tenantSlots struct {
	ch   chan struct{}
	refs atomic.Int32
}

// deadSlots marks a dropped tenantSlots: far enough below zero that the
// requests that may still add to it never bring it back up.
const deadSlots = math.MinInt32 / 2

// of returns tenantID's slots, counted as in use until release.
func (s *upstreamSlots) of(tenantID string) *tenantSlots {
	for {
		v, ok := s.tenants.Load(tenantID)
		if !ok {
			v = s.add(tenantID)
		}
		ts := v.(*tenantSlots)
		if ts.refs.Add(1) > 0 {
			return ts
		}
		s.tenants.CompareAndDelete(tenantID, ts) // dropped by a sweep: make sure it is gone
	}
}

// add stores slots for tenantID unless a racing request did, sweeping
// first every sweepEvery additions: the tenants dropped are those added
// since the last sweep, so about sweepEvery idle ones at most are kept, and a
// request of a tenant present pays no shared counter.
func (s *upstreamSlots) add(tenantID string) any {
	if s.added.Add(1)%sweepEvery == 0 {
		s.sweep()
	}
	v, _ := s.tenants.LoadOrStore(tenantID, &tenantSlots{ch: make(chan struct{}, s.max)})
	return v
}

// release ends a use of ts begun by of, after its slot, if any, was
// given back.
func (ts *tenantSlots) release() { ts.refs.Add(-1) }

// sweep drops the slots of every tenant that nothing uses.
func (s *upstreamSlots) sweep() {
	s.tenants.Range(func(id, v any) bool {
		if ts := v.(*tenantSlots); ts.refs.CompareAndSwap(0, deadSlots) {
			s.tenants.CompareAndDelete(id, ts)
		}
		return true
	})
}

// len returns how many tenants have slots now.
func (s *upstreamSlots) len() int {
	n := 0
	s.tenants.Range(func(any, any) bool { n++; return true })
	return n
}

// takeSlot waits for one of t's upstream slots, up to what is left of
// the queue wait; the caller gives it back with giveBack.
func (h *Handler) takeSlot(ex *exchange, r *http.Request, t config.Tenant) (*tenantSlots, error) {
	ts := h.slots.of(t.ID)
	if err := h.waitSlot(ex, r, t, ts.ch); err != nil {
		ts.release()
		return nil, err
	}
	return ts, nil
}

// giveBack returns the slot takeSlot took.
func (ts *tenantSlots) giveBack() {
	<-ts.ch
	ts.release()
}

// waitSlot takes one of slots, waiting up to what is left of the queue
// wait.
func (h *Handler) waitSlot(ex *exchange, r *http.Request, t config.Tenant, slots chan struct{}) error {
	select {
	case slots <- struct{}{}:
		return nil
	default:
	}
	wait := h.opts.QueueTimeout - ex.queueWait
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case slots <- struct{}{}:
			return nil
		case <-timer.C:
		case <-h.draining:
			return errShuttingDown()
		case <-r.Context().Done():
			return errors.New("client went away while waiting for an upstream slot")
		}
	}
	h.opts.Metrics.rateLimit(tenantLabel(t), ex.route)
	return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: "1",
		Message: fmt.Sprintf("tenant %s already has %d requests in flight upstream, the most the proxy lets one tenant hold; retry when one finishes", t.Name(), cap(slots))}
}
