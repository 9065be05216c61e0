package pagelinks

import "bytes"

// skipString finds the closing quote of the string whose content goes on
// at b[i]. It returns the quote's index and true, or len(b) and false when
// the string goes on past b; s.esc carries a backslash that ends b to the
// next chunk. Only quotes and backslashes are looked at, with
// bytes.IndexByte, so long strings cost about as much as a copy.
func (s *scanner) skipString(b []byte, i int) (int, bool) {
	if s.esc {
		if i >= len(b) {
			return i, false
		}
		i, s.esc = i+1, false
	}
	// Most strings are short and plain: a byte loop over their start is
	// cheaper than two calls to bytes.IndexByte.
	for n := min(len(b), i+shortString); i < n; i++ {
		if c := b[i]; c == '"' {
			return i, true
		} else if c == '\\' {
			break
		}
	}
	for {
		end := len(b)
		if q := bytes.IndexByte(b[i:], '"'); q >= 0 {
			end = i + q
		}
		for {
			k := bytes.IndexByte(b[i:end], '\\')
			if k < 0 {
				break
			}
			if i += k + 2; i > end {
				break
			}
		}
		switch {
		case i <= end && end < len(b):
			return end, true
		case i <= end:
			return len(b), false
		case end == len(b): // b ends in a backslash
			s.esc = true
			return len(b), false
		}
		// The quote at end was escaped: look on after it.
	}
}

// shortString is how many bytes of a string or name are looked at one by
// one before searching with bytes.IndexByte.
const shortString = 24

// nameTail follows a member name and keeps the last bytes of its decoded
// form, enough to tell whether it ends in "@odata.nextLink" or
// "@odata.deltaLink". Escapes are decoded as they come, across chunks.
type nameTail struct {
	buf [len(deltaLink)]byte
	n   int
	esc int  // 0: none; 1: after a backslash; 2 to 5: reading \u digit esc-2
	hex rune // the \u digits read so far
}

const (
	nextLink  = "@odata.nextLink"
	deltaLink = "@odata.deltaLink"
)

func (t *nameTail) reset() {
	t.n, t.esc, t.hex = 0, 0, 0
}

func (t *nameTail) isLink() bool {
	tail := t.buf[:t.n]
	return bytes.HasSuffix(tail, []byte(nextLink)) || bytes.HasSuffix(tail, []byte(deltaLink))
}

// scan follows the name from b[i] like skipString, keeping its tail. The
// next quote is searched for once, and again only when an escape took it.
func (t *nameTail) scan(b []byte, i int) (int, bool) {
	if t.esc == 0 { // most names are short and plain
		for j, n := i, min(len(b), i+shortString); j < n; j++ {
			if c := b[j]; c == '"' {
				t.add(b[i:j])
				return j, true
			} else if c == '\\' {
				break
			}
		}
	}
	end := -1 // the next quote in b, or len(b); searched for when < i
	for i < len(b) {
		if t.esc != 0 {
			i = t.escape(b, i)
			continue
		}
		if end < i {
			end = len(b)
			if q := bytes.IndexByte(b[i:], '"'); q >= 0 {
				end = i + q
			}
		}
		seg := b[i:end]
		if k := bytes.IndexByte(seg, '\\'); k >= 0 {
			t.add(seg[:k])
			i, t.esc = i+k+1, 1
			continue
		}
		t.add(seg)
		return end, end < len(b)
	}
	return len(b), false
}

// escape takes b[i] as the next byte of an escape and returns where to go
// on: i+1, or i when b[i] ends a \u escape too short and is to be read
// again as it is.
func (t *nameTail) escape(b []byte, i int) int {
	c := b[i]
	switch {
	case t.esc == 1 && c == 'u':
		t.esc, t.hex = 2, 0
	case t.esc == 1:
		t.esc = 0
		t.addByte(unescaped(c))
	default:
		v := hexValue(c)
		if v < 0 {
			t.esc = 0
			t.addByte(0x80)
			return i
		}
		t.esc, t.hex = t.esc+1, t.hex<<4|v
		if t.esc == 6 {
			t.esc = 0
			t.addByte(asciiOr80(t.hex))
		}
	}
	return i + 1
}

// unescaped is the byte that the escape \c stands for; for an invalid
// escape, c itself.
func unescaped(c byte) byte {
	if e := simpleEscape[c]; e != 0 {
		return e
	}
	return c
}

// asciiOr80 stands a non-ASCII character by the byte 0x80, which is never
// part of a suffix the tail is tested for.
func asciiOr80(r rune) byte {
	if r < 0x80 {
		return byte(r)
	}
	return 0x80
}

// add appends seg to the tail, keeping only the last len(t.buf) bytes.
func (t *nameTail) add(seg []byte) {
	if len(seg) >= len(t.buf) {
		t.n = copy(t.buf[:], seg[len(seg)-len(t.buf):])
		return
	}
	if over := t.n + len(seg) - len(t.buf); over > 0 {
		t.n = copy(t.buf[:], t.buf[over:t.n])
	}
	t.n += copy(t.buf[t.n:], seg)
}

func (t *nameTail) addByte(c byte) {
	t.add([]byte{c})
}
