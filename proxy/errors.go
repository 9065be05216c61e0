package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// Error codes the proxy itself answers with, from the operating contract.
const (
	CodeMissingTenant          = "MissingTenant"
	CodeInvalidTenant          = "InvalidTenant"
	CodeTenantNotAllowed       = "TenantNotAllowed"
	CodeUnauthenticated        = "Unauthenticated"
	CodeRateLimited            = "RateLimited"
	CodeInvalidPath            = "InvalidPath"
	CodeMethodNotAllowed       = "MethodNotAllowed"
	CodeTokenAcquisitionFailed = "TokenAcquisitionFailed"
	CodeUpstreamUnavailable    = "UpstreamUnavailable"
	CodeUpstreamTimeout        = "UpstreamTimeout"
	CodeShuttingDown           = "ShuttingDown"
	// CodeInvalidRequest is a request whose framing or body the client
	// got wrong: both Content-Length and Transfer-Encoding, a malformed
	// or stalled body. Not in the contract's table, which lists no code
	// for these 400s.
	CodeInvalidRequest = "InvalidRequest"
)

// Error is an error the proxy answers a client with. Code and Message go to
// the client; Err goes only to the log.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is the public error code, such as "InvalidTenant".
	Code string
	// Message tells the client what is wrong and what to fix.
	Message string
	// Err is the internal cause, logged but never sent. It may be nil.
	Err error
	// RetryAfter, when not empty, is sent as the Retry-After header: whole
	// seconds.
	RetryAfter string
}

// Error returns the public code and message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// errorBody is Microsoft's API error shape.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError writes e as {"error":{"code":…,"message":…}} with its status.
func WriteError(w http.ResponseWriter, e *Error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // keep & in consent links pasteable
	_ = enc.Encode(errorBody{Error: errorDetail{Code: e.Code, Message: e.Message}})
	h := w.Header()
	if e.RetryAfter != "" {
		h.Set("Retry-After", e.RetryAfter)
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	// Its length, so that the answer is not chunked when the handler has
	// flushed before (a forwarded request's error answers).
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body.Bytes())
}

// WriteShuttingDown answers 503 ShuttingDown, retry in a second (on
// another instance), and returns the error it wrote.
func WriteShuttingDown(w http.ResponseWriter) *Error {
	e := errShuttingDown()
	WriteError(w, e)
	return e
}

func errShuttingDown() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeShuttingDown, RetryAfter: "1",
		Message: "the proxy is shutting down; retry on another instance"}
}
