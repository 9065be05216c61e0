package proxy

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// maxReplayBody is the largest request body kept in memory so that a
// request refused with 401 can be sent again with a new token. Larger and
// streamed bodies are forwarded as they arrive and not retried.
const maxReplayBody = 64 << 10

// Invalidator drops a token the upstream refused and says whether the
// request may be retried with the next one. *tokencache.Cache implements
// it; a TokenSource without it gets no 401 retry.
type Invalidator interface {
	Invalidate(tenantID, scope, token string) bool
}

// replayable reports whether r has a small body of known length, which
// keepReplayableBody keeps.
func replayable(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength > 0 && r.ContentLength <= maxReplayBody
}

// keepReplayableBody reads a small body of known length into memory and
// sets GetBody, so the request can be sent a second time.
func keepReplayableBody(r *http.Request) {
	if !replayable(r) {
		return
	}
	buf := make([]byte, r.ContentLength)
	n, err := io.ReadFull(r.Body, buf)
	if err != nil {
		// A short body: forward what arrived, followed by the error, so
		// the upstream sees the same truncation the client caused.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(buf[:n]), errReader{err}))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(buf))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// retryOn401 is the upstream transport's wrapper: when the upstream
// refuses the tenant's token with 401, the token is dropped and a new one
// acquired; a replayable request is sent once more with it, any other gets
// the 401. It never retries twice.
type retryOn401 struct {
	h    *Handler
	next http.RoundTripper
}

func (t *retryOn401) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if f, ok := req.Context().Value(forwardKey{}).(*forward); ok && err == nil {
		t.h.opts.Metrics.upstreamTime(f.route, time.Since(start))
	}
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	f, ok := req.Context().Value(forwardKey{}).(*forward)
	inv, canInvalidate := t.h.opts.Tokens.(Invalidator)
	if !ok || !canInvalidate {
		return resp, nil
	}
	if !inv.Invalidate(f.tenant.ID, f.scope, f.token) {
		return resp, nil // refused too recently, or Entra ID is backing off
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable {
		t.h.log.Info("upstream refused the token; dropped it, but the request body was streamed and cannot be sent again",
			zap.String("tenant", f.tenant.Name()))
		return resp, nil
	}
	tok, terr := t.h.opts.Tokens.Token(req.Context(), f.tenant.ID, f.scope)
	if terr != nil || tok.Value == f.token {
		return resp, nil // no better token: the client gets the 401
	}
	// Keep the (small) 401 body and free its connection before retrying.
	first, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(first))
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		body, berr := req.GetBody()
		if berr != nil {
			return resp, nil
		}
		retry.Body = body
	}
	retry.Header["Authorization"] = []string{"Bearer " + tok.Value}
	second, err := t.next.RoundTrip(retry)
	if err != nil {
		return resp, nil // the first answer is still a true one
	}
	t.h.log.Info("upstream refused the token; retried once with a new one",
		zap.String("tenant", f.tenant.Name()), zap.Int("status", second.StatusCode))
	return second, nil
}
