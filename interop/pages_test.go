package interop

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// api is one API the clients call through the proxy.
type api struct {
	name  string
	scope string // what the client asks a token for (ADAL drops /.default)
	path  string // the first page, from the proxy's origin
}

// apis are the Defender XDR API and the Graph security API behind the
// demo's /graph/ route, four incidents a page so that the simulator's 25
// take 7 pages. Three clients of one tenant then make 21 Defender
// requests, well inside the demo's 50 a minute a tenant: a request over
// it would wait in the proxy's queue, slowing the test down.
var apis = []api{
	{name: "defender", scope: "https://api.security.microsoft.com/.default", path: "/api/incidents?$top=4"},
	{name: "graph", scope: "https://graph.microsoft.com/.default", path: "/graph/v1.0/security/incidents?$top=4"},
}

// maxPages bounds a paging loop that a wrong link would make endless; the
// Python clients use the same bound.
const maxPages = 100

// page is one response a client got while paging, in the shape the
// Python clients print it.
type page struct {
	URL    string          `json:"url"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
	// Error is why the page could not be fetched (Status is then 0).
	Error string `json:"error"`
}

// listBody is what the checks read of a page: its next link and, for each
// incident, its ID and tenant in the Defender API's shape or Graph's.
type listBody struct {
	NextLink string `json:"@odata.nextLink"`
	Value    []struct {
		IncidentID  json.Number `json:"incidentId"`
		IncidentURI string      `json:"incidentUri"`
		ID          string      `json:"id"`
		TenantID    string      `json:"tenantId"`
	} `json:"value"`
}

// followPages gets first with the bearer token, then each @odata.nextLink
// as the server wrote it, as a Go program paging by hand would.
func followPages(ctx context.Context, c *http.Client, first, token string) []page {
	var pages []page
	for url := first; url != "" && len(pages) < maxPages; {
		p, next := getPage(ctx, c, url, token)
		pages = append(pages, p)
		url = next
	}
	return pages
}

// getPage gets one page and returns it with its next link, which is empty
// when there is none or the page failed.
func getPage(ctx context.Context, c *http.Client, url, token string) (page, string) {
	p := page{URL: url}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		p.Error = err.Error()
		return p, ""
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		p.Error = err.Error()
		return p, ""
	}
	defer resp.Body.Close()
	if p.Body, err = io.ReadAll(resp.Body); err != nil {
		p.Error = err.Error()
		return p, ""
	}
	p.Status = resp.StatusCode
	return p, nextLink(p)
}

// nextLink is a 200 page's @odata.nextLink, or empty.
func nextLink(p page) string {
	var l listBody
	if p.Status != http.StatusOK || json.Unmarshal(p.Body, &l) != nil {
		return ""
	}
	return l.NextLink
}

// checkPages asserts that a client paged through a whole list on the
// stack's origin: at least two pages, each fetched there with 200, every
// next link there too, the last page without one, and the incidents all
// distinct and all of tenantID.
func checkPages(t *testing.T, s stack, tenantID string, a api, pages []page) {
	t.Helper()
	if len(pages) < 2 {
		t.Errorf("%s: %d pages, want at least 2", a.name, len(pages))
	}
	seen := map[string]bool{}
	for i, p := range pages {
		if i == 0 && !onOrigin(p.URL, s.origin) { // later ones are next links, checked below
			t.Errorf("%s: the first page was fetched from %s, off the proxy's origin %s", a.name, p.URL, s.origin)
		}
		if p.Status != http.StatusOK {
			t.Errorf("%s: page %d (%s): status %d %s%.300s", a.name, i+1, p.URL, p.Status, p.Error, p.Body)
			return
		}
		var l listBody
		if err := json.Unmarshal(p.Body, &l); err != nil {
			t.Errorf("%s: page %d (%s) is no list: %v", a.name, i+1, p.URL, err)
			return
		}
		if l.NextLink != "" && !onOrigin(l.NextLink, s.origin) {
			t.Errorf("%s: page %d's @odata.nextLink %s is off the proxy's origin %s", a.name, i+1, l.NextLink, s.origin)
		}
		if i == len(pages)-1 && l.NextLink != "" {
			t.Errorf("%s: stopped after %d pages with a next link left", a.name, len(pages))
		}
		for _, v := range l.Value {
			id, tid := "defender:"+v.IncidentID.String(), tenantOfURI(v.IncidentURI)
			if v.ID != "" {
				id, tid = "graph:"+v.ID, v.TenantID
			}
			if seen[id] {
				t.Errorf("%s: incident %s came twice (page %d)", a.name, id, i+1)
			}
			seen[id] = true
			if tid != tenantID {
				t.Errorf("%s: incident %s is tenant %q's, want %s", a.name, id, tid, tenantID)
			}
		}
	}
	if len(seen) == 0 {
		t.Errorf("%s: no incidents in %d pages", a.name, len(pages))
	}
}

// onOrigin reports whether link is under origin (scheme, host and port).
func onOrigin(link, origin string) bool {
	return strings.HasPrefix(link, origin+"/")
}

// tenantOfURI is the tid parameter of a Defender incident's incidentUri.
func tenantOfURI(uri string) string {
	_, tid, _ := strings.Cut(uri, "?tid=")
	return tid
}
