package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/xdrproxy/xdrproxy/proxy"
)

// TenantRetrier acquires a tenant's tokens now, forgetting any remembered
// failure, here and across the fleet. *tokencache.Cache is one.
type TenantRetrier interface {
	Retry(ctx context.Context, tenantID string, scopes []string) error
}

// retryTimeout bounds one retry: longer than one acquisition may take.
const retryTimeout = 60 * time.Second

// retry serves POST /tenants/{tenant}/retry: the step after a customer's
// admin consents. It forgets the tenant's remembered failures, acquires
// its tokens now and answers the tenant's state as /tenants shows it:
// 200 when it holds a token for every API (and the required roles), 503
// with what is still missing otherwise, 404 for a tenant not served.
func (e *endpoints) retry(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("tenant")
	t, ok := e.Tenants.Tenants().Lookup(name)
	if !ok {
		proxy.WriteError(w, &proxy.Error{Status: http.StatusNotFound, Code: proxy.CodeInvalidTenant,
			Message: e.notServed(name)})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), retryTimeout)
	defer cancel()
	if err := e.Retrier.Retry(ctx, t.ID, e.Config.Scopes()); err != nil && r.Context().Err() != nil {
		return // the caller left
	}
	out := struct {
		tenantReport
		Ready    bool     `json:"ready"`
		Problems []string `json:"problems,omitempty"`
	}{tenantReport: e.tenantReport(t), Problems: e.tenantProblems(t)}
	out.Ready = len(out.Problems) == 0
	status := http.StatusOK
	if !out.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, out)
}

// writeJSON writes v as indented JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
