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
// while its client owes the proxy bytes (silent since it connected, part-
// way through request headers or an announced body) or while it is idle
// between requests, before it is closed to let a waiting one in. Without
// it, clients that connect and say nothing, or announce a token form and
// send one byte, hold every place until their timeouts, and new clients,
// keyed or not, never get in (bench/soak measured 0 of 7 fresh
// connections served at 2,000 such attackers against a cap of 500). A
// connection whose request is with the proxy (received whole, its answer
// not done) is never reclaimed, however long the upstream takes.
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
		if c.reclaimable(cutoff) {
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
	// seen counts the requests whose headers have arrived and answered
	// those answered; owing says the client is part-way through sending
	// one; since is when bytes last arrived or the connection went idle.
	seen, answered atomic.Int64
	owing          atomic.Bool
	since          atomic.Int64
	// reading says the server is waiting in a Read: bytes the framing
	// watcher has not seen are owed only then, not while a handler holds
	// a request whose body it has not started to read (the proxy waits
	// for its turn first, the body already in the socket).
	reading atomic.Bool
}

// Read reads from the connection, recording that the server waits on it.
func (c *limitConn) Read(p []byte) (int, error) {
	c.reading.Store(true)
	defer c.reading.Store(false)
	return c.Conn.Read(p)
}

// reclaimable reports whether, at the cap, the connection may be closed:
// nothing has happened on it since cutoff, and either the server waits
// for bytes its client owes or no request of it is with the proxy.
func (c *limitConn) reclaimable(cutoff int64) bool {
	return c.since.Load() <= cutoff && (c.owing.Load() && c.reading.Load() || c.seen.Load() <= c.answered.Load())
}

// progress records what the framing watcher saw in a read.
func (c *limitConn) progress(seen int, owing bool) {
	c.seen.Store(int64(seen))
	c.owing.Store(owing)
	c.since.Store(c.l.now().UnixNano())
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

// requestDone records that a request has been answered and the
// connection is idle until the next.
func (c *limitConn) requestDone() {
	c.answered.Add(1)
	c.since.Store(c.l.now().UnixNano())
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
