package connguard

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// connKey is the context key of a request's guarded connection.
type connKey struct{}

// ConnContext records c in ctx when Listen accepted it, for TLSState and
// Ambiguous; set it as (or call it from) http.Server.ConnContext.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if g, ok := c.(*conn); ok {
		return context.WithValue(ctx, connKey{}, g)
	}
	return ctx
}

// guarded is r's connection when Listen accepted it.
func guarded(r *http.Request) (*conn, bool) {
	c, ok := r.Context().Value(connKey{}).(*conn)
	return c, ok
}

// TLSState is the TLS state of the connection r came on: the state of
// the handshake Listen ran, else r.TLS (nil for plain HTTP). net/http
// leaves r.TLS nil on Listen's connections, which it sees as plain.
func TLSState(r *http.Request) *tls.ConnectionState {
	if c, ok := guarded(r); ok && c.tls != nil {
		return c.state
	}
	return r.TLS
}

// Ambiguous reports whether r's framing was ambiguous: it carried
// Transfer-Encoding together with Content-Length (in any case and
// number), or Transfer-Encoding on HTTP/1.0. Answer such a request 400
// and close its connection (RFC 9112 §6.1). A request also counts as
// ambiguous when its connection's framing could not be followed.
//
// Ambiguous takes the decision on the next request of r's connection, so
// it must be called exactly once for every request, in order: in a
// middleware in front of every handler of the server, with http.Server.DisableGeneralOptionsHandler set so that
// "OPTIONS *" reaches it too. It reports false for a request that did
// not come through Listen (or a server without ConnContext).
func Ambiguous(r *http.Request) bool {
	c, ok := guarded(r)
	return ok && c.ambiguous()
}

// HangUp makes the answer being written the connection's last, and makes
// net/http read no more of the request: it would otherwise read (and
// wait for) up to 256 KiB of an unread body, before the answer and after
// it. For answers made without reading a body the client announced: a
// client can hold nothing it has not paid for.
func HangUp(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}
