package proxy

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/proxy/pagelinks"
)

// Paging through the proxy: Microsoft's APIs page with absolute
// @odata.nextLink and @odata.deltaLink URLs naming the upstream. A client
// that follows one would leave the proxy and send its own bearer (a
// client key or placeholder) to Microsoft. So in a JSON response, links
// on the route's upstream are rewritten to the proxy's origin, with the
// route's prefix and the client's /tenants/{t} prefix restored.
//
// Compressed responses are decoded and sent on uncompressed: re-encoding
// would cost the proxy more CPU than anything else it does per request,
// every client accepts identity, and the bytes saved would be on the
// client's side of the proxy (loopback or the pod's network), not on the
// way to Microsoft. Accept-Encoding sent upstream is narrowed to what the
// proxy can decode (gzip, deflate), so Microsoft still compresses on the
// long leg.

// smallBody is the largest body with a known length that is rewritten in
// memory, so that it keeps an exact Content-Length; larger ones stream.
// It is the size of ReverseProxy's copy buffer: a small answer held for a
// slow client costs what streaming it would.
const smallBody = 32 << 10

// rewritePagingLinks is the response step that keeps paging inside the
// proxy.
func (h *Handler) rewritePagingLinks(resp *http.Response, f *forward) error {
	if !mayHoldLinks(resp) {
		return nil
	}
	body, err := decoded(resp)
	if err != nil {
		return fmt.Errorf("decoding the upstream's %s response: %w", resp.Header.Get("Content-Encoding"), err)
	}
	if body == nil {
		h.log.Warn("a JSON response in an encoding the proxy cannot decode: its paging links are not rewritten",
			zap.String("content_encoding", resp.Header.Get("Content-Encoding")), zap.String("route", f.route))
		return nil
	}
	if body == resp.Body && resp.ContentLength >= 0 && resp.ContentLength <= smallBody {
		return h.rewriteSmall(resp, f)
	}
	resp.Body = &rewrittenBody{Reader: pagelinks.NewReader(body, h.linkRule(f)), decoder: body, upstream: resp.Body}
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
	resp.Header.Del("Content-Encoding")
	return nil
}

// linkRule is what f's paging links are rewritten into: the proxy's
// origin, the client's /tenants/{t} prefix and the route's prefix in
// place of the upstream's origin and base path.
func (h *Handler) linkRule(f *forward) pagelinks.Rule {
	return pagelinks.Rule{From: f.linkFrom, To: h.origin(f.client) + f.tenantPrefix + f.routePrefix}
}

// rewriteSmall reads a small body of known length whole, and rewrites it
// when it may hold a link, with its exact new length.
func (h *Handler) rewriteSmall(resp *http.Response, f *forward) error {
	raw := make([]byte, resp.ContentLength)
	_, err := io.ReadFull(resp.Body, raw)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the upstream's response: %w", err)
	}
	if mayNameLink(raw) {
		raw = pagelinks.Rewrite(make([]byte, 0, len(raw)+256), raw, h.linkRule(f))
		resp.ContentLength = int64(len(raw))
		resp.Header.Set("Content-Length", strconv.Itoa(len(raw)))
	}
	resp.Body = &wholeBody{Reader: *bytes.NewReader(raw)}
	return nil
}

// wholeBody is a body read whole; one allocation where
// io.NopCloser(bytes.NewReader(…)) takes two.
type wholeBody struct{ bytes.Reader }

func (*wholeBody) Close() error { return nil }

// mayNameLink reports whether a JSON body may hold a member whose name
// ends in @odata.nextLink or @odata.deltaLink. Without a \u escape, the
// only escapes (\" \\ \/ \b \f \n \r \t) stand for characters those names
// lack, so such a name must appear literally.
func mayNameLink(raw []byte) bool {
	return bytes.Contains(raw, []byte(`\u`)) ||
		bytes.Contains(raw, []byte("@odata.nextLink")) || bytes.Contains(raw, []byte("@odata.deltaLink"))
}

// mayHoldLinks reports whether resp has a JSON body.
func mayHoldLinks(resp *http.Response) bool {
	if resp.Request.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusNotModified || resp.Body == http.NoBody || resp.ContentLength == 0 {
		return false
	}
	mt, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	mt = strings.TrimSpace(mt)
	return strings.EqualFold(mt, "application/json") || strings.EqualFold(mt, "text/json") ||
		len(mt) > 5 && strings.EqualFold(mt[len(mt)-5:], "+json")
}

// decoded returns resp's body decoded: the body itself when it is not
// encoded, nil when its encoding is one the proxy cannot decode.
func decoded(resp *http.Response) (io.ReadCloser, error) {
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))) {
	case "", "identity":
		return resp.Body, nil
	case "gzip", "x-gzip":
		return gzip.NewReader(resp.Body)
	case "deflate": // zlib-wrapped, as RFC 9110 §8.4.1.2 defines it
		return zlib.NewReader(resp.Body)
	}
	return nil, nil
}

// rewrittenBody is a streamed, rewritten body; closing it closes the
// decoder (when there is one) and the upstream's body.
type rewrittenBody struct {
	io.Reader
	decoder, upstream io.Closer
}

func (b *rewrittenBody) Close() error {
	if b.decoder != b.upstream {
		b.decoder.Close()
	}
	return b.upstream.Close()
}

// decodableEncodings narrows a client's Accept-Encoding to the
// compressions the proxy can decode to rewrite links (gzip, deflate),
// keeping their weights. ok is false when none is left: the header is
// then dropped, and Go's transport asks for gzip and decodes it itself.
func decodableEncodings(accept string) (narrowed string, ok bool) {
	var keep []string
	for _, part := range strings.Split(accept, ",") {
		coding, _, _ := strings.Cut(part, ";")
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip", "deflate":
			keep = append(keep, strings.TrimSpace(part))
		}
	}
	return strings.Join(keep, ", "), len(keep) > 0
}
