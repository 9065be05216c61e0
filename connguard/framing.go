package connguard

// The bounds of what the framing watcher follows. Each is at least what
// net/http's server accepts, so that a stream net/http follows is never
// lost; beyond it net/http refuses the request and closes the connection
// itself.
const (
	// maxHeaderBlock bounds a request line and its header fields
	// together. net/http refuses more than http.Server.MaxHeaderBytes
	// plus 4 KiB (68 KiB for this proxy's 64 KiB).
	maxHeaderBlock = 128 << 10
	// maxChunkLine bounds a chunk-size line, CRLF included: net/http
	// reads it whole in its 4 KiB read buffer.
	maxChunkLine = 4096
	// maxTrailer bounds the trailer fields after the last chunk: net/http
	// wants their end within its 4 KiB read buffer.
	maxTrailer = 4096
	// maxExcess is the chunk overhead (size lines and extensions) beyond
	// what the data earns that net/http tolerates before refusing the
	// body.
	maxExcess = 16 << 10
)

// phase is where in a request the next byte of the stream falls.
type phase uint8

const (
	phaseRequestLine phase = iota
	phaseFields            // header fields, up to the blank line
	phaseBody              // a Content-Length body
	phaseChunkLine         // chunk size, extensions, CRLF
	phaseChunkData         // a chunk's data
	phaseChunkEnd          // the CRLF after a chunk's data
	phaseTrailer           // trailer fields after the last chunk
	phaseLost              // the watcher can no longer follow the stream
)

// framing follows the requests of one connection's plaintext as net/http's
// server reads them (request line, header fields to the blank line, then a
// chunked body when an HTTP/1.1 request has Transfer-Encoding, else
// Content-Length bytes, else none) and queues, per request, whether its
// framing was ambiguous: Transfer-Encoding together with Content-Length,
// or Transfer-Encoding on HTTP/1.0, which net/http ignores there but RFC
// 9112 §6.1 says to treat as faulty framing. Its decision on a request is
// queued when the request's header block ends, so before net/http, which
// reads the same bytes after it, can hand the request to a handler.
//
// Where net/http would refuse the stream (a malformed line, a bad size),
// the watcher marks it lost and stops: net/http closes the connection
// after such a refusal, and should it not, every later request counts as
// ambiguous. The zero value is ready at the start of a connection.
type framing struct {
	phase     phase
	pos       int64 // bytes fed so far
	line      line
	req       request
	remaining uint64 // of a Content-Length body or a chunk's data
	chunk     chunkLine
	excess    int64 // chunk overhead so far, as net/http counts it
	crlf      uint8 // bytes of a chunk's closing CRLF seen
	// skip is how many CR or LF bytes net/http discards before the next
	// request line: up to 4 after a POST, for old clients that sent
	// one after the body.
	skip int

	queue []bool // decisions not yet taken by Ambiguous
	seen  int    // header blocks ended so far
	ended int    // requests received whole so far
	// endPos is the stream offset just after the last whole request.
	endPos int64
	head   int
	// observe, if not nil, is told of each header block's end and each
	// request's end (tests).
	observe func(event)
}

// event is the end of a request's header block (body false) or of the
// request, with the stream offset just after it.
type event struct {
	body      bool
	pos       int64
	ambiguous bool
}

// line is the state of a request line, header field or trailer field
// line being read.
type line struct {
	n         int  // content bytes so far (a CR just before LF excluded)
	pendingCR bool // the last byte was a CR: content unless LF follows
	block     int  // bytes of the header block or trailer so far
	// Fields.
	folded bool // the line continues the previous field (obs-fold)
	colon  bool
	key    [len("transfer-encoding")]byte
	keyLen int
	cl     bool // the field being read is the first Content-Length
	fields bool // a field line was seen in this block
}

// request is what the watcher knows of the request being read.
type request struct {
	spaces      int
	method      [len("POST") + 1]byte
	methodLen   int
	proto       [len("HTTP/1.1") + 2]byte
	protoLen    int
	http11      bool // HTTP/1.1 or later: Transfer-Encoding counts
	post        bool
	hasCL       bool
	hasTE       bool
	contentLen  decimal
	trailerOnly bool // reading trailers, whose fields do not count
}

// chunkLine is the state of a chunk-size line being read.
type chunkLine struct {
	bytes     int // CR and LF included
	n         int // content bytes
	digits    int
	size      uint64
	part      uint8 // chunkSize, chunkSpace or chunkExtension
	pendingCR bool
}

const (
	chunkSize uint8 = iota
	chunkSpace
	chunkExtension
)

// feed follows p, the next bytes of the stream.
func (f *framing) feed(p []byte) {
	for len(p) > 0 {
		switch f.phase {
		case phaseLost:
			f.pos += int64(len(p))
			return
		case phaseBody, phaseChunkData:
			n := uint64(len(p))
			n = min(n, f.remaining)
			f.remaining -= n
			f.pos += int64(n)
			p = p[n:]
			if f.remaining == 0 {
				if f.phase == phaseBody {
					f.endRequest()
				} else {
					f.phase, f.crlf = phaseChunkEnd, 0
				}
			}
		case phaseRequestLine, phaseFields:
			if n := f.run(p); n > 0 {
				p = p[n:]
				continue
			}
			f.pos++
			f.lineByte(p[0])
			p = p[1:]
		case phaseChunkLine:
			f.pos++
			f.chunkByte(p[0])
			p = p[1:]
		case phaseChunkEnd:
			f.pos++
			f.chunkEnd(p[0])
			p = p[1:]
		default: // trailer
			f.pos++
			f.lineByte(p[0])
			p = p[1:]
		}
	}
}

// endHeader decides on the request whose header block just ended and
// starts reading its body.
func (f *framing) endHeader() {
	r := &f.req
	var length uint64
	if r.hasCL {
		// net/http checks Content-Length even when the body is chunked.
		n, ok := r.contentLen.value()
		if !ok {
			f.lose()
			return
		}
		length = n
	}
	f.decide(r.hasTE && (r.hasCL || !r.http11))
	switch {
	case r.hasTE && r.http11:
		f.phase, f.chunk, f.excess = phaseChunkLine, chunkLine{}, 0
	case length > 0:
		f.phase, f.remaining = phaseBody, length
	default:
		f.endRequest()
	}
}

// decide queues the decision on the request whose header block ended.
func (f *framing) decide(ambiguous bool) {
	if f.head == len(f.queue) {
		f.queue, f.head = f.queue[:0], 0
	}
	f.queue = append(f.queue, ambiguous)
	f.seen++
	if f.observe != nil {
		f.observe(event{pos: f.pos, ambiguous: ambiguous})
	}
}

// endRequest ends a request; the next byte starts another.
func (f *framing) endRequest() {
	if f.observe != nil {
		f.observe(event{body: true, pos: f.pos})
	}
	f.ended++
	f.endPos = f.pos
	f.skip = 0
	if f.req.post {
		f.skip = 4
	}
	f.phase, f.req, f.line = phaseRequestLine, request{}, line{}
}

// owing reports whether the client is part-way through sending a
// request: its headers, or a body it announced. A lost stream counts.
func (f *framing) owing() bool {
	return f.phase == phaseLost || f.seen > f.ended || f.pos > f.endPos
}

// lose gives up on the stream.
func (f *framing) lose() { f.phase = phaseLost }

// next takes the oldest decision not yet taken. With none queued (the
// stream was lost, or the caller is out of step with it), the request
// counts as ambiguous.
func (f *framing) next() bool {
	if f.head == len(f.queue) {
		return true
	}
	d := f.queue[f.head]
	f.head++
	return d
}
