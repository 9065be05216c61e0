// Package proxy is xdrproxy's authenticating reverse proxy: an http.Handler
// that names the tenant of each request, attaches that tenant's access
// token and forwards the request to the one configured upstream, streaming
// both ways.
//
// A request walks a short sequence of steps, each in its own file:
// authenticate (authenticate.go) → admit and resolve the tenant
// (tenant.go) → pick the route and limit (routes.go) → wait for the limit
// (limit.go) → get the token (token.go) → forward (forward.go) → the
// upstream's response on its way back (response.go) → log (exchange.go).
// Token emulation for legacy tools answers Entra ID's own endpoints
// instead (emulation.go).
package proxy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/proxy/placeholder"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// TokenSource gives the access token for a tenant and scope.
// *tokencache.Cache is the production one.
type TokenSource interface {
	Token(ctx context.Context, tenantID, scope string) (tokencache.Token, error)
}

// Options configure a Handler.
type Options struct {
	// Upstream is where every request goes. Required.
	Upstream *url.URL
	// Scope is the scope of the tokens attached. Required.
	Scope string
	// Tenants are the tenants allowed through. Nil allows none.
	Tenants *config.TenantSet
	// DefaultTenant serves requests that name no tenant. The zero value
	// means such requests are refused with MissingTenant.
	DefaultTenant config.Tenant
	// Routes send path prefixes to other upstreams with their own scope,
	// longest prefix first (config.ParseRoutes orders them). Empty means
	// every request goes to Upstream.
	Routes []config.Route
	// RateLimits are the per-tenant limits by path prefix (longest
	// first, as config orders them). Empty means no limit of the proxy's
	// own; holds from an upstream 429's Retry-After apply regardless.
	RateLimits []config.RateLimit
	// QueueTimeout is the longest a request waits for its tenant's limit
	// (or an upstream hold) before 429 RateLimited. Zero refuses at once.
	QueueTimeout time.Duration
	// Limiter admits requests under RateLimits and upstream holds. Nil
	// means one kept in this process, with QueueTimeout and Now.
	Limiter Limiter
	// Metrics, if not nil, receive the request metrics.
	Metrics *Metrics
	// Now is the clock of the rate limiter and of minted placeholders.
	// Nil means time.Now.
	Now func() time.Time
	// ClientKeys, if not nil, are required of every client
	// (Authorization: Bearer <key>), each limited to its tenants. Nil
	// means clients are not authenticated.
	ClientKeys *config.ClientKeys
	// Tokens gives the tokens. Required.
	Tokens TokenSource
	// Transport sends requests upstream. Nil means NewTransport(210s, nil).
	Transport http.RoundTripper
	// Logger receives the access log and errors. Nil means no logging.
	Logger *zap.Logger
	// ConsentURL, if set, returns the admin-consent link for a tenant; it
	// is added to TokenAcquisitionFailed messages that need consent.
	ConsentURL func(tenantID string) string
	// UpstreamTimeout is only used in error messages (the Transport
	// enforces it). Zero means the message names no duration.
	UpstreamTimeout time.Duration
	// Placeholders, if not nil, turns token emulation on: the handler
	// answers Entra ID's token and discovery endpoints with placeholders
	// this Signer mints, and takes a valid placeholder as the bearer
	// token in place of a client key. Its clock should be Now.
	Placeholders *placeholder.Signer
	// BodyIdleTimeout is the longest a request body may make no progress
	// before the request is cut (408). Zero means DefaultBodyIdleTimeout.
	BodyIdleTimeout time.Duration
	// MaxUpstreamPerTenant bounds a tenant's requests upstream at once;
	// beyond it a request waits up to QueueTimeout for a slot, then gets
	// 429. Zero means DefaultMaxUpstreamPerTenant.
	MaxUpstreamPerTenant int
	// TenantsSource names where Tenants come from, such as
	// "XDRPROXY_TENANTS_FILE (/etc/xdrproxy/tenants)", in the messages
	// that refuse a tenant the proxy does not serve: what the operator
	// edits. Empty means XDRPROXY_TENANTS.
	TenantsSource string
	// AuthorityHost is Entra ID's base URL, named in the message that
	// tells a client sending a domain name how to find the tenant's GUID.
	// Nil means https://login.microsoftonline.com.
	AuthorityHost *url.URL
	// PublicURL, if not nil, is the origin clients reach the proxy at
	// (scheme and host): discovery documents and rewritten paging links
	// name it. Nil means each request's own scheme and Host, as the
	// proxy saw the connection.
	PublicURL *url.URL
}

// Handler is the reverse proxy. Create it with New.
type Handler struct {
	opts    Options
	log     *zap.Logger
	now     func() time.Time
	reverse *httputil.ReverseProxy
	limits  Limiter
	// served is the configuration requests are served with: tenants,
	// default tenant, routes and limits, compiled once and replaced whole.
	served  atomic.Pointer[servedConfig]
	keys    atomic.Pointer[clientKeys] // nil: no client authentication
	slots   upstreamSlots              // each tenant's requests upstream at once
	rules   ruleCache                  // compiled paging-link rules
	bearers *bearerTable               // Authorization headers of recent tokens

	draining  chan struct{} // closed by Drain
	drainOnce sync.Once
}

// New returns a Handler. It fails if a required option is missing.
func New(opts Options) (*Handler, error) {
	if opts.Upstream == nil || opts.Scope == "" || opts.Tokens == nil {
		return nil, errors.New("proxy: Options needs Upstream, Scope and Tokens")
	}
	if d := opts.DefaultTenant; d.ID != "" {
		if t, ok := opts.Tenants.Lookup(d.ID); !ok || t != d {
			return nil, fmt.Errorf("proxy: default tenant %s is not one of Tenants", d.ID)
		}
	}
	routes, err := compileRoutes(opts.Upstream, opts.Scope, opts.Routes, opts.RateLimits)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Transport == nil {
		opts.Transport = NewTransport(210*time.Second, nil)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BodyIdleTimeout == 0 {
		opts.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if opts.MaxUpstreamPerTenant == 0 {
		opts.MaxUpstreamPerTenant = DefaultMaxUpstreamPerTenant
	}
	h := &Handler{opts: opts, log: opts.Logger, now: opts.Now, limits: opts.Limiter, draining: make(chan struct{}), slots: upstreamSlots{max: opts.MaxUpstreamPerTenant},
		bearers: newBearerTable()}
	if h.limits == nil {
		h.limits = newLocalLimiter(opts.QueueTimeout, opts.Now)
	}
	served := &servedConfig{tenants: opts.Tenants, def: opts.DefaultTenant, routes: routes,
		tenantsSource: opts.TenantsSource, authority: "https://login.microsoftonline.com"}
	if served.tenantsSource == "" {
		served.tenantsSource = config.Prefix + "_TENANTS"
	}
	if opts.AuthorityHost != nil {
		served.authority = strings.TrimSuffix(opts.AuthorityHost.String(), "/")
	}
	h.served.Store(served)
	h.SetClientKeys(opts.ClientKeys)
	h.reverse = h.newReverseProxy()
	return h, nil
}

// ServeHTTP resolves the tenant, gets its token and forwards the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.serve(w, r, "") }

// ForTenant returns the handler of a tenant listener: every request is
// for tenant (a GUID or alias, looked up again for each request), and a
// request naming another tenant is refused with InvalidTenant. Client
// keys apply as on the main listener.
func (h *Handler) ForTenant(tenant string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, tenant) })
}

// Drain makes requests queued for their rate limit give up with 503
// ShuttingDown, so that a shutdown is not held up by the queue.
func (h *Handler) Drain() { h.drainOnce.Do(func() { close(h.draining) }) }

// SetTenants replaces the tenants allowed through, for requests that start
// from now on. The default tenant is kept while the set still holds it.
func (h *Handler) SetTenants(set *config.TenantSet) {
	old := h.served.Load()
	def := h.opts.DefaultTenant
	if t, ok := set.Lookup(def.ID); def.ID == "" || !ok || t != def {
		def = config.Tenant{}
	}
	next := *old
	next.tenants, next.def = set, def
	h.served.Store(&next)
}

// Tenants returns the tenant set in force.
func (h *Handler) Tenants() *config.TenantSet { return h.served.Load().tenants }

// SetClientKeys replaces the client keys, for requests that start from now
// on. A key removed stops working at once. It cannot turn authentication
// off: nil is ignored when keys were configured.
func (h *Handler) SetClientKeys(keys *config.ClientKeys) {
	if keys == nil {
		return
	}
	ck := &clientKeys{ClientKeys: keys}
	if h.opts.Placeholders != nil {
		ck.byBinding = map[[sha256.Size]byte]config.ClientKey{}
		for _, k := range keys.All() {
			ck.byBinding[h.opts.Placeholders.Bind(k.Hash)] = k
		}
	}
	h.keys.Store(ck)
}

// servedConfig is the configuration in force for a request: read once at
// its start, so a reload never changes it half-way.
type servedConfig struct {
	tenants *config.TenantSet
	def     config.Tenant // the zero Tenant: none
	routes  *routeTable
	// tenantsSource and authority are Options.TenantsSource and
	// AuthorityHost, for messages, with their defaults applied.
	tenantsSource, authority string
}

// clientKeys are the client keys in force and, with token emulation, each
// key by the binding its placeholders carry; replaced whole.
type clientKeys struct {
	*config.ClientKeys
	byBinding map[[sha256.Size]byte]config.ClientKey
}

var _ http.Handler = (*Handler)(nil)
