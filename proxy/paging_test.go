package proxy_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// pagedBackend answers every request with a JSON page whose links name
// the backend itself (as Microsoft's do), another host, and a non-link
// member; pad makes the page larger.
func pagedBackend(t *testing.T, pad int, gzipped bool) *recordingBackend {
	var b *recordingBackend
	b = newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		self := b.server.URL
		page := fmt.Sprintf(`{"@odata.context":"%[1]s/api/$metadata#Incidents","value":[{"id":1,"pad":"%[2]s","alerts@odata.nextLink":"%[1]s/api/incidents/1/alerts?$skip=5"}],`+
			`"seeAlso":"%[1]s/api/incidents","other@odata.nextLink":"https://graph.microsoft.com/v1.0/x?$skip=1",`+
			`"@odata.nextLink":"%[1]s%[3]s?$top=2&$skip=2"}`, self, strings.Repeat("x", pad), r.URL.Path)
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
		if gzipped && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write([]byte(page))
			zw.Close()
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(z.Len()))
			w.Write(z.Bytes())
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		io.WriteString(w, page)
	})
	return b
}

// links returns the page's top-level and nested link members.
func links(t *testing.T, body []byte) (next, nested, other, seeAlso string) {
	t.Helper()
	var page struct {
		Next    string `json:"@odata.nextLink"`
		Other   string `json:"other@odata.nextLink"`
		SeeAlso string `json:"seeAlso"`
		Value   []struct {
			Alerts string `json:"alerts@odata.nextLink"`
		} `json:"value"`
	}
	if err := json.Unmarshal(body, &page); err != nil || len(page.Value) != 1 {
		t.Fatalf("the rewritten page is not the JSON it was (%v): %.300s", err, body)
	}
	return page.Next, page.Value[0].Alerts, page.Other, page.SeeAlso
}

func TestPagingLinksStayInTheProxy(t *testing.T) {
	backend := pagedBackend(t, 0, false)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(),
		routes: []config.Route{{Prefix: "/mde/", URL: testutil.ParseURL(t, backend.server.URL+"/api"), Scope: "https://api.securitycenter.microsoft.com/.default"}}})
	tests := []struct {
		name, path string
		header     http.Header
		next       string // after the proxy's origin
		nested     string
	}{
		{"header", "/api/incidents", tenantHeader("contoso"), "/api/incidents?$top=2&$skip=2", "/api/incidents/1/alerts?$skip=5"},
		{"tenant prefix as spelled", "/tenants/Contoso/api/incidents", nil, "/tenants/Contoso/api/incidents?$top=2&$skip=2", "/tenants/Contoso/api/incidents/1/alerts?$skip=5"},
		{"route with a base path", "/mde/machines", tenantHeader("contoso"), "/mde/machines?$top=2&$skip=2", "/mde/incidents/1/alerts?$skip=5"},
		{"route and tenant prefix", "/tenants/fabrikam/mde/machines", nil, "/tenants/fabrikam/mde/machines?$top=2&$skip=2", "/tenants/fabrikam/mde/incidents/1/alerts?$skip=5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.do(t, "GET", tt.path, tt.header, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			next, nested, other, seeAlso := links(t, body)
			if next != s.proxyURL+tt.next || nested != s.proxyURL+tt.nested {
				t.Errorf("links %q and %q, want %q and %q", next, nested, s.proxyURL+tt.next, s.proxyURL+tt.nested)
			}
			if other != "https://graph.microsoft.com/v1.0/x?$skip=1" || seeAlso != backend.server.URL+"/api/incidents" {
				t.Errorf("links to another host or outside a link member changed: %q, %q", other, seeAlso)
			}
			if resp.ContentLength != int64(len(body)) || resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %q for %d bytes", resp.Header.Get("Content-Length"), len(body))
			}
		})
	}
	// Following the link goes through the proxy, to the same upstream path.
	resp, body := s.do(t, "GET", "/tenants/fabrikam/mde/machines", nil, nil)
	next, _, _, _ := links(t, body)
	before := len(backend.Requests())
	resp, body = s.do(t, "GET", strings.TrimPrefix(next, s.proxyURL), nil, nil)
	reqs := backend.Requests()
	if resp.StatusCode != http.StatusOK || len(reqs) != before+1 || reqs[before].Path != "/api/machines" || reqs[before].RawQuery != "$top=2&$skip=2" {
		t.Errorf("following the link: %d, upstream saw %+v", resp.StatusCode, reqs[before:])
	}
}

// TestPagingLinksFollowEachRequest: the rules compiled for one answer
// are kept, so each request must still get links for its own Host and
// its own spelling of the tenant prefix, past the most rules kept too.
func TestPagingLinksFollowEachRequest(t *testing.T) {
	backend := pagedBackend(t, 0, false)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	for i := range 300 {
		host := fmt.Sprintf("h%d.example:8080", i%260)
		spelled := []string{"contoso", "CONTOSO", "Contoso"}[i%3]
		req, _ := http.NewRequest("GET", s.proxyURL+"/tenants/"+spelled+"/api/incidents", nil)
		req.Host = host
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "http://" + host + "/tenants/" + spelled + "/api/incidents?$top=2&$skip=2"
		if next, _, _, _ := links(t, body); next != want {
			t.Fatalf("request %d: nextLink %q, want %q", i, next, want)
		}
	}
}

func TestPagingLinksPublicURL(t *testing.T) {
	backend := pagedBackend(t, 0, false)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), publicURL: testutil.ParseURL(t, "https://xdrproxy.soc.example")})
	h := tenantHeader("contoso")
	h.Set("X-Forwarded-Host", "evil.example")
	_, body := s.do(t, "GET", "/api/incidents", h, nil)
	if next, _, _, _ := links(t, body); next != "https://xdrproxy.soc.example/api/incidents?$top=2&$skip=2" {
		t.Errorf("nextLink %q, want the public URL's", next)
	}
}

// smallAnswer is the largest answer the proxy rewrites whole (32 KiB).
const smallAnswer = 32 << 10

func TestPagingLinksLargeAndCompressedPages(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pad     int
		gzipped bool
		accept  string
		sent    string // Accept-Encoding the upstream must see
	}{
		{"large page, streamed", 1 << 20, false, "identity", ""},
		{"gzip, narrowed and decoded", 1000, true, "br, gzip;q=0.8, zstd", "gzip;q=0.8"},
		{"large gzip page", 1 << 20, true, "gzip", "gzip"},
		{"only encodings the proxy cannot decode", 1000, true, "br", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backend := pagedBackend(t, tc.pad, tc.gzipped)
			s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
			h := tenantHeader("contoso")
			h.Set("Accept-Encoding", tc.accept) // set: the client's transport then leaves the body alone
			resp, body := s.do(t, "GET", "/api/incidents", h, nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" {
				t.Fatalf("status %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
			}
			if next, _, _, _ := links(t, body); next != s.proxyURL+"/api/incidents?$top=2&$skip=2" {
				t.Errorf("nextLink %q", next)
			}
			if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %s for %d bytes", cl, len(body))
			}
			if tc.pad > smallAnswer && (resp.ContentLength != -1 || len(resp.TransferEncoding) == 0) {
				t.Errorf("a %d-byte page was not streamed: Content-Length %d, Transfer-Encoding %v", len(body), resp.ContentLength, resp.TransferEncoding)
			}
			if got := backend.Requests()[0].Header.Get("Accept-Encoding"); tc.sent != "" && got != tc.sent || tc.sent == "" && strings.Contains(got, "br") {
				t.Errorf("upstream saw Accept-Encoding %q, want %q", got, tc.sent)
			}
		})
	}
}

// TestNoCompressionTheClientDidNotAskFor checks that a client sending no
// Accept-Encoding gets the upstream's answer as it was: the proxy asks
// for no compression on its behalf, so a small page keeps its exact
// Content-Length instead of being un-gzipped and sent chunked.
func TestNoCompressionTheClientDidNotAskFor(t *testing.T) {
	backend := pagedBackend(t, 1000, true)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	plain := &http.Transport{DisableCompression: true} // sends no Accept-Encoding
	t.Cleanup(plain.CloseIdleConnections)
	req, _ := http.NewRequest("GET", s.proxyURL+"/api/incidents", nil)
	req.Header.Set("X-Tenant-ID", "contoso")
	resp, err := (&http.Client{Transport: plain}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := backend.Requests()[0].Header.Values("Accept-Encoding"); len(got) != 0 {
		t.Errorf("upstream saw Accept-Encoding %q from a client that sent none", got)
	}
	if resp.ContentLength != int64(len(body)) || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("Content-Length %d, Content-Encoding %q for a %d-byte page: not the upstream's answer as it was",
			resp.ContentLength, resp.Header.Get("Content-Encoding"), len(body))
	}
	if next, _, _, _ := links(t, body); next != s.proxyURL+"/api/incidents?$top=2&$skip=2" {
		t.Errorf("nextLink %q", next)
	}
}

func TestPagingLeavesOtherBodiesAlone(t *testing.T) {
	const text = `{"@odata.nextLink":"SELF/api/x"}`
	backend := newBackend(t, nil)
	backend.respond = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("type"))
		io.WriteString(w, strings.ReplaceAll(text, "SELF", backend.server.URL))
	}
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	for _, ct := range []string{"text/plain", "application/octet-stream", "text/html"} {
		_, body := s.do(t, "GET", "/api/x?type="+ct, tenantHeader("contoso"), nil)
		if want := strings.ReplaceAll(text, "SELF", backend.server.URL); string(body) != want {
			t.Errorf("%s body changed: %s", ct, body)
		}
	}
	_, body := s.do(t, "GET", "/api/x?type=application/vnd.api%2Bjson", tenantHeader("contoso"), nil)
	if !strings.Contains(string(body), s.proxyURL+"/api/x") {
		t.Errorf("+json body not rewritten: %s", body)
	}
}

// TestPagingThroughTheSimulator follows every page of the simulator's
// lists, as an SDK's page iterator does, with a client key: no page
// leaves the proxy, and no client credential ever reaches the upstream.
func TestPagingThroughTheSimulator(t *testing.T) {
	s := newStack(t, stackOptions{
		clientKeys: keysFile(t, map[string]string{gatewayKey: "*"}),
		routesFor: func(simURL string) []config.Route {
			return []config.Route{{Prefix: "/graph/", URL: testutil.ParseURL(t, simURL), Scope: "https://graph.microsoft.com/.default"}}
		},
	})
	for _, tc := range []struct {
		start  string
		header http.Header
		delta  bool
	}{
		{"/api/incidents?$top=2", tenantHeader("contoso"), false},
		{"/tenants/fabrikam/api/alerts?$top=7", nil, false},
		{"/graph/v1.0/security/incidents?$top=3", tenantHeader("contoso"), false},
		{"/tenants/contoso/graph/v1.0/security/alerts_v2?$top=5", nil, false},
		{"/tenants/contoso/graph/v1.0/users/delta?$top=5", nil, true},
	} {
		t.Run(tc.start, func(t *testing.T) {
			seen := map[string]bool{}
			link, pages := s.proxyURL+tc.start, 0
			var deltaLink string
			for link != "" {
				if !strings.HasPrefix(link, s.proxyURL+"/") {
					t.Fatalf("page %d links out of the proxy: %s", pages, link)
				}
				h := http.Header{"Authorization": {"Bearer " + gatewayKey}}
				for k, v := range tc.header {
					h[k] = v
				}
				resp, body := s.do(t, "GET", strings.TrimPrefix(link, s.proxyURL), h, nil)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("page %d (%s): %d %s", pages, link, resp.StatusCode, body)
				}
				var page struct {
					Value []json.RawMessage `json:"value"`
					Next  string            `json:"@odata.nextLink"`
					Delta string            `json:"@odata.deltaLink"`
				}
				if err := json.Unmarshal(body, &page); err != nil {
					t.Fatal(err)
				}
				for _, item := range page.Value {
					if seen[string(item)] {
						t.Errorf("page %d repeats an item", pages)
					}
					seen[string(item)] = true
				}
				pages++
				link, deltaLink = page.Next, page.Delta
			}
			if pages < 2 {
				t.Errorf("%d page(s): the simulator should page this list", pages)
			}
			if tc.delta != (deltaLink != "") || deltaLink != "" && !strings.HasPrefix(deltaLink, s.proxyURL+"/tenants/contoso/graph/v1.0/") {
				t.Errorf("deltaLink %q", deltaLink)
			}
		})
	}
	if n := s.sim.ForeignCredentials(); n != 0 {
		t.Errorf("%d requests reached the upstream with a client credential: %+v", n, s.sim.ForeignCredentialRequests())
	}
}

// TestPagingLinksRouteWithoutTrailingSlash: XDRPROXY_ROUTES accepts a
// prefix without a trailing slash (/graph=https://graph.microsoft.com).
// A link on that route's upstream must come back under /graph/, not
// glued to it (/graphv1.0/…), which the default route would serve with
// the default scope's token.
func TestPagingLinksRouteWithoutTrailingSlash(t *testing.T) {
	backend := pagedBackend(t, 0, false)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(),
		routes: []config.Route{{Prefix: "/graph", URL: testutil.ParseURL(t, backend.server.URL), Scope: "https://graph.microsoft.com/.default"}}})
	resp, body := s.do(t, "GET", "/graph/api/incidents", tenantHeader("contoso"), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if _, nested, _, _ := links(t, body); nested != s.proxyURL+"/graph/api/incidents/1/alerts?$skip=5" {
		t.Errorf("nested link %q, want %q", nested, s.proxyURL+"/graph/api/incidents/1/alerts?$skip=5")
	}
	// The prefix stands for the URL's path slash for slash: /graph/api/x
	// goes to /api/x, not //api/x.
	if reqs := backend.Requests(); reqs[len(reqs)-1].Path != "/api/incidents" {
		t.Errorf("upstream saw %q", reqs[len(reqs)-1].Path)
	}
}

// TestPagingLinksOutsideTheRouteBasePath: a link on the route's upstream
// host but outside its base path leads back through another route on that
// host; one no route reaches is left alone.
func TestPagingLinksOutsideTheRouteBasePath(t *testing.T) {
	var backend *recordingBackend
	backend = newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"value":[],"@odata.nextLink":"%[1]s/beta/users?$skiptoken=x","@odata.deltaLink":"%[1]s/other/y"}`, backend.server.URL)
	})
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(),
		routes: []config.Route{
			{Prefix: "/g1/", URL: testutil.ParseURL(t, backend.server.URL+"/v1.0"), Scope: "https://graph.microsoft.com/.default"},
			{Prefix: "/gb/", URL: testutil.ParseURL(t, backend.server.URL+"/beta"), Scope: "https://graph.microsoft.com/.default"},
		}})
	_, body := s.do(t, "GET", "/g1/users", tenantHeader("contoso"), nil)
	var page map[string]string
	json.Unmarshal(body, &page)
	if page["@odata.nextLink"] != s.proxyURL+"/gb/users?$skiptoken=x" {
		t.Errorf("nextLink %q, want it through the /gb/ route", page["@odata.nextLink"])
	}
	// The default route (the backend's root) reaches /other/y.
	if page["@odata.deltaLink"] != s.proxyURL+"/other/y" {
		t.Errorf("deltaLink %q, want it through the default route", page["@odata.deltaLink"])
	}
}

// TestPagingHeadersDescribeTheBodySent: a decoded or rewritten body loses
// the headers that described the upstream's bytes; HEAD gets what GET
// would; a 206 is left alone; an answer that cannot be decoded says so.
func TestPagingHeadersDescribeTheBodySent(t *testing.T) {
	var backend *recordingBackend
	backend = newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		page := []byte(fmt.Sprintf(`{"value":[],"@odata.nextLink":"%s/api/x?$skip=1"}`, backend.server.URL))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `"v1"`)
		switch r.URL.Query().Get("as") {
		case "gzip":
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(page)
			zw.Close()
			page = z.Bytes()
			w.Header().Set("Content-Encoding", "gzip")
		case "broken-gzip":
			page = []byte("not gzip at all")
			w.Header().Set("Content-Encoding", "gzip")
		case "partial":
			w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/1000", len(page)-1))
			w.Header().Set("Content-Length", strconv.Itoa(len(page)))
			w.WriteHeader(http.StatusPartialContent)
		}
		w.Write(page)
	})
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	h := tenantHeader("contoso")
	h.Set("Accept-Encoding", "gzip")

	resp, body := s.do(t, "GET", "/api/x?as=gzip", h, nil)
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Etag") != `W/"v1"` || !strings.Contains(string(body), s.proxyURL+"/api/x?$skip=1") {
		t.Errorf("gzip GET: Content-Encoding %q, ETag %q, body %s", resp.Header.Get("Content-Encoding"), resp.Header.Get("Etag"), body)
	}
	resp, _ = s.do(t, "HEAD", "/api/x?as=gzip", h, nil)
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Length") != "" || resp.Header.Get("Etag") != `W/"v1"` {
		t.Errorf("gzip HEAD: headers %v, want what the GET has", resp.Header)
	}
	resp, body = s.do(t, "GET", "/api/x?as=identity", h, nil)
	if resp.Header.Get("Etag") != `W/"v1"` || resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("rewritten small body: ETag %q, Content-Length %q for %d bytes", resp.Header.Get("Etag"), resp.Header.Get("Content-Length"), len(body))
	}
	resp, body = s.do(t, "GET", "/api/x?as=partial", h, nil)
	if resp.StatusCode != http.StatusPartialContent || !strings.Contains(string(body), backend.server.URL) || resp.Header.Get("Etag") != `"v1"` {
		t.Errorf("206: %d %q, %s", resp.StatusCode, resp.Header.Get("Etag"), body)
	}
	resp, body = s.do(t, "GET", "/api/x?as=broken-gzip", h, nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "could not be decoded") {
		t.Errorf("undecodable answer: %d %s", resp.StatusCode, body)
	}
}
