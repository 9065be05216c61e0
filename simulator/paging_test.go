package simulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// listPage is one page of any simulated list, its items kept as decoded
// JSON objects (numbers as json.Number).
type listPage struct {
	Context   string           `json:"@odata.context"`
	NextLink  string           `json:"@odata.nextLink"`
	DeltaLink string           `json:"@odata.deltaLink"`
	Value     []map[string]any `json:"value"`
}

// getPage fetches one page and checks it is a 200 whose links are written
// as Microsoft writes them: & as &, not \u0026.
func getPage(t *testing.T, c *http.Client, rawURL, tok string) (listPage, []byte) {
	t.Helper()
	resp, body := do(t, c, http.MethodGet, rawURL, tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", rawURL, resp.StatusCode, body)
	}
	if bytes.Contains(body, []byte(`\u0026`)) {
		t.Errorf("GET %s: body HTML-escapes &: %.300s", rawURL, body)
	}
	var p listPage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("GET %s: %v: %.300s", rawURL, err, body)
	}
	return p, body
}

// walk follows @odata.nextLink from first to the last page and returns
// every page. Each link must be absolute on the simulator's origin and
// path; the last page must have no nextLink.
func walk(t *testing.T, c *http.Client, sim *simulator.Server, first, tok string) []listPage {
	t.Helper()
	path := strings.SplitN(strings.TrimPrefix(first, sim.URL()), "?", 2)[0]
	var pages []listPage
	for next := first; next != ""; {
		if len(pages) > 1000 {
			t.Fatalf("nextLink chain from %s does not end", first)
		}
		p, _ := getPage(t, c, next, tok)
		pages = append(pages, p)
		if p.NextLink != "" && !strings.HasPrefix(p.NextLink, sim.URL()+path+"?") {
			t.Fatalf("nextLink %q is not on %s%s", p.NextLink, sim.URL(), path)
		}
		next = p.NextLink
	}
	if last := pages[len(pages)-1]; last.NextLink != "" {
		t.Fatalf("last page has nextLink %q", last.NextLink)
	}
	return pages
}

// itemIDs are the values of key in every item of pages, in order.
func itemIDs(t *testing.T, pages []listPage, key string) []string {
	t.Helper()
	var out []string
	for _, p := range pages {
		for _, item := range p.Value {
			v, ok := item[key]
			if !ok {
				t.Fatalf("item without %q: %v", key, item)
			}
			out = append(out, fmt.Sprint(v))
		}
	}
	return out
}

func pageSizes(pages []listPage) []int {
	out := make([]int, len(pages))
	for i, p := range pages {
		out[i] = len(p.Value)
	}
	return out
}

// listEndpoints are the simulated lists that page with $top and $skip.
var listEndpoints = []struct {
	name, scope, path, idKey string
	defaultTop               int
}{
	{"defender incidents", defenderScope, "/api/incidents", "incidentId", 100},
	{"defender alerts", defenderScope, "/api/alerts", "id", 10000},
	{"graph incidents", graphScope, "/v1.0/security/incidents", "id", 50},
	{"graph alerts_v2", graphScope, "/v1.0/security/alerts_v2", "id", 2000},
}

// TestPagingFollowsNextLink walks each list of a demo tenant two items a
// page and finds every item once, in the order of the whole list, with
// links on the simulator's origin that keep the client's parameters.
func TestPagingFollowsNextLink(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	for _, ep := range listEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			tok := token(t, c, sim, simulator.ContosoTenantID, ep.scope)
			whole, _ := getPage(t, c, sim.URL()+ep.path, tok)
			if whole.NextLink != "" {
				t.Fatalf("the demo tenant's whole list does not fit the default page: nextLink %q", whole.NextLink)
			}
			want := itemIDs(t, []listPage{whole}, ep.idKey)
			if len(want) < 6 {
				t.Fatalf("the demo tenant lists %d items; $top=2 should span several pages", len(want))
			}

			first, body := getPage(t, c, sim.URL()+ep.path+"?$top=2", tok)
			wantLink := sim.URL() + ep.path + "?$top=2&$skip=2"
			if first.NextLink != wantLink {
				t.Errorf("first nextLink = %q, want %q", first.NextLink, wantLink)
			}
			if !bytes.Contains(body, []byte(`"@odata.nextLink":"`+wantLink+`"`)) {
				t.Errorf("body does not carry the link as written: %.300s", body)
			}

			pages := walk(t, c, sim, sim.URL()+ep.path+"?$top=2", tok)
			got := itemIDs(t, pages, ep.idKey)
			if !slices.Equal(got, want) {
				t.Errorf("walked %d items %v, want %d %v", len(got), got, len(want), want)
			}
			if n := len(pages); n != (len(want)+1)/2 {
				t.Errorf("%d pages of 2 for %d items", n, len(want))
			}
			for i, p := range pages {
				if p.Context != whole.Context {
					t.Errorf("page %d @odata.context %q, want %q", i, p.Context, whole.Context)
				}
			}
		})
	}
}

// TestPagingDefaultPageSize checks the page each list serves when the
// client names no $top, on a tenant large enough to need several.
func TestPagingDefaultPageSize(t *testing.T) {
	const big = "88888888-8888-4888-8888-888888888888"
	sim := &simulator.Server{}
	c := startSim(t, sim)
	if err := sim.SetTenant(simulator.Tenant{ID: big, Name: "Big", Consented: true, Roles: simulator.DefaultRoles, Incidents: 1100}); err != nil {
		t.Fatal(err)
	}
	for _, ep := range listEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			tok := token(t, c, sim, big, ep.scope)
			pages := walk(t, c, sim, sim.URL()+ep.path, tok)
			total := len(itemIDs(t, pages, ep.idKey))
			var want []int
			for left := total; left > 0; left -= ep.defaultTop {
				want = append(want, min(left, ep.defaultTop))
			}
			if got := pageSizes(pages); !slices.Equal(got, want) {
				t.Errorf("page sizes %v for %d items, want %v", got, total, want)
			}
			if len(pages) > 1 {
				if want := fmt.Sprintf("%s%s?$skip=%d", sim.URL(), ep.path, ep.defaultTop); pages[0].NextLink != want {
					t.Errorf("first nextLink %q, want %q", pages[0].NextLink, want)
				}
			}
		})
	}
}

// TestPagingKeepsFilter follows a filtered list: every page applies the
// filter, and the links carry it as the client wrote it.
func TestPagingKeepsFilter(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	tests := []struct {
		name, scope, path, filter, key, value string
	}{
		{"defender alerts", defenderScope, "/api/alerts", "status eq 'New'", "status", "New"},
		{"graph alerts_v2", graphScope, "/v1.0/security/alerts_v2", "status eq 'new'", "status", "new"},
		{"graph incidents", graphScope, "/v1.0/security/incidents", "severity eq 'high'", "severity", "high"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := token(t, c, sim, simulator.ContosoTenantID, tt.scope)
			whole, _ := getPage(t, c, sim.URL()+tt.path, tok)
			n := 0
			for _, item := range whole.Value {
				if item[tt.key] == tt.value {
					n++
				}
			}
			if n < 3 || n == len(whole.Value) {
				t.Fatalf("%d of %d items match %q; the test needs a filter that discriminates and pages", n, len(whole.Value), tt.filter)
			}
			filter := "$filter=" + url.PathEscape(tt.filter)
			pages := walk(t, c, sim, sim.URL()+tt.path+"?"+filter+"&$top=2", tok)
			got := 0
			for i, p := range pages {
				for _, item := range p.Value {
					if item[tt.key] != tt.value {
						t.Errorf("page %d holds %v", i, item[tt.key])
					}
					got++
				}
				if p.NextLink != "" && !strings.Contains(p.NextLink, "?"+filter+"&$top=2&$skip=") {
					t.Errorf("page %d nextLink %q does not keep %q", i, p.NextLink, filter)
				}
			}
			if got != n {
				t.Errorf("walked %d matching items, want %d", got, n)
			}
		})
	}
}
