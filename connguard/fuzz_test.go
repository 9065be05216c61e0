package connguard

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"testing"
)

// goFrame is how net/http's server frames one request of a stream.
type goFrame struct {
	header    int64 // offset just after the header block
	end       int64 // offset just after the body; -1 if it could not be read
	ambiguous bool
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// goFraming reads stream as net/http's server reads a connection (its
// 4 KiB read buffer, the CR and LF it skips after a POST, the protocol
// versions it serves) and returns the requests whose header block it
// accepts, up to the first it cannot read.
func goFraming(stream []byte) []goFrame {
	cr := &countingReader{r: bytes.NewReader(stream)}
	br := bufio.NewReaderSize(cr, 4096)
	pos := func() int64 { return cr.n - int64(br.Buffered()) }
	var frames []goFrame
	lastMethod := ""
	for {
		if lastMethod == "POST" {
			peek, _ := br.Peek(4)
			n := 0
			for n < len(peek) && (peek[n] == '\r' || peek[n] == '\n') {
				n++
			}
			br.Discard(n)
		}
		start := pos()
		req, err := http.ReadRequest(br)
		if err != nil {
			return frames
		}
		if req.ProtoMajor != 1 && !(req.Method == "PRI" && req.RequestURI == "*" && req.Proto == "HTTP/2.0") {
			return frames // 505
		}
		header := pos()
		frames = append(frames, goFrame{header: header, end: -1, ambiguous: ambiguousBlock(stream[start:header], req.ProtoAtLeast(1, 1))})
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return frames
		}
		frames[len(frames)-1].end = pos()
		lastMethod = req.Method
	}
}

// ambiguousBlock applies the rule Ambiguous documents to a header block
// as net/textproto reads it (net/http deletes the fields it acts on).
func ambiguousBlock(block []byte, http11 bool) bool {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(block)))
	if _, err := tp.ReadLine(); err != nil {
		panic(err)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		panic(err)
	}
	te, cl := len(h["Transfer-Encoding"]) > 0, len(h["Content-Length"]) > 0
	return te && (cl || !http11)
}

var framingSeeds = []string{
	"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
	"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
	"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"POST /a HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\nCONTENT-LENGTH: 5\r\ncontent-length: 5\r\n\r\n0\r\n\r\n",
	"POST /a HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.0\r\n\r\n",
	"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"POST /a HTTP/1.1\nHost: x\nContent-Length:\n 3\n\nabcPUT /b HTTP/1.1\nHost: x\nX-A: 1\n\tTransfer-Encoding: chunked\n\n",
	"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\nGET /x HTTP/1.1\r\nContent-L\r\n0\r\n\r\n",
	"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 \t\r\nabc\r\n0\r\n\r\n",
}

// FuzzFraming checks the watcher against net/http itself: for every
// request net/http's server would read from a stream, the watcher ends
// the header block and the body at the same offsets, and decides as the
// documented rule does on the header block net/http parsed.
func FuzzFraming(f *testing.F) {
	for i, s := range framingSeeds {
		f.Add([]byte(s), uint16(i*5))
	}
	f.Fuzz(func(t *testing.T, stream []byte, cut uint16) {
		if len(stream) > 64<<10 {
			return
		}
		want := goFraming(stream)
		var got []event
		fr := framing{observe: func(e event) { got = append(got, e) }}
		// Reads of any size: one byte at a time up to 64.
		for rest, size := stream, 1+int(cut)%64; len(rest) > 0; {
			n := min(size, len(rest))
			fr.feed(rest[:n])
			rest = rest[n:]
		}
		for i, w := range want {
			if len(got) == 0 || got[0].body {
				t.Fatalf("request %d: net/http reads its header block to %d, the watcher: %v", i, w.header, got)
			}
			if got[0].pos != w.header || got[0].ambiguous != w.ambiguous {
				t.Fatalf("request %d: net/http reads its header block to %d (ambiguous %v), the watcher to %d (%v)",
					i, w.header, w.ambiguous, got[0].pos, got[0].ambiguous)
			}
			if fr.next() != w.ambiguous {
				t.Fatalf("request %d: the queued decision is not the observed one", i)
			}
			got = got[1:]
			if w.end < 0 {
				return
			}
			if len(got) == 0 || !got[0].body || got[0].pos != w.end {
				t.Fatalf("request %d: net/http reads its body to %d, the watcher: %v", i, w.end, got)
			}
			got = got[1:]
		}
	})
}
