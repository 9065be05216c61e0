package proxy

import (
	"context"
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
	"time"

	"go.uber.org/zap"
)

// forward is what the steps before forwarding decided about a request.
type forward struct {
	target
	upstream *url.URL // joined with target.path by SetURL
	route    string   // "default" or the route's prefix, for metrics
	scope    string
	token    string
	limit    Limit         // what an upstream 429 holds
	client   *http.Request // the request as the client sent it
	// links are the ways back through the proxy for the paging links of
	// the route's upstream.
	links []linkTarget
}

// forwardKey is the context key under which the forward step passes the
// resolved request to Rewrite, the transport and the response steps.
type forwardKey struct{}

// forwardOf returns the forward record of an outbound request, if any.
func forwardOf(r *http.Request) (*forward, bool) {
	f, ok := r.Context().Value(forwardKey{}).(*forward)
	return f, ok
}

// forwardContext is a request's context carrying its forward record
// under forwardKey. It lives in the request's exchange, so passing the
// record costs no allocation (context.WithValue and the record would
// take two); every other key, cancellation and deadline are its
// parent's.
type forwardContext struct {
	context.Context
	f forward
}

// String names the context without its record, which holds the tenant's
// token: a context printed with %v must not show it.
func (c *forwardContext) String() string { return "proxy.forwardContext" }

// Value returns the forward record for forwardKey, else the parent's value.
func (c *forwardContext) Value(key any) any {
	if key == (forwardKey{}) {
		return &c.f
	}
	return c.Context.Value(key)
}

// newReverseProxy builds the forwarding machinery: Rewrite for the
// outbound request, the 401-retrying transport, and the response steps.
func (h *Handler) newReverseProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:   h.rewrite,
		Transport: &retryOn401{h: h, next: h.opts.Transport},
		// Zero: a response of known length goes out as the server's
		// buffer fills and at its end, not one write (and one timer) at a
		// time. ReverseProxy still flushes every write of a stream: a
		// response without Content-Length (chunked, and every body the
		// paging rewriter streams) or of type text/event-stream.
		FlushInterval:  0,
		BufferPool:     bufferPool{},
		ErrorHandler:   h.upstreamError,
		ModifyResponse: h.modifyResponse,
		ErrorLog:       zap.NewStdLog(h.opts.Logger.Named("reverseproxy")),
	}
}

// forward sends the request upstream and streams the answer back. A
// small body is kept for a 401 retry; like any body, it is cut when it
// makes no progress for BodyIdleTimeout (clientbody.go).
func (h *Handler) forward(ex *exchange, r *http.Request, f forward) {
	keepReplayableBody(r)
	ex.fwd = forwardContext{Context: r.Context(), f: f}
	h.reverse.ServeHTTP(&ex.rec, r.WithContext(&ex.fwd))
	if ex.rec.proxyErr != nil {
		ex.failure = ex.rec.proxyErr
	}
	// The answer leaves now, not after the access log and metrics are
	// written: the write the server would make when the handler returns,
	// made earlier. An answer not begun (the client went away) is left
	// alone, as Flush would send a 200.
	if fl, ok := ex.rec.ResponseWriter.(http.Flusher); ok && ex.rec.wroteHeader {
		fl.Flush()
	}
}

// rewrite builds the outbound request. It runs after ReverseProxy has
// removed hop-by-hop headers, and SetURL fixes scheme, host and Host
// header to the upstream's, so nothing in the request can change where it
// goes.
func (h *Handler) rewrite(pr *httputil.ProxyRequest) {
	f, _ := forwardOf(pr.In)
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
	hdr["Authorization"] = h.bearers.header(f.tenant.ID, f.scope, f.token)
	// Only compressions the proxy can decode, so paging links in a
	// compressed answer can be rewritten (paging.go).
	if accept := hdr.Values("Accept-Encoding"); len(accept) > 0 {
		joined := strings.Join(accept, ",")
		switch narrowed, ok := decodableEncodings(joined); {
		case !ok:
			hdr.Del("Accept-Encoding")
		case len(accept) > 1 || narrowed != joined:
			hdr.Set("Accept-Encoding", narrowed)
		}
	}
}

// upstreamError answers a request the upstream could not serve.
func (h *Handler) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	rec, _ := w.(*recorder)
	if rec != nil && rec.body != nil {
		if e := rec.body.err.Load(); e != nil {
			// The client's body failed, not the upstream: say so.
			rec.proxyErr = e
			if !rec.wroteHeader {
				WriteError(w, e)
			}
			return
		}
	}
	if r.Context().Err() != nil {
		// The client went away; nobody is left to answer.
		if rec != nil {
			rec.proxyErr = fmt.Errorf("client went away: %w", err)
			rec.status = statusClientClosed
		}
		return
	}
	host := h.opts.Upstream.Host
	if f, ok := forwardOf(r); ok {
		host = f.upstream.Host
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		// A response step's own answer, such as a body it cannot decode.
	case isResponseHeaderTimeout(err):
		msg := fmt.Sprintf("the upstream %s did not answer in time", host)
		if h.opts.UpstreamTimeout > 0 {
			msg = fmt.Sprintf("the upstream %s sent no response headers within %s (XDRPROXY_UPSTREAM_TIMEOUT)", host, h.opts.UpstreamTimeout)
		}
		e = &Error{Status: http.StatusGatewayTimeout, Code: CodeUpstreamTimeout, Message: msg, Err: err}
	default:
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
// It asks for no compression of its own: the upstream sees the client's
// Accept-Encoding (narrowed by rewrite), or none. Go's default would ask
// for gzip when the client did not and decode the answer again: with an
// upstream that compresses, 174 µs of CPU per request instead of 100
// (one core, 64 connections), and answers of known length turned into
// chunked ones the client never asked for.
//
// HTTP/1.1, not HTTP/2: measured with bench/run on 2 cores, a pool of
// HTTP/1.1 connections served 5,326 req/s at 64 connections against
// 4,439 over one multiplexed HTTP/2 connection (+20%), with 29 MiB peak
// RSS instead of 53. Measured again with the proxy alone on one core at
// 64 connections, HTTP/2 depends on the server: to nginx over TLS it
// took 18% less CPU per request (59 against 72 µs for a small page, 8%
// less for 100 KB pages), to Go's own HTTP/2 server (the simulator) 8%
// more, with 11% fewer requests a second; at one connection, the same.
//
// No MaxConnsPerHost: over HTTP/1.1 it would be one queue for every
// tenant's requests, where a few slow ones (advanced hunting waits up to
// XDRPROXY_UPSTREAM_TIMEOUT) hold the rest back with no time limit. A
// tenant's requests upstream are bounded already (MaxUpstreamPerTenant):
// 1,000 simultaneous first requests for one tenant on new client
// connections opened 65 upstream connections; a cap of 16 opened 17
// and moved the herd's p99 by less than the spread between runs.
func NewTransport(responseHeaderTimeout time.Duration, roots *x509.CertPool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment // egress proxies: HTTPS_PROXY, NO_PROXY, as for Entra ID
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = responseHeaderTimeout
	t.DisableCompression = true
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
