package proxy

import (
	"io"
	"net/http"
	"sync/atomic"
)

// recorder wraps the client's ResponseWriter to learn the status and the
// bytes sent, for the access log. Unwrap lets http.ResponseController reach
// the underlying writer's Flush.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	proxyErr    error // set by the error handler
}

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		if status >= 200 || status == http.StatusSwitchingProtocols {
			r.wroteHeader = true
			r.status = status
		}
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wroteHeader {
		r.wroteHeader = true
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// countingBody counts the request body bytes read from the client.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64 // the transport may read the body on another goroutine
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
