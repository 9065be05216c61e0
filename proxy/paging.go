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
// proxy. A JSON answer's headers are made to describe the body the client
// gets: decoded, rewritten or streamed, it loses Content-Encoding and a
// Content-Length that no longer holds, and a strong ETag becomes weak
// (the bytes differ from the upstream's). HEAD answers and 304s get the
// headers the same GET would; a 206 is a slice of a body and passes
// through untouched.
func (h *Handler) rewritePagingLinks(resp *http.Response, f *forward) error {
	if !isJSON(resp.Header) || resp.StatusCode == http.StatusPartialContent || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	encoding := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if encoding == "identity" {
		encoding = ""
	}
	decode, ok := decoders[encoding]
	if !ok {
		h.log.Warn("a JSON response in an encoding the proxy cannot decode: its paging links are not rewritten",
			zap.String("content_encoding", encoding), zap.String("route", f.route))
		return nil
	}
	small := encoding == "" && resp.ContentLength >= 0 && resp.ContentLength <= smallBody
	if resp.Request.Method == http.MethodHead || resp.StatusCode == http.StatusNotModified || resp.Body == http.NoBody {
		if encoding != "" || !small && resp.StatusCode != http.StatusNotModified {
			describeChangedBody(resp)
		}
		return nil
	}
	if small {
		return h.rewriteSmall(resp, f)
	}
	body, err := decode(resp.Body)
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Code: CodeUpstreamUnavailable,
			Message: fmt.Sprintf("the upstream's %s answer could not be decoded", encoding), Err: err}
	}
	resp.Body = &rewrittenBody{Reader: h.pagingRules(f).NewReader(body), decoder: body, upstream: resp.Body}
	describeChangedBody(resp)
	return nil
}

// isJSON reports whether a Content-Type is JSON's: application/json,
// text/json or a +json type, with any parameters.
func isJSON(h http.Header) bool {
	mt, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	mt = strings.TrimSpace(mt)
	return strings.EqualFold(mt, "application/json") || strings.EqualFold(mt, "text/json") ||
		len(mt) > 5 && strings.EqualFold(mt[len(mt)-5:], "+json")
}

// decoders decode the encodings a JSON answer may come in; the outbound
// request asks for no other (decodableEncodings).
var decoders = map[string]func(io.ReadCloser) (io.ReadCloser, error){
	"":       func(b io.ReadCloser) (io.ReadCloser, error) { return b, nil },
	"gzip":   func(b io.ReadCloser) (io.ReadCloser, error) { return gzip.NewReader(b) },
	"x-gzip": func(b io.ReadCloser) (io.ReadCloser, error) { return gzip.NewReader(b) },
	// zlib-wrapped, as RFC 9110 §8.4.1.2 defines deflate.
	"deflate": func(b io.ReadCloser) (io.ReadCloser, error) { return zlib.NewReader(b) },
}

// describeChangedBody fixes the headers of an answer whose body is sent
// decoded and streamed through the rewriter.
func describeChangedBody(resp *http.Response) {
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
	resp.Header.Del("Content-Encoding")
	weakenETag(resp.Header)
}

// weakenETag turns a strong ETag weak: the body is equivalent to the
// upstream's, not byte for byte the same (RFC 9110 §8.8.1).
func weakenETag(h http.Header) {
	if etag := h.Get("Etag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		h.Set("Etag", "W/"+etag)
	}
}

// rewriteSmall reads a small body of known length whole, and rewrites it
// when it may hold a link, with its exact new length.
func (h *Handler) rewriteSmall(resp *http.Response, f *forward) error {
	held := borrowHeldBody(int(resp.ContentLength))
	_, err := io.ReadFull(resp.Body, held.raw)
	resp.Body.Close()
	if err != nil {
		held.Close()
		return fmt.Errorf("reading the upstream's response: %w", err)
	}
	body := held.raw
	if mayNameLink(body) {
		held.out = h.pagingRules(f).Rewrite(held.out, body)
		if !bytes.Equal(held.out, body) {
			body = held.out
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			weakenETag(resp.Header)
		}
	}
	held.serve(body)
	resp.Body = held
	return nil
}

// mayNameLink reports whether a JSON body may hold a member whose name
// ends in @odata.nextLink or @odata.deltaLink. Without a \u escape, the
// only escapes (\" \\ \/ \b \f \n \r \t) stand for characters those names
// lack, so such a name must appear literally.
func mayNameLink(raw []byte) bool {
	return bytes.Contains(raw, []byte(`\u`)) ||
		bytes.Contains(raw, []byte("@odata.nextLink")) || bytes.Contains(raw, []byte("@odata.deltaLink"))
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
// then dropped, and the upstream answers uncompressed.
// The common header that needs no narrowing (Go clients send "gzip" on
// every request) is returned as it is, without allocating.
func decodableEncodings(accept string) (narrowed string, ok bool) {
	all, any := true, false
	for rest := accept; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		if decodable(part) {
			any = true
		} else if strings.TrimSpace(part) != "" {
			all = false
		}
	}
	if all {
		return accept, any
	}
	var keep []string
	for _, part := range strings.Split(accept, ",") {
		if decodable(part) {
			keep = append(keep, strings.TrimSpace(part))
		}
	}
	return strings.Join(keep, ", "), len(keep) > 0
}

// decodable reports whether one Accept-Encoding element names gzip or
// deflate.
func decodable(part string) bool {
	coding, _, _ := strings.Cut(part, ";")
	coding = strings.TrimSpace(coding)
	return strings.EqualFold(coding, "gzip") || strings.EqualFold(coding, "x-gzip") || strings.EqualFold(coding, "deflate")
}
