package proxy

import (
	"net/http"
	"strings"
)

// admit applies the rules every request must meet before anything is
// looked up for it: today, a path that starts with / and has no . or ..
// segment, which could otherwise steer a request outside a route.
func admit(r *http.Request) error {
	if !strings.HasPrefix(r.URL.Path, "/") {
		return invalidPath("the request path must start with /")
	}
	if hasDotSegment(r.URL.Path) {
		return invalidPath("the request path must not contain . or .. segments")
	}
	return nil
}

func invalidPath(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidPath, Message: msg}
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
