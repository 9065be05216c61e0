package admin

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/connguard"
	"github.com/xdrproxy/xdrproxy/proxy"
)

// codeAdminKeysNotConfigured is the error code of the 403 a guarded path
// answers when the listener needs admin keys and none are configured.
const codeAdminKeysNotConfigured = "AdminKeysNotConfigured"

// adminRealm is the realm of the admin listener's bearer challenge,
// apart from the proxy's: a client key is not an admin key.
const adminRealm = `Bearer realm="xdrproxy-admin"`

// openPaths are served to anyone, key or not: the kubelet's probes and
// Prometheus carry none, and none of them tells a tenant's token state
// beyond ready or not.
var openPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// KeysRequired reports whether an admin listener on addr asks for admin
// keys on every path but /healthz, /readyz and /metrics. It does when
// XDRPROXY_ADMIN_KEYS_FILE is set (configured), and on any address but
// loopback (127.0.0.0/8, ::1, localhost) even without it: other machines
// could connect there, so the status page, /tenants, the retry endpoint
// and pprof answer 403 until admin keys are configured. On loopback
// without the file only this machine can connect, and every path stays
// open.
func KeysRequired(addr string, configured bool) bool {
	return configured || !config.IsLoopbackAddr(addr)
}

// Keys holds the admin keys in force, replaced whole when
// XDRPROXY_ADMIN_KEYS_FILE changes. It is safe for concurrent use.
type Keys struct {
	cur atomic.Pointer[config.AdminKeys]
}

// NewKeys returns a holder of ks.
func NewKeys(ks *config.AdminKeys) *Keys {
	k := &Keys{}
	k.Set(ks)
	return k
}

// Set makes ks the keys accepted from now on; a set without keys (the
// last one revoked) refuses every request on a guarded path.
func (k *Keys) Set(ks *config.AdminKeys) { k.cur.Store(ks) }

// match reports whether presented is one of the keys in force.
func (k *Keys) match(presented string) bool { return k.cur.Load().Match(presented) }

// guard serves next, but asks for an admin key on every path that is not
// open when o.RequireKeys is set: with no keys configured the answer is
// 403, with a missing or wrong key 401. A path is guarded whether or not
// the mux serves it, so that a refusal comes before any 404 and says
// nothing of which endpoints exist.
func guard(o Options, next http.Handler) http.Handler {
	if !o.RequireKeys {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		if e := authorize(o.Keys, r); e != nil {
			refuse(w, r, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorize checks r's admin key against keys (nil: none configured). It
// returns the error to answer with, or nil.
func authorize(keys *Keys, r *http.Request) *proxy.Error {
	if keys == nil {
		return &proxy.Error{Status: http.StatusForbidden, Code: codeAdminKeysNotConfigured,
			Message: "this admin listener can be reached from other machines, so the status page /, /tenants, POST /tenants/{tenant}/retry and /debug/pprof/ need an admin key, and none is configured: set XDRPROXY_ADMIN_KEYS_FILE to a file of SHA-256 hashes of admin keys, one a line (or serve the admin listener on 127.0.0.1)"}
	}
	scheme, presented, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	presented = strings.TrimSpace(presented)
	if !strings.EqualFold(scheme, "Bearer") || presented == "" {
		return &proxy.Error{Status: http.StatusUnauthorized, Code: proxy.CodeUnauthenticated,
			Message: "this path needs an admin key: send Authorization: Bearer <key> with a key whose SHA-256 is listed in XDRPROXY_ADMIN_KEYS_FILE"}
	}
	if !keys.match(presented) {
		return &proxy.Error{Status: http.StatusUnauthorized, Code: proxy.CodeUnauthenticated,
			Message: "the admin key is not valid", Err: errInvalidKey}
	}
	return nil
}

// errInvalidKey marks a 401 for a key that was presented and refused.
var errInvalidKey = errors.New("invalid_token")

// refuse writes e, with the bearer challenge for a 401 (RFC 6750 §3:
// error="invalid_token" when a key was presented and refused). A request
// announcing a body is answered at once and its connection closed, so
// that the server does not wait for a body it will never use.
func refuse(w http.ResponseWriter, r *http.Request, e *proxy.Error) {
	if e.Status == http.StatusUnauthorized {
		challenge := adminRealm
		if errors.Is(e.Err, errInvalidKey) {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	if r.ContentLength != 0 {
		connguard.HangUp(w)
	}
	proxy.WriteError(w, e)
}
