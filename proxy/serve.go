package proxy

import (
	"net/http"
)

// serve handles a request; pin is the tenant of a tenant listener, or "".
// Each step returns what the next needs, or the error to answer with.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, pin string) {
	if h.opts.Placeholders != nil {
		if name, ep := emulatedEndpoint(r.URL.Path); ep != notEmulated {
			h.serveEmulated(w, r, pin, name, ep)
			return
		}
	}
	ex := h.begin(w, r)
	defer ex.finish()

	who, err := h.authenticate(r)
	if err != nil {
		ex.rec.Header().Set("WWW-Authenticate", bearerChallenge(err))
		ex.fail(err)
		return
	}
	ex.identify(who)
	path, err := admit(r, ex.rec.Header())
	if ex.fail(err) {
		return
	}
	served := h.served.Load()
	t, err := resolve(r, path, served, pin, who)
	if ex.fail(err) {
		return
	}
	ex.tenant = t.tenant
	pick := served.routes.pick(&t)
	ex.route = pick.name
	lim := pick.limitFor(t.req.canon)
	if ex.fail(h.waitTurn(ex, r, t.tenant, t.req.canon, lim)) {
		return
	}
	tok, err := h.token(ex, r, who, t.tenant, pick.scope)
	if ex.fail(err) {
		return
	}
	slots, err := h.takeSlot(ex, r, t.tenant)
	if ex.fail(err) {
		return
	}
	defer slots.giveBack()
	h.forward(ex, r, forward{target: t, upstream: pick.upstream, route: pick.name, scope: pick.scope, token: tok.Value, limit: lim,
		client: r, links: pick.links})
}
