package connguard

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"time"
)

// Listen returns a listener whose connections follow the HTTP/1.x request
// framing of their plaintext (see Ambiguous). With a tlsConfig, each
// connection is first the server side of TLS, handshaking on its first
// Read: an http.Server sets its ReadHeaderTimeout deadline before that
// read, and the handshake's writes get the same deadline, so a client
// that connects and never completes a handshake is dropped when its
// request headers would be. A nil tlsConfig serves plain connections.
//
// http.Server sees the connections as plain and speaks HTTP/1.1 on them
// (the watcher follows nothing else), so tlsConfig must not offer h2 in
// NextProtos. errorLog, if not nil, gets a line for each failed TLS
// handshake, as http.Server logs those of its own TLS listeners. A plain
// HTTP request to a TLS listener is answered 400, as http.Server answers
// it.
func Listen(ln net.Listener, tlsConfig *tls.Config, errorLog *log.Logger) net.Listener {
	return &listener{Listener: ln, tls: tlsConfig, log: errorLog}
}

type listener struct {
	net.Listener
	tls *tls.Config
	log *log.Logger
}

// Accept waits for the next connection and wraps it.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	g := &conn{Conn: c, log: l.log}
	if l.tls != nil {
		g.tls = tls.Server(c, l.tls)
	}
	return g, nil
}

// conn is an accepted connection: TLS when tls is set, and its plaintext
// followed by a framing watcher.
type conn struct {
	net.Conn           // the accepted connection
	tls      *tls.Conn // nil for plain connections
	log      *log.Logger

	handshake sync.Once
	tlsErr    error
	state     *tls.ConnectionState // set once the handshake succeeded

	mu            sync.Mutex
	framing       framing
	readDeadline  time.Time // the last set, for the handshake (TLS only)
	writeDeadline time.Time
}

// Read reads plaintext, handshaking first on TLS connections, and lets
// the framing watcher see it before the caller does.
func (c *conn) Read(p []byte) (int, error) {
	var n int
	var err error
	if c.tls == nil {
		n, err = c.Conn.Read(p)
	} else if err = c.handshakeOnce(); err == nil {
		n, err = c.tls.Read(p)
	}
	if n > 0 {
		c.mu.Lock()
		c.framing.feed(p[:n])
		seen, owing := c.framing.seen, c.framing.owing()
		c.mu.Unlock()
		if lc, ok := c.Conn.(*limitConn); ok {
			lc.progress(seen, owing)
		}
	}
	return n, err
}

// Write writes plaintext.
func (c *conn) Write(p []byte) (int, error) {
	if c.tls == nil {
		return c.Conn.Write(p)
	}
	return c.tls.Write(p)
}

// Close closes the connection (sending TLS's close_notify first, as
// tls.Conn does).
func (c *conn) Close() error {
	if c.tls == nil {
		return c.Conn.Close()
	}
	return c.tls.Close()
}

// CloseWrite shuts the sending side: a TCP FIN, or TLS's close_notify.
// http.Server calls it before closing a connection whose client may
// still be sending, so that its response is not lost to a reset.
func (c *conn) CloseWrite() error {
	if c.tls != nil {
		return c.tls.CloseWrite()
	}
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("connguard: the connection cannot close for writing alone")
}

// SetDeadline sets both deadlines.
func (c *conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline, which also bounds a TLS
// handshake still to come.
func (c *conn) SetReadDeadline(t time.Time) error {
	if c.tls == nil {
		return c.Conn.SetReadDeadline(t)
	}
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	return c.tls.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline.
func (c *conn) SetWriteDeadline(t time.Time) error {
	if c.tls == nil {
		return c.Conn.SetWriteDeadline(t)
	}
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	return c.tls.SetWriteDeadline(t)
}

// handshakeOnce runs the TLS handshake the first time it is called, its
// writes bounded by the read deadline as its reads are, and returns its
// error every time.
func (c *conn) handshakeOnce() error {
	c.handshake.Do(func() {
		c.mu.Lock()
		rd := c.readDeadline
		c.mu.Unlock()
		if !rd.IsZero() {
			c.tls.SetWriteDeadline(rd)
		}
		err := c.tls.Handshake()
		c.mu.Lock()
		c.tls.SetWriteDeadline(c.writeDeadline)
		c.mu.Unlock()
		if err != nil {
			c.tlsErr = err
			c.refused(err)
			return
		}
		st := c.tls.ConnectionState()
		c.state = &st
	})
	return c.tlsErr
}

// refused answers a plain HTTP request to a TLS listener in plain HTTP
// and logs a failed handshake, as http.Server does for its TLS
// connections.
func (c *conn) refused(err error) {
	var re tls.RecordHeaderError
	plainHTTP := errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader)
	if c.log != nil {
		reason := err.Error()
		if plainHTTP {
			reason = "client sent an HTTP request to an HTTPS server"
		}
		c.log.Printf("TLS handshake error from %s: %s", c.RemoteAddr(), reason)
	}
	if plainHTTP {
		io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		re.Conn.Close()
	}
}

// looksLikeHTTP reports whether a TLS record header is the start of an
// HTTP request, as net/http judges it.
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

// ambiguous takes the framing watcher's decision on the next request.
func (c *conn) ambiguous() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.framing.next()
}

var (
	_ net.Listener = (*listener)(nil)
	_ net.Conn     = (*conn)(nil)
)
