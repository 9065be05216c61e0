package connguard

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Limit returns a listener that has at most max of ln's connections open
// at once; 0 (or less) means no cap and returns ln itself. At the cap,
// Accept waits until one of them is closed, leaving new connections in
// the kernel's accept queue; closing ln ends the wait. A connection frees
// its place once, however often it is closed.
//
// golang.org/x/net/netutil.LimitListener has these semantics but its
// connections hide CloseWrite, which http.Server uses to end a response
// cleanly before closing, and a cap of 0 would accept nothing.
func Limit(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, max), done: make(chan struct{}),
		open: map[*limitConn]struct{}{}, now: time.Now}
}

// reclaimAfter is how long, at the cap, a connection may hold its place
// without a request in progress — connected and silent, mid-way through
// its request headers, or idle between requests — before it is closed to
// let a waiting one in. Without it, clients that connect and say nothing
// hold every place until their header timeout, and new clients, keyed or
// not, never get in (bench/soak measured 0 of 7 fresh connections served
// at 2,000 such attackers against a cap of 500).
const reclaimAfter = time.Second

type limitListener struct {
	net.Listener
	slots     chan struct{} // one element per open connection
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	now       func() time.Time

	mu   sync.Mutex
	open map[*limitConn]struct{}
}

// Accept waits for a free place, then for a connection. While it waits
// at the cap, connections with no request in progress for reclaimAfter
// are closed to make room.
func (l *limitListener) Accept() (net.Conn, error) {
	var tick *time.Ticker
	for taken := false; !taken; {
		select {
		case l.slots <- struct{}{}:
			taken = true
		case <-l.done:
			if tick != nil {
				tick.Stop()
			}
			return nil, &net.OpError{Op: "accept", Net: l.Addr().Network(), Addr: l.Addr(), Err: net.ErrClosed}
		default:
			if tick == nil {
				tick = time.NewTicker(reclaimAfter / 4)
				defer tick.Stop()
			}
			select {
			case l.slots <- struct{}{}:
				taken = true
			case <-l.done:
			case <-tick.C:
				l.reclaim()
			}
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	lc := &limitConn{Conn: c, l: l}
	lc.since.Store(l.now().UnixNano())
	l.mu.Lock()
	l.open[lc] = struct{}{}
	l.mu.Unlock()
	return lc, nil
}

// reclaim closes the connections that have had no request in progress
// for reclaimAfter.
func (l *limitListener) reclaim() {
	cutoff := l.now().Add(-reclaimAfter).UnixNano()
	var stale []*limitConn
	l.mu.Lock()
	for c := range l.open {
		if !c.busy.Load() && c.since.Load() <= cutoff {
			stale = append(stale, c)
		}
	}
	l.mu.Unlock()
	for _, c := range stale {
		c.Close()
	}
}

// Close closes the listener and ends a waiting Accept.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn is a connection that holds a place of its listener's.
type limitConn struct {
	net.Conn
	l           *limitListener
	releaseOnce sync.Once
	// busy is set while a request is in progress (its header block has
	// arrived and its answer is not done); since is when the connection
	// last became free of one.
	busy  atomic.Bool
	since atomic.Int64
}

// Close closes the connection and frees its place.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.releaseOnce.Do(func() {
		c.l.mu.Lock()
		delete(c.l.open, c)
		c.l.mu.Unlock()
		<-c.l.slots
	})
	return err
}

// requestStarted marks that a request's header block has arrived.
func (c *limitConn) requestStarted() { c.busy.Store(true) }

// requestDone marks the connection idle between requests.
func (c *limitConn) requestDone() {
	c.since.Store(c.l.now().UnixNano())
	c.busy.Store(false)
}

// CloseWrite shuts the sending side of a TCP connection.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("connguard: the connection cannot close for writing alone")
}

// ConnState is http.Server's ConnState hook for connections of Listen
// over Limit: a connection gone idle between requests may be reclaimed
// at the cap again.
func ConnState(c net.Conn, s http.ConnState) {
	if s != http.StateIdle {
		return
	}
	if g, ok := c.(*conn); ok {
		if lc, ok := g.Conn.(*limitConn); ok {
			lc.requestDone()
		}
	}
}

var (
	_ net.Listener = (*limitListener)(nil)
	_ net.Conn     = (*limitConn)(nil)
)
