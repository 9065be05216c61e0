package proxy_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStreamedResponsesFlowAtOnce checks that what an upstream has sent
// of a stream reaches the client while the upstream is still sending:
// the upstream holds the rest back until the client has the first part.
func TestStreamedResponsesFlowAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, encoding string
		first, rest                 string
	}{
		{"chunked", "application/octet-stream", "", "first part;", "the rest"},
		{"server-sent events", "text/event-stream", "", "data: one\n\n", "data: two\n\n"},
		{"JSON through the link rewriter", "application/json", "", `{"value":[{"id":1},`, `{"id":2}]}`},
		{"gzip JSON through the decoder and the rewriter", "application/json", "gzip", `{"value":[{"id":1},`, `{"id":2}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clientHasFirst := make(chan struct{})
			released := make(chan bool, 1) // true: by the client, false: by the guard timer
			backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				var out io.Writer = w
				flush := func() { w.(http.Flusher).Flush() }
				if tc.encoding == "gzip" {
					w.Header().Set("Content-Encoding", "gzip")
					zw := gzip.NewWriter(w)
					defer zw.Close()
					out = zw
					flush = func() { zw.Flush(); w.(http.Flusher).Flush() }
				}
				io.WriteString(out, tc.first)
				flush()
				select {
				case <-clientHasFirst:
					released <- true
				case <-time.After(20 * time.Second):
					released <- false
				}
				io.WriteString(out, tc.rest)
			})
			s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
			req, _ := http.NewRequest("GET", s.proxyURL+"/api/stream", nil)
			req.Header.Set("X-Tenant-ID", "contoso")
			req.Header.Set("Accept-Encoding", "gzip") // set: the client's transport then leaves the body alone
			resp, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got := make([]byte, len(tc.first))
			if _, err := io.ReadFull(resp.Body, got); err != nil {
				t.Fatalf("first part: %v", err)
			}
			close(clientHasFirst)
			rest, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !<-released {
				t.Fatal("the first part reached the client only after the upstream gave up waiting: the stream was held back")
			}
			if body := string(got) + string(rest); body != tc.first+tc.rest {
				t.Errorf("body %q, want %q", body, tc.first+tc.rest)
			}
			if !bytes.Equal(got, []byte(tc.first)) || strings.Contains(resp.Header.Get("Content-Encoding"), "gzip") {
				t.Errorf("first part %q, Content-Encoding %q", got, resp.Header.Get("Content-Encoding"))
			}
		})
	}
}
