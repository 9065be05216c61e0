package proxy

import (
	"net/http"
)

// allowedMethods are the methods forwarded, as the Allow header of a 405
// lists them.
const allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

// admit applies the rules every request must meet before anything is
// looked up for it: a method the upstream APIs use (TRACE would echo the
// tenant's token back, CONNECT would ask for a tunnel), and a path that
// reads the same to the proxy and to any upstream (parsePath). A refused
// method's answer lists the allowed ones in hdr's Allow header.
func admit(r *http.Request, hdr http.Header) (requestPath, error) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		hdr.Set("Allow", allowedMethods)
		return requestPath{}, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
			Message: "the method " + quoteMethod(r.Method) + " is not forwarded; use one of " + allowedMethods}
	}
	p, err := parsePath(clientPath(r))
	if err != nil {
		return requestPath{}, err
	}
	return p, nil
}

// clientPath is the request's path as the client spelled it: RawPath when
// Go's default encoding of Path would differ from it, else that encoding.
func clientPath(r *http.Request) string {
	if r.URL.RawPath != "" {
		return r.URL.RawPath
	}
	return r.URL.EscapedPath()
}

// quoteMethod shows a method in a message, cut short when long.
func quoteMethod(m string) string {
	if len(m) > 20 {
		m = m[:20] + "…"
	}
	return `"` + m + `"`
}
