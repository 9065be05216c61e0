package pagelinks

import "sync"

const (
	// MaxLink is the longest link value, in raw (still escaped) bytes, that
	// is rewritten; a longer one is passed through unchanged, so the
	// rewriter never buffers more than this.
	MaxLink = 64 << 10
	// MaxDepth is the deepest nesting of objects and arrays followed; the
	// rest of a body nested deeper is passed through unchanged.
	MaxDepth = 10000
)

// state is where the scanner is in the JSON text.
type state uint8

const (
	inCode   state = iota // between tokens: structure, numbers, literals
	inString              // a string that is neither a member name nor a link
	inName                // a member name, whose tail is kept
	inLink                // a paging link's value, buffered until its quote
	passing               // past MaxDepth: the rest passes through
)

// scanner is the rewriter's state machine. It is fed the body chunk by
// chunk, and every decision it takes depends only on the bytes so far, never
// on where the chunks end.
type scanner struct {
	ms      []matcher // the rules, tried in order; shared, never changed
	scratch decoded   // the start of the link being matched
	state   state
	esc     bool // the string so far ends inside a backslash escape
	name    nameTail

	expectName  bool // in an object, the next string is a member name
	pendingLink bool // the last member name was a paging link's, and its value has not begun
	depth       int
	inObject    bool                    // the innermost container is an object
	objects     [MaxDepth/64 + 1]uint64 // bit d: the container at depth d is an object

	link      []byte // the raw content of the link value so far
	rewritten int    // links rewritten so far
}

func newScanner(rules []Rule) *scanner { return Compile(rules...).newScanner() }

// newScanner returns a scanner for rs at the start of a body.
func (rs *Rules) newScanner() *scanner {
	s := &scanner{ms: rs.ms}
	rs.scratch(&s.scratch)
	return s
}

// scanners are the scanners Rules.Rewrite lends itself: a scanner's
// nesting bits alone are 1.3 KB.
var scanners = sync.Pool{New: func() any { return new(scanner) }}

// borrowScanner returns a scanner for rs at the start of a body.
func borrowScanner(rs *Rules) *scanner {
	s := scanners.Get().(*scanner)
	*s = scanner{ms: rs.ms, scratch: s.scratch, link: s.link[:0]}
	rs.scratch(&s.scratch)
	return s
}

// returnScanner gives s back, without a link buffer grown large.
func returnScanner(s *scanner) {
	if cap(s.link) > 4<<10 {
		s.link = nil
	}
	s.ms = nil
	scanners.Put(s)
}

// process appends to out the rewritten form of the chunk b, except a link
// value that is still open at its end, and returns out.
func (s *scanner) process(out, b []byte) []byte {
	start, i := 0, 0 // b[start:] is not yet written
	for i < len(b) {
		switch s.state {
		case inCode:
			i = s.code(b, i)
			if s.state == inLink {
				out, start = append(out, b[start:i]...), i
			}
		case inString:
			j, closed := s.skipString(b, i)
			i = j
			if closed {
				i, s.state = j+1, inCode
			}
		case inName:
			j, closed := s.name.scan(b, i)
			i = j
			if closed {
				i, s.state = j+1, inCode
				s.pendingLink = s.name.isLink()
			}
		case inLink:
			j, closed := s.skipString(b, i)
			out = s.linkPart(out, b[i:j], closed)
			i, start = j, j // the closing quote goes out with what follows
			if closed {
				i, s.state = j+1, inCode
			}
		case passing:
			return append(out, b[start:]...)
		}
	}
	return append(out, b[start:]...)
}

// finish appends to out what is still held at the end of the body: the
// start of a link value that never closed, as it came.
func (s *scanner) finish(out []byte) []byte {
	if s.state == inLink {
		out = append(out, s.link...)
		s.link, s.state = s.link[:0], inString
	}
	return out
}

// structural marks the bytes the scanner acts on between tokens; the
// others (whitespace, numbers, literals, junk) are skipped.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true, ':': true, ',': true}

// code follows the structure from b[i] up to just after the opening quote
// of the next string, whose kind it sets as the state, or to the end of b.
func (s *scanner) code(b []byte, i int) int {
	for ; i < len(b); i++ {
		c := b[i]
		if !structural[c] {
			continue
		}
		switch c {
		case '"':
			s.startString()
			return i + 1
		case '{', '[':
			s.pendingLink = false
			if s.depth >= MaxDepth {
				s.state = passing
				return i
			}
			s.push(c == '{')
			s.expectName = c == '{'
		case '}', ']':
			s.pendingLink, s.expectName = false, false
			s.pop()
		case ':':
			s.expectName = false
		case ',':
			s.pendingLink, s.expectName = false, s.inObject
		}
	}
	return i
}

func (s *scanner) startString() {
	switch {
	case s.expectName && s.inObject:
		s.state = inName
		s.name.reset()
	case s.pendingLink:
		s.state = inLink
		s.link = s.link[:0]
	default:
		s.state = inString
	}
	s.pendingLink = false
}

// linkPart takes the next raw bytes seg of a link value, closed when they
// end at its closing quote, and appends to out what can be written.
func (s *scanner) linkPart(out, seg []byte, closed bool) []byte {
	if len(s.link)+len(seg) > MaxLink {
		out = append(append(out, s.link...), seg...)
		s.link = s.link[:0]
		if !closed {
			s.state = inString // the rest of it passes as any string
		}
		return out
	}
	if !closed {
		s.link = append(s.link, seg...)
		return out
	}
	raw := seg
	if len(s.link) > 0 {
		s.link = append(s.link, seg...)
		raw, s.link = s.link, s.link[:0]
	}
	for i := range s.ms {
		if off, ok := s.ms[i].match(raw, &s.scratch); ok {
			s.rewritten++
			return append(append(out, s.ms[i].to...), raw[off:]...)
		}
	}
	return append(out, raw...)
}

func (s *scanner) push(object bool) {
	w, bit := s.depth/64, uint64(1)<<(s.depth%64)
	if object {
		s.objects[w] |= bit
	} else {
		s.objects[w] &^= bit
	}
	s.depth++
	s.inObject = object
}

func (s *scanner) pop() {
	if s.depth > 0 {
		s.depth--
	}
	d := s.depth - 1
	s.inObject = d >= 0 && s.objects[d/64]&(1<<(d%64)) != 0
}
