package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// A client can hold nothing it has not paid for: the proxy never waits
// for a body it will not use, and a body that stops coming is cut.

// DefaultBodyIdleTimeout is how long a forwarded request body may make no
// progress before the request is cut (XDRPROXY_BODY_IDLE_TIMEOUT).
const DefaultBodyIdleTimeout = 60 * time.Second

// tokenFormTimeout bounds reading a token request's form, whole.
var tokenFormTimeout = 10 * time.Second

// clientBody is a request body as read from the client. It counts the
// bytes, knows whether the client sent all of it, and, with idle set,
// cuts a body that makes no progress for that long (a read deadline on
// the connection before each read). The transport reads it on its own
// goroutine, hence the atomics.
type clientBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	want int64         // the declared length, or -1
	idle time.Duration // zero: no idle cut
	// whole, when set, is the time the whole body was given (readWithin).
	whole time.Duration
	n     atomic.Int64
	done  atomic.Bool // the client sent the whole body
	err   atomic.Pointer[Error]
}

func (b *clientBody) Read(p []byte) (int, error) {
	if b.idle > 0 {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	n, err := b.ReadCloser.Read(p)
	total := b.n.Add(int64(n))
	switch {
	case err == io.EOF || err == nil && total == b.want:
		b.complete()
	case err != nil:
		b.err.CompareAndSwap(nil, b.failure(err))
	}
	return n, err
}

// complete records that the whole body arrived and lifts the deadline.
func (b *clientBody) complete() {
	if !b.done.Swap(true) && (b.idle > 0 || b.whole > 0) {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
}

// readWithin gives the whole body d to arrive, instead of an idle cut:
// for token forms, which are small.
func (b *clientBody) readWithin(d time.Duration) {
	if b.pending() {
		b.idle, b.whole = 0, d
		_ = b.rc.SetReadDeadline(time.Now().Add(d))
	}
}

// failure is the answer for a body the client did not send properly.
func (b *clientBody) failure(err error) *Error {
	var netErr net.Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &netErr) && netErr.Timeout() && b.whole > 0:
		return &Error{Status: http.StatusRequestTimeout, Code: CodeInvalidRequest, Err: err,
			Message: fmt.Sprintf("the request body did not arrive within %s", b.whole)}
	case errors.As(err, &netErr) && netErr.Timeout():
		return &Error{Status: http.StatusRequestTimeout, Code: CodeInvalidRequest, Err: err,
			Message: fmt.Sprintf("the request body made no progress for %s (XDRPROXY_BODY_IDLE_TIMEOUT): the request was cut", b.idle)}
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeInvalidRequest, Err: err,
			Message: fmt.Sprintf("the request body is over %d bytes", tooBig.Limit)}
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Err: err,
		Message: "the request body could not be read (malformed chunked encoding, or the client stopped sending): the request was not forwarded whole"}
}

// pending reports whether the client declared a body and has not sent
// all of it: an answer then closes the connection instead of waiting
// for the rest.
func (b *clientBody) pending() bool {
	return b != nil && b.rc != nil && !b.done.Load()
}

// stopReading makes any further read of the body, such as the server's
// drain after the handler, fail at once.
func (b *clientBody) stopReading() {
	if b.pending() {
		_ = b.rc.SetReadDeadline(time.Now())
	}
}
