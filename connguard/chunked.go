package connguard

// chunkByte takes the next byte of a chunk-size line, which net/http
// reads as: hex digits (at most 16), optional spaces or tabs before the
// end, or a ';' and extensions; CRLF at the end and no other CR or LF.
func (f *framing) chunkByte(b byte) {
	c := &f.chunk
	c.bytes++
	if c.bytes > maxChunkLine {
		f.lose()
		return
	}
	if c.pendingCR {
		if b != '\n' {
			f.lose() // a CR inside the line
			return
		}
		f.endChunkLine()
		return
	}
	switch {
	case b == '\r':
		c.pendingCR = true
		return
	case b == '\n':
		f.lose() // a bare LF
		return
	}
	c.n++
	switch c.part {
	case chunkSize:
		switch d, ok := hexDigit(b); {
		case ok:
			c.digits++
			if c.digits > 16 {
				f.lose()
				return
			}
			c.size = c.size<<4 | uint64(d)
		case b == ';':
			c.part = chunkExtension
		case b == ' ' || b == '\t':
			c.part = chunkSpace
		default:
			f.lose()
		}
	case chunkSpace:
		// Only trailing white space is trimmed: "5 ;x" is refused.
		if b != ' ' && b != '\t' {
			f.lose()
		}
	}
}

// endChunkLine starts the chunk whose size line ended, or the trailer
// after the last chunk. It counts overhead as net/http does, which
// refuses a body whose size lines and extensions outgrow its data.
func (f *framing) endChunkLine() {
	c := f.chunk
	if c.digits == 0 {
		f.lose()
		return
	}
	if c.size == 0 {
		f.phase, f.line = phaseTrailer, line{}
		f.req.trailerOnly = true
		return
	}
	excess := f.excess + int64(c.n) + 2
	excess -= 16 + 2*int64(c.size) // wraps as net/http's sum does
	excess = max(excess, 0)
	if excess > maxExcess {
		f.lose()
		return
	}
	f.excess = excess
	f.phase, f.remaining = phaseChunkData, c.size
}

// chunkEnd takes a byte of the CRLF that must follow a chunk's data.
func (f *framing) chunkEnd(b byte) {
	if b != "\r\n"[f.crlf] {
		f.lose()
		return
	}
	f.crlf++
	if f.crlf == 2 {
		f.phase, f.chunk = phaseChunkLine, chunkLine{}
	}
}

// hexDigit is the value of a hex digit, in either case.
func hexDigit(b byte) (byte, bool) {
	switch {
	case '0' <= b && b <= '9':
		return b - '0', true
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10, true
	case 'A' <= b && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}
