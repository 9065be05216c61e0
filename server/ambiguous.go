package server

import (
	"net/http"

	"github.com/xdrproxy/xdrproxy/connguard"
	"github.com/xdrproxy/xdrproxy/proxy"
)

// refuseAmbiguous answers 400 InvalidRequest, and closes the connection,
// to a request whose framing is ambiguous (Content-Length together with
// Transfer-Encoding, see connguard.Ambiguous), before next sees it and
// without reading its body, whose end is in doubt. It takes the decision
// on every request, as connguard.Ambiguous requires, so every listener's
// handler is wrapped in it; "OPTIONS *", which the servers leave to it
// for that reason, it answers as net/http would.
func refuseAmbiguous(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if connguard.Ambiguous(r) {
			connguard.HangUp(w)
			proxy.WriteError(w, &proxy.Error{Status: http.StatusBadRequest, Code: proxy.CodeInvalidRequest,
				Message: "the request's framing is ambiguous: it has both Content-Length and Transfer-Encoding (or Transfer-Encoding on HTTP/1.0); send one of them"})
			return
		}
		if r.Method == http.MethodOptions && r.RequestURI == "*" {
			w.Header().Set("Content-Length", "0")
			if r.ContentLength != 0 {
				connguard.HangUp(w)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}
