package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// exchange is one request as the access log and metrics see it: filled in
// by the steps as they learn about it, written once by finish.
type exchange struct {
	h     *Handler
	r     *http.Request
	rec   recorder
	body  clientBody
	fwd   forwardContext // the forwarded request's context (forward.go)
	start time.Time

	tenant    config.Tenant
	route     string
	client    clientID
	cached    bool
	tokenWait time.Duration
	queueWait time.Duration
	failure   error
}

// clientID is who sent a request, for the access log.
type clientID struct {
	fingerprint string // the client key's, or ""
	placeholder bool   // authenticated by a placeholder token
}

// statusClientClosed is logged for requests whose client went away, as
// nginx does.
const statusClientClosed = 499

// begin starts the record of a request and counts it in flight. Its
// finish must be deferred.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request) *exchange {
	ex := &exchange{h: h, r: r, start: time.Now(), route: "none"}
	ex.rec.ResponseWriter = w
	if r.Body != nil && r.Body != http.NoBody {
		ex.body = clientBody{ReadCloser: r.Body, rc: http.NewResponseController(w), want: r.ContentLength, idle: h.opts.BodyIdleTimeout}
		r.Body = &ex.body
		ex.rec.body = &ex.body
	}
	h.opts.Metrics.inflightAdd(1)
	return ex
}

// identify records who sent the request.
func (ex *exchange) identify(who caller) {
	if who.keyed {
		ex.client.fingerprint = who.key.Fingerprint()
	}
	ex.client.placeholder = who.placeholder != nil
}

// fail answers the request with err and records it; false when err is
// nil. A *Error is written to the client; any other error means the
// client went away and nobody is left to answer.
func (ex *exchange) fail(err error) bool {
	if err == nil {
		return false
	}
	ex.failure = err
	if e, ok := err.(*Error); ok {
		WriteError(&ex.rec, e)
	} else {
		ex.rec.status = statusClientClosed
	}
	return true
}

// finish records the request's metrics and writes its access-log line.
// Deferred, it also logs a panic as the failure it is and re-raises it.
func (ex *exchange) finish() {
	// Whatever the answer, the server must not then wait for the rest of
	// a body nobody will read.
	ex.body.stopReading()
	if p := recover(); p != nil {
		// ReverseProxy aborts the response when the upstream or the
		// client breaks off mid-body; log it as the failure it is.
		if p == http.ErrAbortHandler {
			ex.failure = errors.New("response cut off mid-body: the upstream or the client closed the connection")
		} else {
			ex.failure = fmt.Errorf("panic: %v", p)
		}
		ex.record()
		panic(p)
	}
	ex.record()
}

func (ex *exchange) record() {
	m := ex.h.opts.Metrics
	m.inflightAdd(-1)
	status := ex.rec.status
	if status == 0 {
		status = http.StatusOK
	}
	m.request(tenantLabel(ex.tenant), ex.route, status, time.Since(ex.start))
	ex.log(status)
}

// log writes the access-log line: info, or warn for the proxy's own
// failures and responses cut off mid-body.
func (ex *exchange) log(status int) {
	level := zapcore.InfoLevel
	if ex.failure != nil && status != statusClientClosed && (status >= 500 || status < 300) {
		level = zapcore.WarnLevel
	}
	ce := ex.h.log.Check(level, "request")
	if ce == nil {
		return
	}
	fp := logFields.Get().(*[]zap.Field)
	fields := *fp
	if ex.tenant.ID != "" {
		fields = append(fields, zap.String("tenant", ex.tenant.Name()))
	}
	if ex.client.fingerprint != "" {
		fields = append(fields, zap.String("client_key", ex.client.fingerprint))
	}
	if ex.client.placeholder {
		fields = append(fields, zap.Bool("placeholder", true))
	}
	fields = append(fields,
		zap.String("route", ex.route),
		zap.String("method", ex.r.Method),
		zap.String("path", ex.r.URL.Path),
		zap.Int("status", status),
		zap.Int64("bytes_in", ex.body.n.Load()),
		zap.Int64("bytes_out", ex.rec.bytes),
		zap.Duration("duration", time.Since(ex.start)),
		zap.Duration("token_wait", ex.tokenWait),
		zap.Bool("token_cached", ex.cached),
	)
	if ex.queueWait > 0 {
		fields = append(fields, zap.Duration("queue_wait", ex.queueWait))
	}
	// Canonical names: Get would allocate to canonicalize others.
	if rid := ex.rec.Header().Get("Request-Id"); rid != "" {
		fields = append(fields, zap.String("upstream_request_id", rid))
	} else if rid := ex.rec.Header().Get("X-Ms-Request-Id"); rid != "" {
		fields = append(fields, zap.String("upstream_request_id", rid))
	}
	if ex.failure != nil {
		fields = append(fields, zap.String("error", ex.failure.Error()))
		var pe *Error
		var ae *tokencache.AcquisitionError
		// An acquisition failure's message already holds its cause.
		if errors.As(ex.failure, &pe) && pe.Err != nil && !errors.As(pe.Err, &ae) {
			fields = append(fields, zap.String("cause", pe.Err.Error()))
		}
	}
	ce.Write(fields...)
	clear(fields) // hold on to no strings
	*fp = fields[:0]
	logFields.Put(fp)
}

// logFields lends access-log lines their field slices: zap is done with
// the fields when Write returns.
var logFields = sync.Pool{New: func() any { s := make([]zap.Field, 0, 20); return &s }}

// tenantLabel is the tenant's metrics label: its alias, else its GUID,
// else "none".
func tenantLabel(t config.Tenant) string {
	if t.ID == "" {
		return "none"
	}
	return t.Name()
}
