package simulator_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// checkDeltaLinks checks Graph's delta link shapes: every page but the
// last has a nextLink whose only parameter is $skiptoken, the last a
// deltaLink whose only parameter is $deltatoken, all on path.
func checkDeltaLinks(t *testing.T, sim *simulator.Server, path string, pages []listPage) string {
	t.Helper()
	for i, p := range pages {
		last := i == len(pages)-1
		link, param := p.NextLink, "$skiptoken"
		if last {
			link, param = p.DeltaLink, "$deltatoken"
			if p.NextLink != "" {
				t.Errorf("last page has a nextLink %q", p.NextLink)
			}
		} else if p.DeltaLink != "" {
			t.Errorf("page %d has a deltaLink %q before the last page", i, p.DeltaLink)
		}
		u, err := url.Parse(link)
		if err != nil || link == "" {
			t.Fatalf("page %d: link %q: %v", i, link, err)
		}
		if !strings.HasPrefix(link, sim.URL()+path+"?") || len(u.Query()) != 1 || u.Query().Get(param) == "" {
			t.Errorf("page %d link %q, want %s%s?%s=<token> only", i, link, sim.URL(), path, param)
		}
	}
	return pages[len(pages)-1].DeltaLink
}

// TestUsersDelta runs rounds of change tracking on users/delta: a full
// sync two users a page ending in a deltaLink, an empty round, users
// added, users removed, and $select carried by the tokens.
func TestUsersDelta(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	tok := token(t, c, sim, simulator.ContosoTenantID, graphScope)
	const path = "/v1.0/users/delta"

	pages := walk(t, c, sim, sim.URL()+path+"?$top=2", tok)
	deltaLink := checkDeltaLinks(t, sim, path, pages)
	ids := itemIDs(t, pages, "id")
	if len(ids) != 12 || len(pages) != 6 {
		t.Fatalf("full sync: %d users in %d pages, want 12 in 6", len(ids), len(pages))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("user %s listed twice", id)
		}
		seen[id] = true
	}
	if want := sim.URL() + "/v1.0/$metadata#users"; pages[0].Context != want {
		t.Errorf("@odata.context %q, want %q", pages[0].Context, want)
	}

	t.Run("nothing changed", func(t *testing.T) {
		p, _ := getPage(t, c, deltaLink, tok)
		if len(p.Value) != 0 || p.NextLink != "" || p.DeltaLink == "" {
			t.Errorf("round without changes: %d users, nextLink %q, deltaLink %q; want none, none, a new one", len(p.Value), p.NextLink, p.DeltaLink)
		}
		checkDeltaLinks(t, sim, path, []listPage{p})
	})

	t.Run("users added then removed", func(t *testing.T) {
		if err := sim.SetTenant(simulator.Tenant{ID: simulator.ContosoTenantID, Name: "Contoso", Consented: true, Roles: simulator.DefaultRoles, Users: 15}); err != nil {
			t.Fatal(err)
		}
		added := walk(t, c, sim, deltaLink, tok)
		next := checkDeltaLinks(t, sim, path, added)
		newIDs := itemIDs(t, added, "id")
		if len(newIDs) != 3 || len(added) != 2 {
			t.Fatalf("after adding 3 users: %d users in %d pages, want 3 in 2 (the round keeps $top=2)", len(newIDs), len(added))
		}
		for _, id := range newIDs {
			if seen[id] {
				t.Errorf("user %s reported as new but was in the full sync", id)
			}
		}
		if err := sim.SetTenant(simulator.Tenant{ID: simulator.ContosoTenantID, Name: "Contoso", Consented: true, Roles: simulator.DefaultRoles, Users: 13}); err != nil {
			t.Fatal(err)
		}
		removed := walk(t, c, sim, next, tok)
		checkDeltaLinks(t, sim, path, removed)
		var gone []string
		for _, p := range removed {
			for _, item := range p.Value {
				if r, ok := item["@removed"].(map[string]any); !ok || r["reason"] != "deleted" {
					t.Errorf("removal entry %v lacks @removed", item)
				}
				gone = append(gone, item["id"].(string))
			}
		}
		if !slices.Equal(gone, newIDs[1:]) {
			t.Errorf("removed %v, want %v", gone, newIDs[1:])
		}
	})

	t.Run("select travels in the tokens", func(t *testing.T) {
		pages := walk(t, c, sim, sim.URL()+path+"?$select=displayName,jobTitle&$top=5", tok)
		checkDeltaLinks(t, sim, path, pages)
		for i, p := range pages {
			for _, item := range p.Value {
				if len(item) != 3 || item["displayName"] == nil || item["jobTitle"] == nil {
					t.Errorf("page %d item %v, want id, displayName and jobTitle only", i, item)
				}
			}
		}
	})

	t.Run("sync from now", func(t *testing.T) {
		p, _ := getPage(t, c, sim.URL()+path+"?$deltatoken=latest", tok)
		if len(p.Value) != 0 || p.DeltaLink == "" {
			t.Errorf("$deltatoken=latest: %d users, deltaLink %q", len(p.Value), p.DeltaLink)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		fabrikam := token(t, c, sim, simulator.FabrikamTenantID, graphScope)
		for name, tt := range map[string]struct{ url, tok string }{
			"garbage skiptoken":          {sim.URL() + path + "?$skiptoken=garbage", tok},
			"deltatoken as skiptoken":    {sim.URL() + path + "?$skiptoken=" + mustQuery(t, deltaLink, "$deltatoken"), tok},
			"another tenant's token":     {deltaLink, fabrikam},
			"top over 999":               {sim.URL() + path + "?$top=1000", tok},
			"unknown property selected":  {sim.URL() + path + "?$select=bogus", tok},
			"query option not simulated": {sim.URL() + path + "?$orderby=displayName", tok},
		} {
			resp, body := do(t, c, http.MethodGet, tt.url, tt.tok, nil)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400: %s", name, resp.StatusCode, body)
			}
		}
	})

	t.Run("role", func(t *testing.T) {
		const noUsers = "44444444-4444-4444-8444-444444444444"
		if err := sim.SetTenant(simulator.Tenant{ID: noUsers, Name: "NoUsers", Consented: true, GraphRoles: []string{"SecurityIncident.Read.All"}}); err != nil {
			t.Fatal(err)
		}
		resp, body := do(t, c, http.MethodGet, sim.URL()+path, token(t, c, sim, noUsers, graphScope), nil)
		checkGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied")
	})

	t.Run("default page", func(t *testing.T) {
		const big = "88888888-8888-4888-8888-888888888888"
		if err := sim.SetTenant(simulator.Tenant{ID: big, Name: "Big", Consented: true, Users: 230}); err != nil {
			t.Fatal(err)
		}
		pages := walk(t, c, sim, sim.URL()+path, token(t, c, sim, big, graphScope))
		checkDeltaLinks(t, sim, path, pages)
		if got := pageSizes(pages); !slices.Equal(got, []int{100, 100, 30}) {
			t.Errorf("page sizes %v for 230 users, want [100 100 30]", got)
		}
	})

	t.Run("SDK spelling", func(t *testing.T) {
		const sdkPath = "/v1.0/users/microsoft.graph.delta()"
		pages := walk(t, c, sim, sim.URL()+sdkPath+"?$top=7", tok)
		checkDeltaLinks(t, sim, sdkPath, pages)
	})
}

// mustQuery is the value of param in rawURL's query.
func mustQuery(t *testing.T, rawURL, param string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(param)
}
