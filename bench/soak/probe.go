package main

import (
	"context"
	"net/http"
	"time"
)

// probeStats is what the fresh-connection probes saw.
type probeStats struct {
	sent, ok int
	max      time.Duration
}

// probes sends, at an interval, the keyed request on a new connection: a
// client arriving during the attack, which (unlike the normal load's
// warmed connections) must get past any connection cap.
type probes struct {
	cancel context.CancelFunc
	done   chan struct{}
	stats  probeStats
}

// startProbes probes every interval until stop; interval 0 sends none.
func startProbes(ctx context.Context, url, key, tenant string, interval, timeout time.Duration) *probes {
	ctx, cancel := context.WithCancel(ctx)
	p := &probes{cancel: cancel, done: make(chan struct{})}
	if interval <= 0 {
		close(p.done)
		return p
	}
	go p.loop(ctx, url, key, tenant, interval, timeout)
	return p
}

func (p *probes) loop(ctx context.Context, url, key, tenant string, interval, timeout time.Duration) {
	defer close(p.done)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: timeout}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t0 := time.Now()
		// Not under ctx: a probe started before the end is waited for
		// (at most timeout), so a slow one is seen, not cancelled.
		e := keyedRequest(context.Background(), client, url, key, tenant)
		p.stats.sent++
		p.stats.max = max(p.stats.max, time.Since(t0))
		if e == "" {
			p.stats.ok++
		}
	}
}

// stop ends the probing and returns what it saw.
func (p *probes) stop() probeStats {
	p.cancel()
	<-p.done
	return p.stats
}
