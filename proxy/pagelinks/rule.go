package pagelinks

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Rule says which links are rewritten and into what.
type Rule struct {
	// From is the upstream origin and base path a link must start with to be
	// rewritten, e.g. "https://graph.microsoft.com/" or
	// "https://api.securitycenter.microsoft.com/api". Scheme and host are
	// compared case-insensitively, an explicit default port (:443 for https,
	// :80 for http) equals none, and the path is compared byte for byte.
	// When From does not end in "/", the link must go on with "/", "?" or
	// "#", or end there: "https://x/api" does not match "https://x/apix".
	// An empty From, or one without "scheme://host", matches nothing.
	From string
	// To replaces the part of a link that matched From, e.g.
	// "http://127.0.0.1:8080/tenants/contoso/graph/". It is written
	// JSON-escaped; an empty To leaves only the rest of the link.
	To string
}

// Rules are rules compiled once, to rewrite any number of bodies with,
// from any number of goroutines at once.
type Rules struct {
	ms    []matcher // tried in order
	limit int       // the largest of their limits
}

// Compile compiles rules; the first that matches a link rewrites it.
func Compile(rules ...Rule) *Rules {
	rs := &Rules{ms: make([]matcher, len(rules))}
	for i, r := range rules {
		rs.ms[i] = compile(r)
		rs.limit = max(rs.limit, rs.ms[i].limit)
	}
	return rs
}

// scratch makes d's buffers large enough for any of rs's matchers.
func (rs *Rules) scratch(d *decoded) {
	if cap(d.dec) < rs.limit+utf8.UTFMax {
		d.dec = make([]byte, 0, rs.limit+utf8.UTFMax)
		d.offs = make([]int, 0, rs.limit+utf8.UTFMax+1)
	}
}

// matcher is a Rule compiled for testing links: From split into its parts
// and To escaped once. It is never changed after compile.
type matcher struct {
	scheme    string // From's scheme in lower case, e.g. "https"
	authority string // From's host[:port] in lower case, without a default port
	path      string // From's path, compared byte for byte
	slash     bool   // path ends in "/", so any character may follow it
	to        []byte // To, JSON-escaped, without quotes
	limit     int    // decoded bytes of a link a match can need; 0: never matches
}

// decoded is the decoded start of the link being tested, reused from link
// to link by a scanner.
type decoded struct {
	dec  []byte // the decoded start of the link
	offs []int  // offs[i] is the raw offset of dec[i], -1 inside a character
}

func compile(r Rule) matcher {
	m := matcher{to: escapeJSON(r.To)}
	k := strings.Index(r.From, "://")
	if k <= 0 {
		return m
	}
	rest := r.From[k+3:]
	e := strings.IndexAny(rest, "/?#")
	if e < 0 {
		e = len(rest)
	}
	m.scheme = asciiLower(r.From[:k])
	m.authority = string(stripDefaultPort(m.scheme, []byte(asciiLower(rest[:e]))))
	m.path = rest[e:]
	m.slash = strings.HasSuffix(m.path, "/")
	if m.authority == "" {
		return m
	}
	// The longest start a match reads: From, a default port From lacks,
	// and the character after it.
	m.limit = len(m.scheme) + len("://") + len(m.authority) + len(":443") + len(m.path) + 1
	return m
}

// match reports whether the link whose raw (still escaped) string content
// is raw starts with From, and if so the raw offset where the rest begins.
// scratch holds the decoded start of the link.
func (m *matcher) match(raw []byte, scratch *decoded) (int, bool) {
	if m.limit == 0 {
		return 0, false
	}
	complete, ok := scratch.decode(raw, m.limit)
	if !ok {
		return 0, false
	}
	d, n := scratch.dec, len(m.scheme)
	if len(d) < n+3 || !asciiEqualFold(d[:n], m.scheme) || string(d[n:n+3]) != "://" {
		return 0, false
	}
	a := n + 3
	e := bytes.IndexAny(d[a:], "/?#")
	switch {
	case e >= 0:
		e += a
	case complete:
		e = len(d)
	default:
		return 0, false // an authority longer than From's
	}
	if !asciiEqualFold(stripDefaultPort(m.scheme, d[a:e]), m.authority) {
		return 0, false
	}
	end := e + len(m.path)
	if end > len(d) || string(d[e:end]) != m.path {
		return 0, false
	}
	if !m.slash {
		if end == len(d) && !complete {
			return 0, false
		}
		if end < len(d) && d[end] != '/' && d[end] != '?' && d[end] != '#' {
			return 0, false
		}
	}
	if scratch.offs[end] < 0 {
		return 0, false
	}
	return scratch.offs[end], true
}

// decode decodes the start of raw, up to limit bytes, into m.dec and
// m.offs. complete says the whole of raw was decoded; ok is false for an
// invalid escape, which no link the rewriter touches may have.
func (m *decoded) decode(raw []byte, limit int) (complete, ok bool) {
	m.dec, m.offs = m.dec[:0], m.offs[:0]
	r := 0
	for r < len(raw) && len(m.dec) < limit {
		if raw[r] != '\\' {
			m.dec, m.offs = append(m.dec, raw[r]), append(m.offs, r)
			r++
			continue
		}
		n := m.unescape(raw, r)
		if n == 0 {
			return false, false
		}
		r += n
	}
	m.offs = append(m.offs, r)
	return r == len(raw), true
}

// unescape decodes the escape at raw[r] into m.dec and returns its raw
// length, or 0 when it is not a valid JSON escape.
func (m *decoded) unescape(raw []byte, r int) int {
	if r+1 >= len(raw) {
		return 0
	}
	c := raw[r+1]
	if c != 'u' {
		c = simpleEscape[c]
		if c == 0 {
			return 0
		}
		m.dec, m.offs = append(m.dec, c), append(m.offs, r)
		return 2
	}
	c1, ok := hex4(raw, r+2)
	if !ok {
		return 0
	}
	ch, n := c1, 6
	if utf16.IsSurrogate(c1) {
		ch = utf8.RuneError
		if len(raw) >= r+12 && raw[r+6] == '\\' && raw[r+7] == 'u' {
			c2, _ := hex4(raw, r+8)
			if dec := utf16.DecodeRune(c1, c2); dec != utf8.RuneError {
				ch, n = dec, 12
			}
		}
	}
	start := len(m.dec)
	m.dec = utf8.AppendRune(m.dec, ch)
	m.offs = append(m.offs, r)
	for range len(m.dec) - start - 1 {
		m.offs = append(m.offs, -1)
	}
	return n
}

// simpleEscape maps the character after a backslash to the byte it
// stands for; 0 marks an invalid escape.
var simpleEscape = [256]byte{
	'"': '"', '\\': '\\', '/': '/',
	'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}

func hex4(b []byte, i int) (rune, bool) {
	if len(b) < i+4 {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		v := hexValue(c)
		if v < 0 {
			return 0, false
		}
		r = r<<4 | v
	}
	return r, true
}

func hexValue(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// stripDefaultPort drops an explicit :443 from an https authority and an
// explicit :80 from an http one: both name the same server as no port.
func stripDefaultPort(scheme string, authority []byte) []byte {
	switch {
	case scheme == "https" && bytes.HasSuffix(authority, []byte(":443")):
		return authority[:len(authority)-4]
	case scheme == "http" && bytes.HasSuffix(authority, []byte(":80")):
		return authority[:len(authority)-3]
	}
	return authority
}

// asciiEqualFold compares b with lower, which is in lower case, folding
// only ASCII letters: strings.EqualFold would take the Kelvin sign for a k.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// escapeJSON returns s as the content of a JSON string, without quotes.
// Invalid UTF-8 becomes U+FFFD, as encoding/json would write it.
func escapeJSON(s string) []byte {
	s = strings.ToValidUTF8(s, "\uFFFD")
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}
