// Package proxy is xdrproxy's authenticating reverse proxy: an http.Handler
// that names the tenant of each request, attaches that tenant's access
// token and forwards the request to the one configured upstream, streaming
// both ways.
package proxy

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

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
	// Metrics, if not nil, receive the request metrics.
	Metrics *Metrics
	// Now is the clock of the rate limiter. Nil means time.Now.
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
}

// Handler is the reverse proxy. Create it with New.
type Handler struct {
	opts    Options
	log     *zap.Logger
	reverse *httputil.ReverseProxy
	origins map[string]*url.URL // route prefix → its upstream's scheme and host
	tenants atomic.Pointer[tenantConfig]
	keys    atomic.Pointer[clientKeys] // nil: no client authentication
	limits  *limiter

	draining  chan struct{} // closed by Drain
	drainOnce sync.Once
}

// bodyReadTimeout bounds reading a small body kept for a 401 retry.
const bodyReadTimeout = 30 * time.Second

// WriteShuttingDown answers 503 ShuttingDown, retry in a second (on
// another instance), and returns the error it wrote.
func WriteShuttingDown(w http.ResponseWriter) *Error {
	e := &Error{Status: http.StatusServiceUnavailable, Code: CodeShuttingDown, Message: "the proxy is shutting down; retry on another instance"}
	w.Header().Set("Retry-After", "1")
	WriteError(w, e)
	return e
}

// Drain makes requests queued for their rate limit give up with 503
// ShuttingDown, so that a shutdown is not held up by the queue.
func (h *Handler) Drain() { h.drainOnce.Do(func() { close(h.draining) }) }

// tenantConfig is the tenant set and default in force; replaced whole.
type tenantConfig struct {
	set *config.TenantSet
	def config.Tenant
}

// forwardKey is the context key under which ServeHTTP passes the resolved
// request to the Rewrite step.
type forwardKey struct{}

// forward is what ServeHTTP decided about a request.
type forward struct {
	target
	upstream   *url.URL // joined with target.path by SetURL
	route      string   // "default" or the route's prefix, for metrics
	scope      string
	token      string
	clientPath string // the path as the client sent it, for throttling holds
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
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Transport == nil {
		opts.Transport = NewTransport(210*time.Second, nil)
	}
	h := &Handler{opts: opts, log: opts.Logger, origins: map[string]*url.URL{}, draining: make(chan struct{})}
	h.tenants.Store(&tenantConfig{set: opts.Tenants, def: opts.DefaultTenant})
	h.SetClientKeys(opts.ClientKeys)
	h.limits = newLimiter(opts.RateLimits, opts.QueueTimeout, opts.Now)
	for _, r := range opts.Routes {
		if r.URL == nil || r.Scope == "" || r.Prefix == "" {
			return nil, fmt.Errorf("proxy: route %q needs a prefix, URL and scope", r.Prefix)
		}
		h.origins[r.Prefix] = &url.URL{Scheme: r.URL.Scheme, Host: r.URL.Host}
	}
	h.reverse = &httputil.ReverseProxy{
		Rewrite:        h.rewrite,
		Transport:      &retryOn401{h: h, next: opts.Transport},
		FlushInterval:  -1, // flush every write: streams and long responses flow at once
		BufferPool:     bufferPool{},
		ErrorHandler:   h.upstreamError,
		ModifyResponse: h.noteThrottling,
		ErrorLog:       zap.NewStdLog(opts.Logger.Named("reverseproxy")),
	}
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

// serve handles a request; pin is the tenant of a tenant listener, or "".
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, pin string) {
	if h.opts.Placeholders != nil {
		if name, ep := emulatedEndpoint(r.URL.Path); ep != notEmulated {
			h.serveEmulated(w, r, pin, name, ep)
			return
		}
	}
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	body := &countingBody{ReadCloser: r.Body}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = body
	}
	h.opts.Metrics.inflightAdd(1)
	var (
		tenant    config.Tenant
		route     = "none"
		cached    bool
		client    clientID // for the log
		tokenWait time.Duration
		queueWait time.Duration
		failure   error
	)
	defer func() {
		if p := recover(); p != nil {
			// ReverseProxy aborts the response when the upstream or the
			// client breaks off mid-body; log it as the failure it is.
			if p == http.ErrAbortHandler {
				failure = errors.New("response cut off mid-body: the upstream or the client closed the connection")
			} else {
				failure = fmt.Errorf("panic: %v", p)
			}
			h.finish(r, rec, tenant, route, client, cached, body.n.Load(), start, tokenWait, queueWait, failure)
			panic(p)
		}
		h.finish(r, rec, tenant, route, client, cached, body.n.Load(), start, tokenWait, queueWait, failure)
	}()

	who, aerr := h.authenticate(r)
	if aerr != nil {
		failure = aerr
		rec.Header().Set("WWW-Authenticate", `Bearer realm="xdrproxy"`)
		WriteError(rec, aerr)
		return
	}
	key, keyed := who.key, who.keyed
	if keyed {
		client.fingerprint = key.Fingerprint()
	}
	client.placeholder = who.placeholder != nil

	tc := h.tenants.Load()
	t, perr := resolveTarget(r, tc.set, tc.def, pin, who.placeholder)
	if keyed && !key.AllTenants && !limitedKeyMaySee(key, t, perr) {
		// A key limited to some tenants learns nothing about the others:
		// unknown, served elsewhere or in conflict all read the same.
		perr = keyMayNotUseTenant()
	}
	if perr != nil {
		failure = perr
		WriteError(rec, perr)
		return
	}
	tenant = t.tenant
	clientPath := t.path
	upstream, scope, routeName := h.route(&t)
	route = routeName

	wait, admitted, retryIn := h.limits.reserve(t.tenant.ID, clientPath, route)
	if admitted && wait > 0 {
		queueWait = wait
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-h.draining:
			timer.Stop()
			failure = WriteShuttingDown(rec)
			return
		case <-r.Context().Done():
			timer.Stop()
			failure = errors.New("client went away while queued for its rate limit")
			rec.status = statusClientClosed
			return
		}
		// An upstream 429 may have put a hold in place while we waited.
		if held := h.limits.heldFor(t.tenant.ID, clientPath, route); held > 0 {
			admitted, retryIn = false, held
		}
	}
	if !admitted {
		h.opts.Metrics.rateLimit(tenantLabel(t.tenant), route)
		e := &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited,
			Message: fmt.Sprintf("tenant %s is over its request rate for %s (Microsoft's published limit, or the upstream asked to slow down); retry in %s", t.tenant.Name(), clientPath, wholeSeconds(retryIn)+"s")}
		failure = e
		rec.Header().Set("Retry-After", wholeSeconds(retryIn))
		WriteError(rec, e)
		return
	}

	tokenStart := time.Now()
	tok, err := h.opts.Tokens.Token(r.Context(), t.tenant.ID, scope)
	tokenWait = time.Since(tokenStart)
	cached = tok.Cached
	if _, still := h.tenants.Load().set.Lookup(t.tenant.ID); err == nil && !still || errors.Is(err, tokencache.ErrTenantNotServed) {
		// The tenant was removed while this request waited.
		e := &Error{Status: http.StatusForbidden, Code: CodeTenantNotAllowed,
			Message: fmt.Sprintf("tenant %s is no longer served by this proxy", t.tenant.Name())}
		failure = e
		WriteError(rec, e)
		return
	}
	if keyed && (queueWait > 0 || tokenWait > time.Millisecond) {
		// The key may have been revoked, or its tenants narrowed, while
		// this request waited.
		again, aerr := h.authenticate(r)
		if aerr == nil && !again.key.Allows(t.tenant) {
			aerr = keyMayNotUseTenant()
		}
		if aerr != nil {
			failure = aerr
			WriteError(rec, aerr)
			return
		}
	}
	if err != nil {
		if r.Context().Err() != nil {
			failure = fmt.Errorf("client went away while waiting for a token: %w", err)
			rec.status = statusClientClosed
			return
		}
		e := h.tokenError(t.tenant, scope, err)
		failure = e
		WriteError(rec, e)
		return
	}

	// A small body is kept for a 401 retry; a client sending it slowly
	// must not hold the request for long.
	if replayable(r) {
		rc := http.NewResponseController(rec)
		_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
		keepReplayableBody(r)
		_ = rc.SetReadDeadline(time.Time{})
	}
	ctx := context.WithValue(r.Context(), forwardKey{}, &forward{target: t, upstream: upstream, route: route, scope: scope, token: tok.Value, clientPath: clientPath})
	h.reverse.ServeHTTP(rec, r.WithContext(ctx))
	if rec.proxyErr != nil {
		failure = rec.proxyErr
	}
}

// SetTenants replaces the tenants allowed through, for requests that start
// from now on. The default tenant is kept while the set still holds it.
func (h *Handler) SetTenants(set *config.TenantSet) {
	def := h.opts.DefaultTenant
	if t, ok := set.Lookup(def.ID); def.ID == "" || !ok || t != def {
		def = config.Tenant{}
	}
	h.tenants.Store(&tenantConfig{set: set, def: def})
}

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

// clientKeys are the client keys in force and, with token emulation, each
// key by the binding its placeholders carry; replaced whole.
type clientKeys struct {
	*config.ClientKeys
	byBinding map[[sha256.Size]byte]config.ClientKey
}

// Tenants returns the tenant set in force.
func (h *Handler) Tenants() *config.TenantSet { return h.tenants.Load().set }

// keyMayNotUseTenant is the one answer a key limited to some tenants gets
// for any other.
func keyMayNotUseTenant() *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeTenantNotAllowed,
		Message: "this client key may not use the tenant the request names; ask for it to be added to the key's line in XDRPROXY_CLIENT_KEYS_FILE"}
}

// limitedKeyMaySee reports whether a key limited to some tenants may be
// told the outcome of resolving its request: every tenant the request
// named is one the key may use. Otherwise it gets one 403 for all cases.
func limitedKeyMaySee(key config.ClientKey, t target, perr *Error) bool {
	switch {
	case perr == nil:
		return key.Allows(t.tenant) // every tenant named is this one
	case perr.Code == CodeMissingTenant || perr.Code == CodeInvalidPath:
		return true // nothing about any tenant
	case perr.Code != CodeInvalidTenant || len(t.named) < 2:
		return false // a tenant not known or not served
	}
	for _, n := range t.named { // a conflict between tenants
		if !key.Allows(n) {
			return false
		}
	}
	return true
}

// caller is who sent a request.
type caller struct {
	key   config.ClientKey // the client key, when keyed
	keyed bool             // false when no keys are configured
	// placeholder is the verified placeholder the request bears, or nil.
	placeholder *placeholder.Claims
}

// authenticate checks the request's bearer token. With token emulation,
// a token carrying the placeholder issuer must verify and stands for the
// client key it was obtained with. Otherwise, when keys are configured,
// it must be a client key (Authorization: Bearer <key>).
func (h *Handler) authenticate(r *http.Request) (caller, *Error) {
	keys := h.keys.Load()
	scheme, presented, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	presented = strings.TrimSpace(presented)
	bearer := strings.EqualFold(scheme, "Bearer") && presented != ""
	if h.opts.Placeholders != nil && bearer && strings.Count(presented, ".") == 2 {
		c, err := h.opts.Placeholders.Verify(presented)
		switch {
		case err == nil:
			who := caller{placeholder: &c}
			if keys == nil {
				return who, nil
			}
			if !c.HasClientKey {
				return caller{keyed: true}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
					Message: "the placeholder token was issued without a client key, and this proxy requires one: ask its token endpoint for a new token"}
			}
			k, ok := keys.byBinding[c.ClientKey]
			if !ok {
				return caller{keyed: true}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
					Message: "the client key this placeholder token was obtained with is no longer valid"}
			}
			who.key, who.keyed = k, true
			return who, nil
		case !errors.Is(err, placeholder.ErrNotPlaceholder):
			return caller{keyed: keys != nil}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
				Message: "the placeholder token is not valid here (expired, or not signed by this proxy's key): ask the proxy's token endpoint for a new one", Err: err}
		}
	}
	if keys == nil {
		return caller{}, nil
	}
	if !bearer {
		return caller{keyed: true}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
			Message: "this proxy requires a client key: send Authorization: Bearer <key>"}
	}
	k, ok := keys.Match(presented)
	if !ok {
		return caller{keyed: true}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
			Message: "the client key is not valid"}
	}
	return caller{key: k, keyed: true}, nil
}

// route picks the upstream and scope of t's path, rewriting the path for
// a route (its prefix replaced by the route URL's path).
func (h *Handler) route(t *target) (*url.URL, string, string) {
	r, fwd, ok := config.Match(h.opts.Routes, t.path)
	if !ok {
		return h.opts.Upstream, h.opts.Scope, "default"
	}
	t.path = fwd
	if t.rawPath != "" {
		if rr, fwdRaw, ok := config.Match(h.opts.Routes, t.rawPath); ok && rr.Prefix == r.Prefix {
			t.rawPath = fwdRaw
		} else {
			t.rawPath = ""
		}
	}
	return h.origins[r.Prefix], r.Scope, r.Prefix
}

// noteThrottling holds the tenant and prefix after an upstream 429 until
// its Retry-After has passed, so clients wait (or get the proxy's 429)
// instead of adding to the storm. The response goes back unchanged.
func (h *Handler) noteThrottling(resp *http.Response) error {
	if resp.StatusCode != http.StatusTooManyRequests {
		return nil
	}
	if f, ok := resp.Request.Context().Value(forwardKey{}).(*forward); ok {
		now := h.limits.now()
		key, _ := h.limits.holdKey(f.tenant.ID, f.clientPath, f.route)
		h.limits.hold(key, now.Add(retryAfter(resp.Header.Get("Retry-After"), now)))
	}
	return nil
}

// tokenError turns a failed acquisition into the client's 502.
func (h *Handler) tokenError(t config.Tenant, scope string, err error) *Error {
	msg := fmt.Sprintf("could not get an access token for tenant %s from Entra ID", t.Name())
	if len(h.opts.Routes) > 0 {
		msg += " (scope " + scope + ")" // with routes, say which API's consent or token failed
	}
	var ae *tokencache.AcquisitionError
	switch {
	case errors.As(err, &ae):
		if ae.Code() != 0 {
			msg += fmt.Sprintf(": AADSTS%d", ae.Code())
		}
		if ae.OAuthError != "" {
			msg += " (" + ae.OAuthError + ")"
		}
		msg += ": " + tokencache.WithoutCode(ae.Description)
		if hint := ae.Hint(); hint != "" {
			msg += " — " + hint
		}
		if ae.ConsentRequired() && h.opts.ConsentURL != nil {
			msg += "; admin-consent link: " + h.opts.ConsentURL(t.ID)
		}
	case errors.Is(err, context.DeadlineExceeded):
		msg += ": Entra ID did not answer in time"
	default:
		msg += ": " + err.Error()
	}
	var be *tokencache.BackoffError
	if errors.As(err, &be) {
		msg += fmt.Sprintf(" (remembered; next attempt in %s)", be.RetryIn.Round(time.Second))
	}
	return &Error{Status: http.StatusBadGateway, Code: CodeTokenAcquisitionFailed, Message: msg, Err: err}
}

// rewrite builds the outbound request. It runs after ReverseProxy has
// removed hop-by-hop headers, and SetURL fixes scheme, host and Host
// header to the upstream's, so nothing in the request can change where it
// goes.
func (h *Handler) rewrite(pr *httputil.ProxyRequest) {
	f := pr.In.Context().Value(forwardKey{}).(*forward)
	pr.Out.URL.Path, pr.Out.URL.RawPath = f.path, f.rawPath
	// ReverseProxy re-encodes queries holding ';' or a bare '%' before
	// Rewrite runs, dropping OData options like $expand=alerts($top=5;…).
	// The proxy never interprets the query: forward it byte for byte.
	pr.Out.URL.RawQuery = pr.In.URL.RawQuery
	pr.SetURL(f.upstream)
	hdr := pr.Out.Header
	hdr.Del(TenantHeader)
	hdr.Del("Proxy-Authorization")
	// The Defender APIs have no protocol upgrades; an upgraded connection
	// would be a raw tunnel carrying the tenant's token.
	hdr.Del("Upgrade")
	hdr.Del("Connection")
	hdr["Authorization"] = []string{"Bearer " + f.token}
}

// upstreamError answers a request the upstream could not serve.
func (h *Handler) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	rec, _ := w.(*recorder)
	if r.Context().Err() != nil {
		// The client went away; nobody is left to answer.
		if rec != nil {
			rec.proxyErr = fmt.Errorf("client went away: %w", err)
			rec.status = statusClientClosed
		}
		return
	}
	host := h.opts.Upstream.Host
	if f, ok := r.Context().Value(forwardKey{}).(*forward); ok {
		host = f.upstream.Host
	}
	var e *Error
	if isResponseHeaderTimeout(err) {
		msg := fmt.Sprintf("the upstream %s did not answer in time", host)
		if h.opts.UpstreamTimeout > 0 {
			msg = fmt.Sprintf("the upstream %s sent no response headers within %s (XDRPROXY_UPSTREAM_TIMEOUT)", host, h.opts.UpstreamTimeout)
		}
		e = &Error{Status: http.StatusGatewayTimeout, Code: CodeUpstreamTimeout, Message: msg, Err: err}
	} else {
		e = &Error{Status: http.StatusBadGateway, Code: CodeUpstreamUnavailable,
			Message: fmt.Sprintf("the upstream %s could not be reached", host), Err: err}
	}
	if rec != nil {
		rec.proxyErr = e
		if rec.wroteHeader {
			return // the response had started; the connection is cut instead
		}
	}
	WriteError(w, e)
}

// isResponseHeaderTimeout reports whether err is the transport's
// ResponseHeaderTimeout firing: the request was sent and the upstream was
// too slow. Timeouts while dialling or in the TLS handshake mean the
// upstream could not be reached, and are not this.
func isResponseHeaderTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout() &&
		strings.Contains(err.Error(), "timeout awaiting response headers")
}

// statusClientClosed is logged for requests whose client went away, as
// nginx does.
const statusClientClosed = 499

// bufferPool lends 32 KiB buffers to ReverseProxy's copy loops.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *(buffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }

// NewTransport returns the shared upstream transport: a keep-alive pool
// of HTTP/1.1 connections sized for a busy proxy, and
// responseHeaderTimeout as the longest wait for response headers. roots,
// when not nil, replaces the system's trusted CAs (tests, the demo).
//
// HTTP/1.1, not HTTP/2: measured with bench/run on 2 cores, a pool of
// HTTP/1.1 connections served 5,326 req/s at 64 connections against
// 4,439 over one multiplexed HTTP/2 connection (+20%), with 29 MiB peak
// RSS instead of 53.
func NewTransport(responseHeaderTimeout time.Duration, roots *x509.CertPool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment // egress proxies: HTTPS_PROXY, NO_PROXY, as for Entra ID
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = responseHeaderTimeout
	t.ForceAttemptHTTP2 = false
	t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // no HTTP/2
	t.TLSClientConfig = &tls.Config{
		RootCAs:            roots, // nil: the system's
		MinVersion:         tls.VersionTLS12,
		NextProtos:         []string{"http/1.1"},
		ClientSessionCache: tls.NewLRUClientSessionCache(256), // resume TLS sessions on reconnect
	}
	return t
}

// tenantLabel is the tenant's metrics label: its alias, else its GUID,
// else "none".
func tenantLabel(t config.Tenant) string {
	if t.ID == "" {
		return "none"
	}
	return t.Name()
}

// clientID is who sent a request, for the access log.
type clientID struct {
	fingerprint string // the client key's, or ""
	placeholder bool   // authenticated by a placeholder token
}

// finish records a request's metrics and writes its access-log line.
func (h *Handler) finish(r *http.Request, rec *recorder, tenant config.Tenant, route string, client clientID, cached bool, bytesIn int64, start time.Time, tokenWait, queueWait time.Duration, failure error) {
	h.opts.Metrics.inflightAdd(-1)
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	h.opts.Metrics.request(tenantLabel(tenant), route, status, time.Since(start))
	h.logAccess(r, rec, status, tenant, route, client, cached, bytesIn, start, tokenWait, queueWait, failure)
}

func (h *Handler) logAccess(r *http.Request, rec *recorder, status int, tenant config.Tenant, route string, client clientID, cached bool, bytesIn int64, start time.Time, tokenWait, queueWait time.Duration, failure error) {
	level := zapcore.InfoLevel
	if failure != nil && status != statusClientClosed && (status >= 500 || status < 300) {
		level = zapcore.WarnLevel // proxy failures, and responses cut off mid-body
	}
	ce := h.log.Check(level, "request")
	if ce == nil {
		return
	}
	fields := make([]zap.Field, 0, 16)
	if tenant.ID != "" {
		fields = append(fields, zap.String("tenant", tenant.Name()))
	}
	if client.fingerprint != "" {
		fields = append(fields, zap.String("client_key", client.fingerprint))
	}
	if client.placeholder {
		fields = append(fields, zap.Bool("placeholder", true))
	}
	fields = append(fields,
		zap.String("route", route),
		zap.String("method", r.Method),
		zap.String("path", r.URL.Path),
		zap.Int("status", status),
		zap.Int64("bytes_in", bytesIn),
		zap.Int64("bytes_out", rec.bytes),
		zap.Duration("duration", time.Since(start)),
		zap.Duration("token_wait", tokenWait),
		zap.Bool("token_cached", cached),
	)
	if queueWait > 0 {
		fields = append(fields, zap.Duration("queue_wait", queueWait))
	}
	if rid := rec.Header().Get("request-id"); rid != "" {
		fields = append(fields, zap.String("upstream_request_id", rid))
	} else if rid := rec.Header().Get("x-ms-request-id"); rid != "" {
		fields = append(fields, zap.String("upstream_request_id", rid))
	}
	if failure != nil {
		fields = append(fields, zap.String("error", failure.Error()))
		var pe *Error
		var ae *tokencache.AcquisitionError
		// An acquisition failure's message already holds its cause.
		if errors.As(failure, &pe) && pe.Err != nil && !errors.As(pe.Err, &ae) {
			fields = append(fields, zap.String("cause", pe.Err.Error()))
		}
	}
	ce.Write(fields...)
}

var _ http.Handler = (*Handler)(nil)
