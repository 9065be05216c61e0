package proxy

import (
	"net/http"

	"github.com/xdrproxy/xdrproxy/connguard"
)

// origin is the scheme and host clients reach the proxy at, as named in
// discovery documents and rewritten paging links: Options.PublicURL when
// set (behind a front that terminates TLS, the connection says http and
// the front's own host), else the request's own. X-Forwarded-* headers
// are never trusted for it: any client can send them. The listeners
// terminate TLS themselves, so r.TLS is nil there and connguard.TLSState
// tells.
func (h *Handler) origin(r *http.Request) string {
	if u := h.opts.PublicURL; u != nil {
		return u.Scheme + "://" + u.Host
	}
	if connguard.TLSState(r) != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
