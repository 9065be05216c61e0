package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// adminState is what the admin listener reports on.
type adminState struct {
	cfg      *config.Config
	handler  *proxy.Handler
	cache    *tokencache.Cache
	registry *prometheus.Registry
	ready    *atomic.Bool // the start-up warm-up has tried every tenant
	draining *atomic.Bool
	now      func() time.Time // nil means time.Now
}

// adminMux serves /healthz, /readyz, /metrics, /tenants and, with
// XDRPROXY_PPROF=true, /debug/pprof/.
func adminMux(a adminState) http.Handler {
	if a.now == nil {
		a.now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.HandleFunc("GET /tenants", a.tenants)
	if a.registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry}))
	}
	if a.cfg != nil && a.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// readyz is 503 while warming up or draining, and, when
// XDRPROXY_REQUIRED_ROLES is set, until every tenant holds tokens that
// carry those roles (between them, across the APIs).
func (a adminState) readyz(w http.ResponseWriter, r *http.Request) {
	switch {
	case a.draining.Load():
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	case !a.ready.Load():
		http.Error(w, "warming up: acquiring tenant tokens", http.StatusServiceUnavailable)
		return
	}
	if len(a.cfg.RequiredRoles) > 0 {
		var missing []string
		for _, t := range a.handler.Tenants().All() {
			var roles []string
			for _, scope := range a.cfg.Scopes() {
				if st, ok := a.cache.Status(tokencache.Key{TenantID: t.ID, Scope: scope}); ok && st.HasToken {
					roles = append(roles, st.Roles...)
				}
			}
			for _, want := range a.cfg.RequiredRoles {
				if !slices.Contains(roles, want) {
					missing = append(missing, t.Name()+": "+want)
				}
			}
		}
		if len(missing) > 0 {
			http.Error(w, "tenants without a token carrying XDRPROXY_REQUIRED_ROLES: "+strings.Join(missing, ", "), http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprintln(w, "ready")
}

// tenantReport is one tenant in /tenants. It never holds a token.
type tenantReport struct {
	TenantID string        `json:"tenant_id"`
	Alias    string        `json:"alias,omitempty"`
	Scopes   []scopeReport `json:"scopes"`
}

type scopeReport struct {
	Scope     string       `json:"scope"`
	State     string       `json:"state"` // valid, failing (token still valid), failed, none
	Expires   *time.Time   `json:"expires,omitempty"`
	RefreshAt *time.Time   `json:"refresh_at,omitempty"`
	Roles     []string     `json:"roles,omitempty"`
	LastError *errorReport `json:"last_error,omitempty"`
	RetryAt   *time.Time   `json:"retry_at,omitempty"`
}

type errorReport struct {
	Class           string `json:"class"`
	Code            int    `json:"aadsts,omitempty"`
	Message         string `json:"message"`
	Hint            string `json:"hint,omitempty"`
	AdminConsentURL string `json:"admin_consent_url,omitempty"`
}

// tenants serves every tenant's token state, per scope.
func (a adminState) tenants(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Tenants []tenantReport `json:"tenants"`
	}{Tenants: []tenantReport{}}
	for _, t := range a.handler.Tenants().All() {
		tr := tenantReport{TenantID: t.ID, Alias: t.Alias}
		for _, scope := range a.cfg.Scopes() {
			sr := scopeReport{Scope: scope, State: "none"}
			st, ok := a.cache.Status(tokencache.Key{TenantID: t.ID, Scope: scope})
			if ok {
				if st.HasToken {
					sr.State = "valid"
					exp, ref := st.ExpiresOn.UTC().Truncate(time.Second), st.RefreshAt.UTC().Truncate(time.Second)
					roles := append([]string(nil), st.Roles...)
					sort.Strings(roles)
					sr.Expires, sr.RefreshAt, sr.Roles = &exp, &ref, roles
				}
				if st.LastError != nil {
					sr.State = map[bool]string{true: "failing", false: "failed"}[st.HasToken]
					sr.LastError = a.diagnose(t, st.LastError)
					if st.RetryAt.After(a.now()) {
						at := st.RetryAt.UTC().Truncate(time.Second)
						sr.RetryAt = &at
					}
				}
			}
			tr.Scopes = append(tr.Scopes, sr)
		}
		out.Tenants = append(out.Tenants, tr)
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(out)
}

func (a adminState) diagnose(t config.Tenant, err error) *errorReport {
	er := &errorReport{Class: string(tokencache.ClassUnknown), Message: err.Error()}
	var ae *tokencache.AcquisitionError
	if errors.As(err, &ae) {
		er.Class, er.Code, er.Message, er.Hint = string(ae.Class()), ae.Code(), ae.Description, ae.Hint()
		if ae.ConsentRequired() {
			er.AdminConsentURL = tokencache.AdminConsentURL(a.cfg.AuthorityHost, a.cfg.ClientID, t.ID)
		}
	}
	return er
}
