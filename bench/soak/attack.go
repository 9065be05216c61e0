package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// attackKind is how an attacker holds its connection.
type attackKind int

const (
	// stuckBody sends request headers announcing a 100,000-byte body, one
	// byte of it, then nothing.
	stuckBody attackKind = iota
	// partialHeaders sends a request line and half a header, never ending
	// the header block.
	partialHeaders
	// silent connects and sends nothing.
	silent
	attackKinds = 3
)

// payload is what an attacker of kind k writes after connecting; it
// names a tenant but holds no key.
func (k attackKind) payload(host, tenant string) []byte {
	switch k {
	case stuckBody:
		return fmt.Appendf(nil, "POST /api/incidents HTTP/1.1\r\nHost: %s\r\nX-Tenant-ID: %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", host, tenant)
	case partialHeaders:
		return fmt.Appendf(nil, "GET /api/incidents HTTP/1.1\r\nHost: %s\r\nX-Tenant-ID: %s", host, tenant)
	}
	return nil
}

// attack is a set of persistent attackers: each holds one hostile
// connection and, when the proxy closes it, opens the next at once (or
// after the reconnect delay).
type attack struct {
	addr, tenant   string
	n              int
	reconnectDelay time.Duration
	tried          atomic.Int64 // attackers that have tried their first connection
	wg             sync.WaitGroup
	opened         atomic.Int64 // connections established
	closed         atomic.Int64 // of those, closed by the proxy
	dialErrors     atomic.Int64 // connection attempts that failed
}

// attackStats is a snapshot of an attack's counters, passed from the
// attack child to the soak as JSON.
type attackStats struct {
	Attackers  int   `json:"attackers"`
	Opened     int64 `json:"opened"`      // connections established
	Closed     int64 `json:"closed"`      // of those, closed by the proxy
	DialErrors int64 `json:"dial_errors"` // connection attempts that failed
}

func startAttack(ctx context.Context, addr, tenant string, n int, reconnectDelay time.Duration) *attack {
	a := &attack{addr: addr, tenant: tenant, n: n, reconnectDelay: reconnectDelay}
	for i := range n {
		a.wg.Add(1)
		go a.attacker(ctx, attackKind(i%attackKinds))
	}
	return a
}

// waitOpened returns once every attacker has tried its first connection,
// or after limit.
func (a *attack) waitOpened(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for a.tried.Load() < int64(a.n) && time.Now().Before(deadline) && ctx.Err() == nil {
		<-tick.C
	}
}

func (a *attack) wait() { a.wg.Wait() }

func (a *attack) snapshot() attackStats {
	return attackStats{Attackers: a.n, Opened: a.opened.Load(), Closed: a.closed.Load(), DialErrors: a.dialErrors.Load()}
}

func (a *attack) attacker(ctx context.Context, kind attackKind) {
	defer a.wg.Done()
	payload := kind.payload(a.addr, a.tenant)
	var d net.Dialer
	first := true
	for ctx.Err() == nil {
		conn, err := d.DialContext(ctx, "tcp", a.addr)
		if first {
			a.tried.Add(1)
			first = false
		}
		if err != nil {
			if ctx.Err() == nil {
				a.dialErrors.Add(1)
				pause(ctx, 50*time.Millisecond) // our own failure: do not spin
			}
			continue
		}
		a.opened.Add(1)
		if hold(ctx, conn, payload) {
			a.closed.Add(1)
		}
		pause(ctx, a.reconnectDelay)
	}
}

// hold writes payload and then reads (discarding any answer) until the
// proxy closes the connection, which it reports as true, or until ctx is
// done, which it reports as false. It closes conn.
func hold(ctx context.Context, conn net.Conn, payload []byte) bool {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if len(payload) > 0 {
		if _, err := conn.Write(payload); err != nil {
			return ctx.Err() == nil
		}
	}
	io.Copy(io.Discard, conn)
	return ctx.Err() == nil
}

func pause(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
