package connguard

// decimal parses a Content-Length value byte by byte as net/http does
// (strconv.ParseUint(v, 10, 63) after trimming spaces and tabs), without
// keeping it.
type decimal struct {
	n     uint64
	state uint8 // decimalEmpty, decimalDigits, decimalAfter or decimalBad
}

const (
	decimalEmpty uint8 = iota
	decimalDigits
	decimalAfter // white space after the digits
	decimalBad
)

// add takes the value's next byte.
func (d *decimal) add(b byte) {
	switch {
	case d.state == decimalBad:
	case b == ' ' || b == '\t':
		if d.state == decimalDigits {
			d.state = decimalAfter
		}
	case '0' <= b && b <= '9' && d.state != decimalAfter:
		const limit = 1<<63 - 1
		if d.n > (limit-uint64(b-'0'))/10 {
			d.state = decimalBad
			return
		}
		d.n = d.n*10 + uint64(b-'0')
		d.state = decimalDigits
	default:
		d.state = decimalBad
	}
}

// value is the parsed value; ok is false for an empty or bad one.
func (d *decimal) value() (n uint64, ok bool) {
	return d.n, d.state == decimalDigits || d.state == decimalAfter
}

// httpVersion parses "HTTP/x.y" as http.ParseHTTPVersion does.
func httpVersion(v []byte) (major, minor int, ok bool) {
	if len(v) != len("HTTP/1.1") || string(v[:5]) != "HTTP/" || v[6] != '.' {
		return 0, 0, false
	}
	if v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9' {
		return 0, 0, false
	}
	return int(v[5] - '0'), int(v[7] - '0'), true
}

// asciiEqualFold reports whether b equals the lower-case s in ASCII,
// ignoring case, as net/textproto matches header names.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
