package proxy

import "net/http"

// responseStep looks at, or changes, an upstream response on its way back
// to the client. It may replace resp.Body and must then fix the headers
// that describe it (Content-Length, Content-Encoding). An error makes
// ReverseProxy answer 502 through upstreamError.
type responseStep func(h *Handler, resp *http.Response, f *forward) error

// responseSteps run in order on every upstream response.
var responseSteps = []responseStep{
	(*Handler).holdOnUpstream429,
	(*Handler).rewritePagingLinks,
}

// modifyResponse is ReverseProxy's ModifyResponse: it runs the response
// steps. Upstream responses otherwise go back unchanged.
func (h *Handler) modifyResponse(resp *http.Response) error {
	f, ok := forwardOf(resp.Request)
	if !ok {
		return nil
	}
	for _, step := range responseSteps {
		if err := step(h, resp, f); err != nil {
			return err
		}
	}
	return nil
}
