package proxy

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestUpstreamSlotsDroppedWhenIdle: a sweep drops the slots of tenants
// nothing uses and keeps those in use; a dropped tenant gets fresh,
// empty slots, and one found dropped mid-look-up is looked up again.
func TestUpstreamSlotsDroppedWhenIdle(t *testing.T) {
	s := &upstreamSlots{max: 2}
	a := s.of("a")
	a.ch <- struct{}{}
	a.ch <- struct{}{}
	b := s.of("b")
	b.ch <- struct{}{}
	b.giveBack()
	s.sweep()
	if n := s.len(); n != 1 {
		t.Fatalf("%d tenants with slots after the sweep, want 1 (a, in use)", n)
	}
	if again := s.of("a"); again != a || len(again.ch) != 2 {
		t.Fatalf("a's slots were replaced while in use (full: %d of 2)", len(again.ch))
	}
	if again := s.of("b"); again == b || len(again.ch) != 0 {
		t.Fatalf("b's dropped slots came back (same %v, %d taken)", again == b, len(again.ch))
	}
	dead := &tenantSlots{ch: make(chan struct{}, 2)}
	dead.refs.Store(deadSlots)
	dead.ch <- struct{}{}
	s.tenants.Store("c", dead)
	if c := s.of("c"); c == dead || len(c.ch) != 0 || c.refs.Load() != 1 {
		t.Fatalf("a dropped tenant's slots were handed out (same %v, %d taken, refs %d)", c == dead, len(c.ch), c.refs.Load())
	}
}

// TestUpstreamSlotsBoundUnderSweeps: with sweeps running all the time,
// no tenant ever has more than max requests holding a slot.
func TestUpstreamSlotsBoundUnderSweeps(t *testing.T) {
	const limit = 3
	s := &upstreamSlots{max: limit}
	var holding [4]atomic.Int32
	var over atomic.Int32
	stop := make(chan struct{})
	var sweeper sync.WaitGroup
	sweeper.Add(1)
	go func() {
		defer sweeper.Done()
		for {
			select {
			case <-stop:
				return
			default:
				s.sweep()
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := (g + i) % len(holding)
				ts := s.of(string(rune('a' + k)))
				select {
				case ts.ch <- struct{}{}:
				default:
					ts.release() // full: as takeSlot gives up
					continue
				}
				if holding[k].Add(1) > limit {
					over.Add(1)
				}
				holding[k].Add(-1)
				ts.giveBack()
			}
		}()
	}
	wg.Wait()
	close(stop)
	sweeper.Wait()
	if n := over.Load(); n > 0 {
		t.Errorf("%d times a tenant held more than %d slots", n, limit)
	}
	s.sweep()
	if n := s.len(); n != 0 {
		t.Errorf("%d tenants keep slots after every request ended", n)
	}
}
