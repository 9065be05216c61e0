package server

import (
	"net/http"

	"github.com/xdrproxy/xdrproxy/connguard"
)

// holdNoBody prepares an answer made without reading the request's body:
// the connection is closed after it, and the server's drain of the
// unread body (after the handler returns) fails at once instead of
// waiting for a client that may never send it. A client can hold nothing
// it has not paid for.
func holdNoBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 {
		return
	}
	connguard.HangUp(w)
}

// ignoreBodies wraps a handler that reads no request body, such as the
// admin listener's.
func ignoreBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		holdNoBody(w, r)
		next.ServeHTTP(w, r)
	})
}
