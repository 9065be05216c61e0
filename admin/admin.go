// Package admin serves xdrproxy's admin listener: liveness (/healthz),
// readiness (/readyz), Prometheus metrics (/metrics), every tenant's token
// state (/tenants, and as a status page for people on /), the retry of a
// tenant (POST /tenants/{tenant}/retry) and, when enabled, /debug/pprof/.
// Off loopback, or whenever admin keys are configured, all but the first
// three need an admin key.
package admin

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// TenantLister tells the admin endpoints which tenants are served now,
// after any reload. *proxy.Handler is one.
type TenantLister interface {
	Tenants() *config.TenantSet
}

// TokenStates reports the state of a tenant's token for a scope, never the
// token itself. *tokencache.Cache is one.
type TokenStates interface {
	Status(k tokencache.Key) (tokencache.Status, bool)
}

// Options are the admin endpoints' collaborators. Config, Tenants, Tokens
// and Readiness are required.
type Options struct {
	// Config gives the scopes, XDRPROXY_REQUIRED_ROLES, the application
	// and authority for consent links, and XDRPROXY_PPROF.
	Config *config.Config
	// Tenants are the tenants /readyz and /tenants report on.
	Tenants TenantLister
	// Tokens hold the tenants' token states.
	Tokens TokenStates
	// Retrier serves POST /tenants/{tenant}/retry. Nil means no such
	// endpoint.
	Retrier TenantRetrier
	// Registry is served on /metrics. Nil means no /metrics.
	Registry *prometheus.Registry
	// Readiness is the start-up and shutdown state /readyz reports.
	Readiness *Readiness
	// Now is the clock that decides whether a retry time is still to
	// come. Nil means time.Now.
	Now func() time.Time
	// RequireKeys makes every path but /healthz, /readyz and /metrics
	// (that is the status page /, /tenants, POST /tenants/{tenant}/retry
	// and /debug/pprof/)
	// need Authorization: Bearer with an admin key; KeysRequired decides
	// it from the listener's address. False leaves every path open.
	RequireKeys bool
	// Keys are the admin keys accepted when RequireKeys is set. Nil means
	// XDRPROXY_ADMIN_KEYS_FILE is not set: the guarded paths answer 403.
	Keys *Keys
	// Version is the build's version, shown on the status page. Empty
	// means none is shown.
	Version string
	// RedisUp reports whether the fleet's Redis answers, shown on the
	// status page. Nil means no Redis is configured.
	RedisUp func() bool
}

// endpoints serves the admin listener's paths from its collaborators.
type endpoints struct {
	Options
}

// NewHandler returns the admin listener's handler: /healthz, /readyz,
// /metrics when o.Registry is set, the status page /, /tenants, the
// retry when o.Retrier is set and, with XDRPROXY_PPROF=true,
// /debug/pprof/; with o.RequireKeys, each but the first three asks for
// an admin key.
func NewHandler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	e := &endpoints{Options: o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", e.readyz)
	mux.HandleFunc("GET /{$}", e.statusPage)
	mux.HandleFunc("GET /tenants", e.tenants)
	if o.Retrier != nil {
		mux.HandleFunc("POST /tenants/{tenant}/retry", e.retry)
	}
	if o.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	}
	if o.Config.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return guard(o, mux)
}
