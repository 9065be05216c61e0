package proxy

import "net/http"

// recorder wraps the client's ResponseWriter to learn the status and the
// bytes sent, for the access log. Unwrap lets http.ResponseController reach
// the underlying writer's Flush.
type recorder struct {
	http.ResponseWriter
	body        *clientBody // the request's, or nil without one
	status      int
	bytes       int64
	wroteHeader bool
	proxyErr    error // set by the error handler
}

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		if status >= 200 {
			// Not on a relayed 100 Continue: the client is about to send.
			r.closeIfBodyPending()
		}
		if status >= 200 || status == http.StatusSwitchingProtocols {
			r.wroteHeader = true
			r.status = status
		}
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wroteHeader {
		r.closeIfBodyPending()
		r.wroteHeader = true
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// closeIfBodyPending answers with Connection: close when the client has
// not sent its whole body: Go's server would otherwise read (and wait
// for) the rest before writing the answer.
func (r *recorder) closeIfBodyPending() {
	if r.body.pending() {
		r.Header().Set("Connection", "close")
	}
}
