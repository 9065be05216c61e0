package connguard

import "bytes"

// run passes, in one go, over bytes that need no more than counting:
// a request target, a field name up to its colon, the rest of a field
// line whose value does not matter. It returns how many it passed (none
// when the next byte needs lineByte).
func (f *framing) run(p []byte) int {
	l := &f.line
	if l.n == 0 || l.pendingCR {
		return 0
	}
	n := 0
	switch {
	case f.phase == phaseRequestLine:
		if f.req.spaces != 1 {
			return 0
		}
		for n < len(p) && p[n] != ' ' && p[n] != '\r' && p[n] != '\n' {
			n++
		}
	case !l.colon && !l.folded: // a field name
		for ; n < len(p); n++ {
			b := p[n]
			if b == ':' || b == '\r' || b == '\n' {
				break
			}
			if l.keyLen < len(l.key) {
				l.key[l.keyLen] = b
			}
			l.keyLen++
		}
	case !l.cl:
		if n = bytes.IndexByte(p, '\n'); n < 0 {
			n = len(p)
		}
		if n > 0 && p[n-1] == '\r' {
			n-- // lineByte sees the CR, and the LF after it
		}
	}
	l.n += n
	l.block += n
	f.pos += int64(n)
	if l.block > maxHeaderBlock {
		f.lose()
	}
	return n
}

// lineByte takes the next byte of a request line, header block or
// trailer: lines end in LF, a CR just before it dropped, as
// net/textproto reads them.
func (f *framing) lineByte(b byte) {
	l := &f.line
	if f.phase == phaseRequestLine && f.skip > 0 && l.block == 0 {
		if b == '\r' || b == '\n' {
			f.skip--
			return
		}
		f.skip = 0
	}
	l.block++
	if l.block > maxHeaderBlock || f.phase == phaseTrailer && l.block > maxTrailer {
		f.lose()
		return
	}
	if l.pendingCR {
		l.pendingCR = false
		if b == '\n' {
			f.endLine()
			return
		}
		f.content('\r')
		if f.phase == phaseLost {
			return
		}
	}
	switch b {
	case '\r':
		l.pendingCR = true
	case '\n':
		f.endLine()
	default:
		f.content(b)
	}
}

// content takes the next content byte of a line.
func (f *framing) content(b byte) {
	if f.phase == phaseRequestLine {
		f.requestLineByte(b)
		return
	}
	f.fieldByte(b)
}

// requestLineByte takes the next byte of "METHOD TARGET PROTO", split at
// the first two spaces as net/http splits it.
func (f *framing) requestLineByte(b byte) {
	f.line.n++
	r := &f.req
	switch {
	case r.spaces < 2 && b == ' ':
		r.spaces++
	case r.spaces == 0:
		if r.methodLen < len(r.method) {
			r.method[r.methodLen] = b
		}
		r.methodLen++
	case r.spaces == 2:
		if r.protoLen < len(r.proto) {
			r.proto[r.protoLen] = b
		}
		r.protoLen++
	}
}

// fieldByte takes the next byte of a header or trailer field line.
func (f *framing) fieldByte(b byte) {
	l := &f.line
	if l.n == 0 {
		if b == ' ' || b == '\t' {
			if !l.fields {
				f.lose() // net/http refuses a block that starts folded
				return
			}
			l.folded = true
			if l.cl {
				f.req.contentLen.add(' ') // net/textproto joins with a space
			}
		} else {
			l.folded, l.colon, l.keyLen, l.cl, l.fields = false, false, 0, false, true
		}
	}
	l.n++
	switch {
	case l.folded || l.colon:
		if l.cl {
			f.req.contentLen.add(b)
		}
	case b == ':':
		l.colon = true
		f.classify()
	default:
		if l.keyLen < len(l.key) {
			l.key[l.keyLen] = b
		}
		l.keyLen++
	}
}

// classify notes a Content-Length or Transfer-Encoding field, in any
// case; the value of the first Content-Length is parsed, as net/http
// parses only the first (it refuses others that differ).
func (f *framing) classify() {
	l, r := &f.line, &f.req
	if r.trailerOnly || l.keyLen > len(l.key) {
		return
	}
	key := l.key[:l.keyLen]
	switch {
	case asciiEqualFold(key, "content-length"):
		l.cl = !r.hasCL
		r.hasCL = true
	case asciiEqualFold(key, "transfer-encoding"):
		r.hasTE = true
	}
}

// endLine ends a line.
func (f *framing) endLine() {
	l := &f.line
	switch {
	case f.phase == phaseRequestLine:
		f.endRequestLine()
	case l.n == 0 && f.phase == phaseFields:
		f.endHeader()
	case l.n == 0: // the end of the trailer
		f.endRequest()
	case !l.colon && !l.folded:
		f.lose() // net/http refuses a field line without a colon
	default:
		l.n = 0
	}
}

// endRequestLine checks the protocol version as http.ParseHTTPVersion
// does, then reads header fields.
func (f *framing) endRequestLine() {
	r := &f.req
	if r.spaces < 2 || r.protoLen != len("HTTP/1.1") {
		f.lose() // net/http refuses a malformed request line
		return
	}
	major, minor, ok := httpVersion(r.proto[:r.protoLen])
	if !ok {
		f.lose()
		return
	}
	r.http11 = major > 1 || major == 1 && minor >= 1
	r.post = r.methodLen == len("POST") && string(r.method[:r.methodLen]) == "POST"
	f.phase = phaseFields
	f.line = line{block: f.line.block}
}
