package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// load is the normal traffic: workers in a closed loop, each sending the
// keyed request on its own keep-alive connection as soon as the previous
// answer has arrived.
type load struct {
	url, key, tenant string
	workers          int
	client           *http.Client
	dials            atomic.Int64 // connections the workers opened
}

// loadStats is what the measured window saw.
type loadStats struct {
	latencies []time.Duration // every request, errors included, sorted
	errors    map[string]int  // non-200 status or transport error → count
	elapsed   time.Duration
	conns     int64 // connections opened, warm-up included; workers when none was lost
}

func newLoad(url, key, tenant string, workers int, timeout time.Duration) *load {
	l := &load{url: url, key: key, tenant: tenant, workers: workers}
	var d net.Dialer
	tr := &http.Transport{
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		MaxConnsPerHost:     workers,
		DisableCompression:  true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			l.dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
	}
	l.client = &http.Client{Transport: tr, Timeout: timeout}
	return l
}

func (l *load) close() { l.client.CloseIdleConnections() }

// warm sends one request from every worker at once, so each holds an
// open connection before any attacker arrives, and fails unless all of
// them are answered 200.
func (l *load) warm(ctx context.Context) error {
	errs := make([]string, l.workers)
	var wg sync.WaitGroup
	for i := range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = l.do(ctx)
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			return fmt.Errorf("%s", e)
		}
	}
	return nil
}

// run keeps every worker busy for d and returns what they measured.
// Requests started before d is over are waited for.
func (l *load) run(ctx context.Context, d time.Duration) loadStats {
	start := time.Now()
	deadline := start.Add(d)
	var mu sync.Mutex
	stats := loadStats{errors: map[string]int{}}
	var wg sync.WaitGroup
	for range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := map[string]int{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				e := l.do(ctx)
				lat = append(lat, time.Since(t0))
				if e != "" {
					errs[e]++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			stats.latencies = append(stats.latencies, lat...)
			for k, v := range errs {
				stats.errors[k] += v
			}
		}()
	}
	wg.Wait()
	stats.elapsed = time.Since(start)
	stats.conns = l.dials.Load()
	slices.Sort(stats.latencies)
	return stats
}

// do sends the keyed request once and returns "" for a 200, otherwise a
// short description of what went wrong.
func (l *load) do(ctx context.Context) string {
	return keyedRequest(ctx, l.client, l.url, l.key, l.tenant)
}

func keyedRequest(ctx context.Context, c *http.Client, url, key, tenant string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Tenant-ID", tenant)
	resp, err := c.Do(req)
	if err != nil {
		return describeError(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Sprintf("status %d", resp.StatusCode)
	case err != nil:
		return "reading body: " + describeError(err)
	}
	return ""
}

// percentile returns the nearest-rank q-quantile (0 < q ≤ 1) of sorted
// durations: the smallest value at least q of them do not exceed. It is 0
// for no durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
