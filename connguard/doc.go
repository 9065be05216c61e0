// Package connguard holds a server's defences against hostile clients
// that work below net/http, on the connection: a cap on the connections
// open at once (Limit), and a listener (Listen) that terminates TLS itself
// and follows the HTTP/1.x request framing of each connection's
// plaintext, so that a handler can learn what net/http hides from it: a
// request that carried both Content-Length and Transfer-Encoding
// (Ambiguous), which net/http serves after silently deleting
// Content-Length, although RFC 9112 §6.1 asks for the connection to be
// closed. The TLS state stays available to handlers (TLSState).
//
// A server that uses Listen sets http.Server.ConnContext to ConnContext
// (or chains it) and calls Ambiguous exactly once for every request, in
// a middleware in front of every handler.
package connguard
