package connguard

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// forEachTransport runs test over a plain and over a TLS server.
func forEachTransport(t *testing.T, o serverOptions, test func(t *testing.T, s *testServer)) {
	for _, useTLS := range []bool{false, true} {
		name := "plain"
		if useTLS {
			name = "TLS"
		}
		t.Run(name, func(t *testing.T) {
			o := o
			o.tls = useTLS
			test(t, startServer(t, o))
		})
	}
}

// A request with both Content-Length and Transfer-Encoding, in any
// spelling, is answered 400 and its connection closed; neither it nor
// the request pipelined after it reaches the handler.
func TestAmbiguousRequestsAreRefused(t *testing.T) {
	const (
		body = "5\r\nhello\r\n0\r\n\r\n"
		next = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	)
	forEachTransport(t, serverOptions{}, func(t *testing.T, s *testServer) {
		for _, tt := range []struct{ name, proto, fields string }{
			{"Transfer-Encoding then Content-Length", "HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 5"},
			{"Content-Length then Transfer-Encoding", "HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked"},
			{"lower case", "HTTP/1.1", "transfer-encoding: chunked\r\ncontent-length: 5"},
			{"upper case", "HTTP/1.1", "TRANSFER-ENCODING: CHUNKED\r\nCONTENT-LENGTH: 5"},
			{"mixed case", "HTTP/1.1", "Content-length: 5\r\ntransfer-Encoding: Chunked"},
			{"two Content-Lengths", "HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\nContent-Length: 5"},
			{"two different Content-Lengths (net/http refuses them)", "HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\nContent-Length: 6"},
			{"HTTP/1.0", "HTTP/1.0", "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 5"},
			{"HTTP/1.0 with Transfer-Encoding alone", "HTTP/1.0", "Connection: keep-alive\r\nTransfer-Encoding: chunked"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := s.dial(t)
				exchange(t, c, "POST /api/x "+tt.proto+"\r\nHost: x\r\n"+tt.fields+"\r\n\r\n"+body+next, 400)
				if seen := s.served(); len(seen) > 0 {
					t.Errorf("the handler was reached: %v", seen)
				}
			})
		}
	})
}

// Requests whose framing is plain are served, pipelined ones included,
// however much their bodies look like requests.
func TestUnambiguousRequestsAreServed(t *testing.T) {
	const last = "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	inner := "GET /inner HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	forEachTransport(t, serverOptions{}, func(t *testing.T, s *testServer) {
		for _, tt := range []struct {
			name, first string
			firstBody   string // the handler's answer to the first request, less the scheme
		}{
			{"chunked", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n", "POST /a 5"},
			{"a header block inside chunk data", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
				fmt.Sprintf("%x\r\n%s\r\n", len(inner), inner) + "0\r\n\r\n", fmt.Sprintf("POST /a %d", len(inner))},
			{"Transfer-Encoding inside a Content-Length body", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: " +
				fmt.Sprint(len(inner)) + "\r\n\r\n" + inner, fmt.Sprintf("POST /a %d", len(inner))},
			{"a folded Transfer-Encoding line", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Note: a\r\n Transfer-Encoding: chunked\r\n\r\nhello", "POST /a 5"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := s.dial(t)
				bodies := exchange(t, c, tt.first+last, 200, 200)
				scheme := " http"
				if s.client != nil {
					scheme = " https"
				}
				if want := []string{tt.firstBody + scheme, "GET /last 0" + scheme}; !slices.Equal(bodies, want) {
					t.Errorf("answers %q, want %q", bodies, want)
				}
				if seen, want := s.served(), []string{"POST /a", "GET /last"}; !slices.Equal(seen, want) {
					t.Errorf("the handler saw %v, want %v", seen, want)
				}
			})
		}
		t.Run("keep-alive", func(t *testing.T) {
			c := s.dial(t)
			get := "GET /k HTTP/1.1\r\nHost: x\r\n\r\n"
			exchange(t, c, strings.Repeat(get, 20)+last, slices.Repeat([]int{200}, 21)...)
		})
	})
}
