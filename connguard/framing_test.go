package connguard

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestFraming feeds streams to the watcher, whole and a byte at a time,
// and checks the decisions it queues and whether it lost the stream.
func TestFraming(t *testing.T) {
	const (
		get      = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
		chunked  = "5\r\nhello\r\n0\r\n\r\n"
		smuggled = "GET /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
	)
	for _, tt := range []struct {
		name, stream string
		want         []bool // the decisions queued, in order
		lost         bool
	}{
		{"one request", get, []bool{false}, false},
		{"pipelined", get + get + get, []bool{false, false, false}, false},
		{"Content-Length body", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + get, []bool{false, false}, false},
		{"chunked body, extensions, trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n00 \t\r\nX-T: 1\r\n\r\n" + get, []bool{false, false}, false},
		{"TE then CL", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + chunked + get, []bool{true, false}, false},
		{"CL then TE", "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, []bool{true}, false},
		{"lower case", "POST / HTTP/1.1\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n" + chunked, []bool{true}, false},
		{"upper case", "POST / HTTP/1.1\r\nCONTENT-LENGTH: 5\r\nTRANSFER-ENCODING: CHUNKED\r\n\r\n" + chunked, []bool{true}, false},
		{"two Content-Lengths", "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + chunked, []bool{true}, false},
		{"HTTP/1.0 with Transfer-Encoding", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + get, []bool{true, false}, false},
		{"HTTP/1.0 frames by Content-Length", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc" + get, []bool{true, false}, false},
		{"a folded line is not a field", "GET / HTTP/1.1\r\nX-A: 1\r\n Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n" + get, []bool{false, false}, false},
		{"a folded Content-Length value", "POST / HTTP/1.1\nContent-Length:\n\t 3\n\nabc" + get, []bool{false, false}, false},
		{"bare LF lines", "GET / HTTP/1.1\nHost: x\n\n" + get, []bool{false, false}, false},
		{"CR and LF skipped after a POST", "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\na\r\n\r\n" + get, []bool{false, false}, false},
		{"a header block inside chunk data", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(smuggled), smuggled) + get,
			[]bool{false, false}, false},
		{"Transfer-Encoding in a Content-Length body", "POST / HTTP/1.1\r\nContent-Length: 26\r\n\r\nTransfer-Encoding: chunked" + get, []bool{false, false}, false},
		{"a field without a colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n" + get, nil, true},
		{"a malformed request line", "GET /\r\n\r\n" + get, nil, true},
		{"an unknown version", "GET / HTTP/1.x\r\n\r\n", nil, true},
		{"a first line folded", "GET / HTTP/1.1\r\n X: 1\r\n\r\n", nil, true},
		{"a bad Content-Length", "POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\nhello" + get, nil, true},
		{"an empty Content-Length", "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n" + get, nil, true},
		{"a Content-Length too large", "POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", nil, true},
		{"a bad Content-Length beside chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: x\r\n\r\n" + chunked, nil, true},
		{"an unparsable chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" + get, []bool{false}, true},
		{"a space inside the chunk size line", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 ;x\r\nhello\r\n0\r\n\r\n" + get, []bool{false}, true},
		{"a chunk size of 17 digits", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000005\r\nhello\r\n0\r\n\r\n" + get, []bool{false}, true},
		{"a bare LF after a chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n" + get, []bool{false}, true},
		{"chunk data not followed by CRLF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n" + get, []bool{false}, true},
		{"a chunk size line too long", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;" + strings.Repeat("x", maxChunkLine) + "\r\nhello\r\n0\r\n\r\n" + get, []bool{false}, true},
		{"chunk overhead beyond its data", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("1;"+strings.Repeat("x", 1000)+"\r\na\r\n", 20) + "0\r\n\r\n" + get, []bool{false}, true},
		{"a header block too large", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxHeaderBlock) + "\r\n\r\n" + get, nil, true},
		{"a trailer too large", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + strings.Repeat("a", maxTrailer) + "\r\n\r\n" + get, []bool{false}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{len(tt.stream), 1} {
				var f framing
				for rest := tt.stream; len(rest) > 0; {
					n := min(size, len(rest))
					f.feed([]byte(rest[:n]))
					rest = rest[n:]
				}
				got := slices.Clone(f.queue[f.head:])
				if !slices.Equal(got, tt.want) || (f.phase == phaseLost) != tt.lost {
					t.Fatalf("reads of %d bytes: decisions %v, lost %v; want %v, lost %v", size, got, f.phase == phaseLost, tt.want, tt.lost)
				}
				for range got {
					f.next()
				}
				if !tt.lost && f.phase != phaseRequestLine {
					t.Errorf("reads of %d bytes: the stream ends in phase %d, not between requests", size, f.phase)
				}
				if f.next() != true {
					t.Error("with no decision queued, a request must count as ambiguous")
				}
			}
		})
	}
}

// A decision is queued as soon as the header block ends, before any of
// the body arrives: net/http hands the request to its handler then.
func TestFramingDecidesAtTheEndOfTheHeader(t *testing.T) {
	var f framing
	f.feed([]byte("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"))
	if len(f.queue) != 1 || !f.next() {
		t.Fatalf("queue %v after the header block", f.queue)
	}
	f.feed([]byte("0\r\n\r\nGET / HTTP/1.1\r\n\r\n"))
	if f.next() != false {
		t.Error("the next request's decision")
	}
}
