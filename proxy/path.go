package proxy

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// requestPath is a request's path twice: as the client spelled it, which
// is what is forwarded, and as the upstream will read it, which is what
// the /tenants/ prefix, routes and rate limits match.
type requestPath struct {
	// escaped is the path as the client sent it, escapes and case kept.
	escaped string
	// canon is escaped percent-decoded once and folded (foldPath). It has
	// the same segments as escaped: neither holds an encoded /.
	canon string
}

// parsePath admits a request path, escaped as the client sent it, and
// returns it with its canonical form. The rule: a path is refused unless
// every way a server may read it leads to the same route and rate limit.
// So it must start with /, and may not hold
//   - a % without two hex digits after it, or an encoded / or \ (%2F,
//     %5C in any case): the upstream may take it for a separator, the
//     proxy's matching does not;
//   - once decoded, a \ (some servers read it as /), a ; (path
//     parameters: /api/incidents;x is /api/incidents to some servers), a
//     control character (%00, %0A, %7F, C1), or % and two hex digits
//     (%252F: encoded twice, read as / by a server that decodes again;
//     a lone %25 as in 50%25off passes), or bytes that are not UTF-8
//     (%C0%AF is an overlong /);
//   - a . or .. segment, or a segment ending in . or a space (%20), which
//     Windows servers drop: /api/incidents. is /api/incidents there;
//   - a character that Unicode compatibility normalisation (NFKC) turns
//     into any of the above, such as a fullwidth solidus or full stop.
func parsePath(escaped string) (requestPath, *Error) {
	if !strings.HasPrefix(escaped, "/") {
		return requestPath{}, invalidPath("the request path must start with /")
	}
	decoded, e := unescapePath(escaped)
	if e != nil {
		return requestPath{}, e
	}
	if !utf8.ValidString(decoded) {
		return requestPath{}, invalidPath("the request path must be UTF-8 once decoded (overlong forms such as %C0%AF are not)")
	}
	if what := forbiddenChars(decoded); what != "" {
		return requestPath{}, invalidPath("the request path must not contain " + what)
	}
	canon := foldPath(decoded)
	if canon != decoded && !isASCII(decoded) {
		what := forbiddenChars(canon)
		if what == "" && strings.Count(canon, "/") != strings.Count(decoded, "/") {
			what = "/"
		}
		if what != "" {
			return requestPath{}, invalidPath("the request path must not contain a character that Unicode normalisation (NFKC) reads as " + what)
		}
	}
	if e := checkSegments(canon); e != nil {
		return requestPath{}, e
	}
	return requestPath{escaped: escaped, canon: canon}, nil
}

// unescapePath decodes the %XX escapes of p, refusing a malformed one and
// an encoded separator.
func unescapePath(p string) (string, *Error) {
	i := strings.IndexByte(p, '%')
	if i < 0 {
		return p, nil
	}
	var b strings.Builder
	b.Grow(len(p))
	b.WriteString(p[:i])
	for ; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", invalidPath("the request path is not validly escaped: a % must be followed by two hex digits")
		}
		c := unhex(p[i+1])<<4 | unhex(p[i+2])
		if c == '/' || c == '\\' {
			return "", invalidPath("the request path must not contain an encoded / or \\ (%2F, %5C): escape nothing that separates segments")
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}

// forbiddenChars names what in the decoded path s no path may hold, or
// returns "".
func forbiddenChars(s string) string {
	for i, r := range s {
		switch {
		case r == '\\':
			return "a backslash (\\)"
		case r == ';':
			return "; (path parameters)"
		case unicode.IsControl(r):
			return "a control character (%00-%1F, %7F)"
		case r == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			return "an escape encoded twice (%25 followed by two hex digits, as in %252F)"
		}
	}
	return ""
}

// checkSegments refuses a . or .. segment of the canonical path p, or a
// segment ending in . or a space.
func checkSegments(p string) *Error {
	for rest := p[1:]; ; {
		seg, after, more := strings.Cut(rest, "/")
		if seg == "." || seg == ".." {
			return invalidPath("the request path must not contain . or .. segments")
		}
		if strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") {
			return invalidPath("a segment of the request path must not end in . or a space (%20): some servers drop them")
		}
		if !more {
			return nil
		}
		rest = after
	}
}

// foldPath is the form in which paths and prefixes are compared, as a
// case-insensitive server may read them: NFKC-normalised, then each rune
// mapped to the lower case of its upper case, so that /API and /api
// match, and so do K (Kelvin sign), ſ and ı with k, s and i.
func foldPath(s string) string {
	if isASCII(s) {
		for i := 0; i < len(s); i++ {
			if 'A' <= s[i] && s[i] <= 'Z' {
				return strings.ToLower(s)
			}
		}
		return s
	}
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, norm.NFKC.String(s))
}

// cut splits p after its first n segments: head holds them, rest the
// remainder, empty or starting with /.
func (p requestPath) cut(n int) (head, rest requestPath) {
	i, j := afterSegments(p.escaped, n), afterSegments(p.canon, n)
	return requestPath{p.escaped[:i], p.canon[:j]}, requestPath{p.escaped[i:], p.canon[j:]}
}

// afterSegments is the index in the slash-separated path p where its
// first n segments end.
func afterSegments(p string, n int) int {
	i := 0
	for ; n > 0; n-- {
		if i >= len(p) {
			return len(p)
		}
		next := strings.IndexByte(p[i+1:], '/')
		if next < 0 {
			return len(p)
		}
		i += 1 + next
	}
	return i
}

// hasDotSegment reports whether the slash-separated path has a "." or ".."
// segment.
func hasDotSegment(p string) bool {
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func invalidPath(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: msg}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
