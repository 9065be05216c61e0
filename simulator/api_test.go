package simulator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

type incidentList struct {
	Context  string               `json:"@odata.context"`
	NextLink string               `json:"@odata.nextLink"`
	Value    []simulator.Incident `json:"value"`
}

func listIncidents(t *testing.T, c *http.Client, rawURL, tok string) incidentList {
	t.Helper()
	resp, body := do(t, c, http.MethodGet, rawURL, tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", rawURL, resp.StatusCode, body)
	}
	var l incidentList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("GET %s: %v: %s", rawURL, err, body)
	}
	return l
}

func ids(incs []simulator.Incident) []int {
	out := make([]int, len(incs))
	for i, inc := range incs {
		out[i] = inc.IncidentID
	}
	return out
}

func TestIncidents(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	contoso := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	fabrikam := token(t, c, sim, simulator.FabrikamTenantID, defenderScope)
	base := sim.URL() + "/api/incidents"

	all := listIncidents(t, c, base, contoso)
	t.Run("list", func(t *testing.T) {
		if len(all.Value) != 25 {
			t.Errorf("got %d incidents, want 25", len(all.Value))
		}
		if want := sim.URL() + "/api/$metadata#Incidents"; all.Context != want {
			t.Errorf("@odata.context = %q, want %q", all.Context, want)
		}
		if all.NextLink != "" {
			t.Errorf("@odata.nextLink = %q on a complete list", all.NextLink)
		}
		seen := map[int]bool{}
		for _, inc := range all.Value {
			if seen[inc.IncidentID] {
				t.Errorf("duplicate incident id %d", inc.IncidentID)
			}
			seen[inc.IncidentID] = true
			if len(inc.Alerts) == 0 {
				t.Errorf("incident %d has no alerts", inc.IncidentID)
			}
			if !strings.Contains(inc.IncidentURI, "tid="+simulator.ContosoTenantID) {
				t.Errorf("incident %d uri %q does not name the tenant", inc.IncidentID, inc.IncidentURI)
			}
		}
	})

	t.Run("top and nextLink", func(t *testing.T) {
		page := listIncidents(t, c, base+"?$top=2", contoso)
		if got := ids(page.Value); !slices.Equal(got, ids(all.Value[:2])) {
			t.Errorf("$top=2 ids = %v, want %v", got, ids(all.Value[:2]))
		}
		if page.NextLink == "" {
			t.Fatal("$top=2 has no @odata.nextLink")
		}
		if !strings.HasPrefix(page.NextLink, sim.URL()+"/api/incidents?") {
			t.Errorf("nextLink = %q, want it on %s/api/incidents", page.NextLink, sim.URL())
		}
		// Following nextLinks walks the whole list, in order, once.
		var walked []int
		next := base + "?$top=10"
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatal("nextLink chain does not end")
			}
			p := listIncidents(t, c, next, contoso)
			if len(p.Value) > 10 {
				t.Errorf("page of %d with $top=10", len(p.Value))
			}
			walked = append(walked, ids(p.Value)...)
			next = p.NextLink
		}
		if !slices.Equal(walked, ids(all.Value)) {
			t.Errorf("walked ids = %v, want %v", walked, ids(all.Value))
		}
	})

	t.Run("skip past the end", func(t *testing.T) {
		p := listIncidents(t, c, base+"?$skip=100", contoso)
		if len(p.Value) != 0 || p.NextLink != "" {
			t.Errorf("$skip=100: %d incidents, nextLink %q; want none", len(p.Value), p.NextLink)
		}
	})

	severity := map[string]int{}
	for _, inc := range all.Value {
		severity[inc.Severity]++
	}
	filters := []struct {
		name, filter string
		want         func(simulator.Incident) bool
	}{
		{"severity High", "severity eq 'High'", func(i simulator.Incident) bool { return i.Severity == "High" }},
		{"status ne Resolved", "status ne 'Resolved'", func(i simulator.Incident) bool { return i.Status != "Resolved" }},
		{"severity and status", "severity ne 'Low' and status eq 'Active'", func(i simulator.Incident) bool {
			return i.Severity != "Low" && i.Status == "Active"
		}},
		{"createdTime ge", "createdTime ge " + all.Value[5].CreatedTime, func(i simulator.Incident) bool {
			return i.CreatedTime >= all.Value[5].CreatedTime
		}},
	}
	for _, tt := range filters {
		t.Run("filter "+tt.name, func(t *testing.T) {
			var want []int
			for _, inc := range all.Value {
				if tt.want(inc) {
					want = append(want, inc.IncidentID)
				}
			}
			if len(want) == 0 || len(want) == len(all.Value) {
				t.Fatalf("filter %q selects %d of %d in the data; pick one that discriminates", tt.filter, len(want), len(all.Value))
			}
			p := listIncidents(t, c, base+"?$filter="+url.QueryEscape(tt.filter), contoso)
			if got := ids(p.Value); !slices.Equal(got, want) {
				t.Errorf("$filter=%s ids = %v, want %v", tt.filter, got, want)
			}
		})
	}

	badQueries := []struct{ name, query string }{
		{"top over 100", "$top=101"},
		{"top negative", "$top=-1"},
		{"top not a number", "$top=ten"},
		{"skip not a number", "$skip=x"},
		{"unknown field", "$filter=" + url.QueryEscape("bogus eq 1")},
		{"unparsable clause", "$filter=" + url.QueryEscape("severity eq")},
		{"unsupported operator", "$filter=" + url.QueryEscape("severity has 'High'")},
		{"bad timestamp", "$filter=" + url.QueryEscape("createdTime ge yesterday")},
	}
	for _, tt := range badQueries {
		t.Run("bad query "+tt.name, func(t *testing.T) {
			resp, body := do(t, c, http.MethodGet, base+"?"+tt.query, contoso, nil)
			checkAPIError(t, resp, body, http.StatusBadRequest, "ODataError")
		})
	}

	t.Run("top 100 is allowed", func(t *testing.T) {
		p := listIncidents(t, c, base+"?$top=100", contoso)
		if len(p.Value) != 25 {
			t.Errorf("$top=100 gave %d, want 25", len(p.Value))
		}
	})

	t.Run("get by id", func(t *testing.T) {
		want := all.Value[3]
		resp, body := do(t, c, http.MethodGet, base+"/"+strconv.Itoa(want.IncidentID), contoso, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var got simulator.Incident
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("incident %d:\n got %s\nwant %s", want.IncidentID, gotJSON, wantJSON)
		}
	})

	fab := listIncidents(t, c, base, fabrikam)
	notFound := []struct{ name, id string }{
		{"unknown id", "999999999"},
		{"not a number", "abc"},
		{"another tenant's incident", strconv.Itoa(fab.Value[0].IncidentID)},
	}
	for _, tt := range notFound {
		t.Run("get "+tt.name, func(t *testing.T) {
			resp, body := do(t, c, http.MethodGet, base+"/"+tt.id, contoso, nil)
			e := checkAPIError(t, resp, body, http.StatusNotFound, "ResourceNotFound")
			if !strings.Contains(e.Error.Message, tt.id) {
				t.Errorf("message %q does not name id %s", e.Error.Message, tt.id)
			}
		})
	}

	t.Run("deterministic", func(t *testing.T) {
		_, b1 := do(t, c, http.MethodGet, base+"?$top=7", contoso, nil)
		_, b2 := do(t, c, http.MethodGet, base+"?$top=7", contoso, nil)
		if !bytes.Equal(b1, b2) {
			t.Errorf("two identical calls differ:\n%s\n%s", b1, b2)
		}
		// A fresh simulator (new keys, new CA) serves the same data.
		other := &simulator.Server{}
		oc := startSim(t, other)
		again := listIncidents(t, oc, other.URL()+"/api/incidents", token(t, oc, other, simulator.ContosoTenantID, defenderScope))
		a1, _ := json.Marshal(all.Value)
		a2, _ := json.Marshal(again.Value)
		if !bytes.Equal(a1, a2) {
			t.Error("another simulator instance serves different incidents for the same tenant")
		}
	})

	t.Run("tenants differ", func(t *testing.T) {
		if len(fab.Value) != 25 {
			t.Fatalf("fabrikam has %d incidents, want 25", len(fab.Value))
		}
		for _, id := range ids(fab.Value) {
			if slices.Contains(ids(all.Value), id) {
				t.Errorf("incident id %d is in both tenants", id)
			}
		}
		for _, inc := range fab.Value {
			if inc.AssignedTo != nil && !strings.HasSuffix(*inc.AssignedTo, "@fabrikam.example") {
				t.Errorf("fabrikam incident assigned to %q", *inc.AssignedTo)
			}
		}
	})

	t.Run("incident count knob", func(t *testing.T) {
		const small = "55555555-5555-4555-8555-555555555555"
		if err := sim.SetTenant(simulator.Tenant{ID: small, Name: "Small Co", Consented: true, Roles: simulator.DefaultRoles, Incidents: 3}); err != nil {
			t.Fatal(err)
		}
		p := listIncidents(t, c, base, token(t, c, sim, small, defenderScope))
		if len(p.Value) != 3 {
			t.Errorf("got %d incidents, want 3", len(p.Value))
		}
	})
}

func TestAdvancedHunting(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	tok := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	huntURL := sim.URL() + "/api/advancedhunting/run"

	type result struct {
		Schema []struct {
			Name, Type string
		}
		Results []map[string]any
		Stats   map[string]any
	}
	ok := []struct {
		name, body string
		rows       int
	}{
		{"take 3", `{"Query":"X | take 3"}`, 3},
		{"limit 2", `{"Query":"DeviceProcessEvents|limit 2"}`, 2},
		{"no limit", `{"Query":"DeviceProcessEvents"}`, 5},
		{"take 0", `{"Query":"X | take 0"}`, 0},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, c, http.MethodPost, huntURL, tok, strings.NewReader(tt.body))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var r result
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			if len(r.Results) != tt.rows {
				t.Errorf("%d results, want %d", len(r.Results), tt.rows)
			}
			if len(r.Schema) == 0 {
				t.Fatal("no Schema")
			}
			if r.Stats == nil {
				t.Error("no Stats")
			}
			for i, row := range r.Results {
				if len(row) != len(r.Schema) {
					t.Errorf("row %d has %d columns, schema %d", i, len(row), len(r.Schema))
				}
				for _, col := range r.Schema {
					if _, ok := row[col.Name]; !ok {
						t.Errorf("row %d lacks schema column %q", i, col.Name)
					}
				}
				if dn, _ := row["DeviceName"].(string); !strings.HasPrefix(dn, "contoso-") {
					t.Errorf("row %d DeviceName = %q, want the tenant's devices", i, dn)
				}
			}
		})
	}

	bad := []struct{ name, body string }{
		{"empty query", `{"Query":""}`},
		{"blank query", `{"Query":"   "}`},
		{"not JSON", `Query=X`},
		{"no body", ``},
		{"lower-case key (Defender's keys are case-sensitive)", `{"query":"X | take 3"}`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, c, http.MethodPost, huntURL, tok, strings.NewReader(tt.body))
			checkAPIError(t, resp, body, http.StatusBadRequest, "InvalidRequestBody")
		})
	}
}

func TestAPIAuth(t *testing.T) {
	clock := testutil.NewClock(fixedTime)
	sim := &simulator.Server{Now: clock.Now}
	c := startSim(t, sim)
	other := &simulator.Server{Now: clock.Now}
	oc := startSim(t, other)

	good := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	foreign := token(t, oc, other, simulator.ContosoTenantID, defenderScope)
	graph := token(t, c, sim, simulator.ContosoTenantID, "https://graph.microsoft.com/.default")
	mde := token(t, c, sim, simulator.ContosoTenantID, "https://api.securitycenter.microsoft.com/.default")
	incidents := sim.URL() + "/api/incidents?$top=1"

	tests := []struct {
		name   string
		header string // the whole Authorization header; empty means none
		status int
		code   string
	}{
		{"valid token", "Bearer " + good, http.StatusOK, ""},
		{"MDE audience accepted", "Bearer " + mde, http.StatusOK, ""},
		{"lower-case scheme", "bearer " + good, http.StatusOK, ""},
		{"no Authorization", "", http.StatusUnauthorized, "Unauthorized"},
		{"not bearer", "Basic " + good, http.StatusUnauthorized, "Unauthorized"},
		{"bearer without token", "Bearer ", http.StatusUnauthorized, "Unauthorized"},
		{"garbage token", "Bearer not.a.jwt", http.StatusUnauthorized, "Unauthorized"},
		{"tampered token", "Bearer " + tamper(t, good), http.StatusUnauthorized, "Unauthorized"},
		{"token from another simulator", "Bearer " + foreign, http.StatusUnauthorized, "Unauthorized"},
		{"graph audience", "Bearer " + graph, http.StatusUnauthorized, "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, incidents, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(resp.Body); err != nil {
				t.Fatal(err)
			}
			if resp.Header.Get("request-id") == "" {
				t.Error("no request-id header")
			}
			if tt.code == "" {
				if resp.StatusCode != tt.status {
					t.Errorf("status = %d, want %d: %s", resp.StatusCode, tt.status, buf.Bytes())
				}
				return
			}
			checkAPIError(t, resp, buf.Bytes(), tt.status, tt.code)
		})
	}

	t.Run("expiry by the simulator's clock", func(t *testing.T) {
		steps := []struct {
			name   string
			at     time.Time
			status int
		}{
			{"at issue", fixedTime, http.StatusOK},
			{"one second before exp", fixedTime.Add(3598 * time.Second), http.StatusOK},
			{"at exp", fixedTime.Add(3599 * time.Second), http.StatusUnauthorized},
			{"after exp", fixedTime.Add(2 * time.Hour), http.StatusUnauthorized},
			{"before nbf", fixedTime.Add(-time.Minute), http.StatusUnauthorized},
		}
		t.Cleanup(func() { clock.Set(fixedTime) })
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				clock.Set(st.at)
				resp, body := do(t, c, http.MethodGet, incidents, good, nil)
				if st.status == http.StatusOK {
					if resp.StatusCode != http.StatusOK {
						t.Errorf("status = %d, want 200: %s", resp.StatusCode, body)
					}
					return
				}
				checkAPIError(t, resp, body, st.status, "Unauthorized")
			})
		}
	})
}

// tamper flips the token's payload so the signature no longer matches.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	sig := []byte(parts[2])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	return parts[0] + "." + parts[1] + "." + string(sig)
}

func TestAPIRoles(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	before := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	if err := sim.SetTenant(simulator.Tenant{ID: simulator.ContosoTenantID, Name: "Contoso", Consented: true, Roles: []string{"Incident.Read.All"}}); err != nil {
		t.Fatal(err)
	}
	incidentsOnly := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	if err := sim.SetTenant(simulator.Tenant{ID: simulator.FabrikamTenantID, Name: "Fabrikam", Consented: true, Roles: nil}); err != nil {
		t.Fatal(err)
	}
	noRoles := token(t, c, sim, simulator.FabrikamTenantID, defenderScope)

	claims, err := sim.ParseToken(incidentsOnly)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(claims.Roles, []string{"Incident.Read.All"}) {
		t.Fatalf("roles after SetTenant = %q", claims.Roles)
	}

	hunt := func(tok string) (*http.Response, []byte) {
		return do(t, c, http.MethodPost, sim.URL()+"/api/advancedhunting/run", tok, strings.NewReader(`{"Query":"X | take 1"}`))
	}
	list := func(tok string) (*http.Response, []byte) {
		return do(t, c, http.MethodGet, sim.URL()+"/api/incidents", tok, nil)
	}
	tests := []struct {
		name   string
		call   func(string) (*http.Response, []byte)
		tok    string
		status int
	}{
		{"incident role lists incidents", list, incidentsOnly, http.StatusOK},
		{"incident role cannot hunt", hunt, incidentsOnly, http.StatusForbidden},
		{"token from before the change still hunts", hunt, before, http.StatusOK},
		{"no roles cannot list", list, noRoles, http.StatusForbidden},
		{"no roles cannot hunt", hunt, noRoles, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.call(tt.tok)
			if tt.status == http.StatusOK {
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status = %d, want 200: %s", resp.StatusCode, body)
				}
				return
			}
			e := checkAPIError(t, resp, body, tt.status, "Forbidden")
			if !strings.Contains(e.Error.Message, ".Read.All") {
				t.Errorf("message %q does not name the required permission", e.Error.Message)
			}
		})
	}
}

func TestAPIRequests(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	contoso := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	fabrikam := token(t, c, sim, simulator.FabrikamTenantID, defenderScope)

	do(t, c, http.MethodGet, sim.URL()+"/api/incidents?$top=1&$filter=status%20eq%20'Active'", contoso, nil)
	do(t, c, http.MethodPost, sim.URL()+"/api/advancedhunting/run", fabrikam, strings.NewReader(`{"Query":"X | take 1"}`))
	do(t, c, http.MethodGet, sim.URL()+"/api/incidents/42", "", nil)

	want := []simulator.APIRequest{
		{Method: "GET", Path: "/api/incidents", RawQuery: "$top=1&$filter=status%20eq%20'Active'", TenantID: simulator.ContosoTenantID},
		{Method: "POST", Path: "/api/advancedhunting/run", TenantID: simulator.FabrikamTenantID, Body: []byte(`{"Query":"X | take 1"}`)},
		{Method: "GET", Path: "/api/incidents/42", TenantID: ""},
	}
	got := sim.APIRequests()
	if len(got) != len(want) {
		t.Fatalf("APIRequests has %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		t.Run(w.Method+" "+w.Path, func(t *testing.T) {
			g := got[i]
			if g.Method != w.Method || g.Path != w.Path || g.RawQuery != w.RawQuery || g.TenantID != w.TenantID {
				t.Errorf("recorded %s %s ?%s tenant %q; want %s %s ?%s tenant %q",
					g.Method, g.Path, g.RawQuery, g.TenantID, w.Method, w.Path, w.RawQuery, w.TenantID)
			}
			if !bytes.Equal(g.Body, w.Body) {
				t.Errorf("body = %q, want %q", g.Body, w.Body)
			}
			if g.Host != simAddr(t, sim) {
				t.Errorf("host = %q, want %q", g.Host, simAddr(t, sim))
			}
			wantAuth := w.TenantID != ""
			if hasAuth := g.Header.Get("Authorization") != ""; hasAuth != wantAuth {
				t.Errorf("recorded Authorization present = %v, want %v", hasAuth, wantAuth)
			}
		})
	}

	t.Run("returns a copy", func(t *testing.T) {
		got[0].Method = "CHANGED"
		if sim.APIRequests()[0].Method != "GET" {
			t.Error("changing the returned slice changed the record")
		}
	})
}

func TestBeforeAPI(t *testing.T) {
	sim := &simulator.Server{
		BeforeAPI: func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Query().Get("fault") == "" {
				return false
			}
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		},
	}
	c := startSim(t, sim)
	tok := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	tests := []struct {
		name, query string
		status      int
	}{
		{"hook answers 429", "?fault=1", http.StatusTooManyRequests},
		{"hook passes", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, c, http.MethodGet, sim.URL()+"/api/incidents"+tt.query, tok, nil)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
		})
	}
}

func TestUnknownPath(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	tok := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	tests := []struct{ method, path string }{
		{http.MethodGet, "/api/nothing"},
		{http.MethodGet, "/nope"},
		{http.MethodGet, "/"},
		{http.MethodDelete, "/api/incidents"},
		{http.MethodPost, "/api/incidents"},
		{http.MethodGet, "/api/advancedhunting/run"},
		{http.MethodGet, "/" + simulator.ContosoTenantID + "/oauth2/v2.0/token"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := do(t, c, tt.method, sim.URL()+tt.path, tok, nil)
			e := checkAPIError(t, resp, body, http.StatusNotFound, "ResourceNotFound")
			if !strings.Contains(e.Error.Message, tt.method+" "+tt.path) {
				t.Errorf("message %q does not name %s %s", e.Error.Message, tt.method, tt.path)
			}
		})
	}
}

func TestBenchEndpoints(t *testing.T) {
	sim := &simulator.Server{Tenants: append(simulator.DemoTenants(), simulator.BenchTenants(3)...)}
	c := startSim(t, sim)
	tok := token(t, c, sim, "00000003-0000-4000-8000-000000000000", defenderScope)
	resp, body := do(t, c, http.MethodGet, sim.URL()+"/bench/bytes?n=100000", tok, nil)
	if resp.StatusCode != 200 || len(body) != 100000 {
		t.Fatalf("bytes: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = do(t, c, http.MethodPut, sim.URL()+"/bench/sink", tok, strings.NewReader(strings.Repeat("x", 12345)))
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "12345" {
		t.Fatalf("sink: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, c, http.MethodGet, sim.URL()+"/bench/bytes?n=10", "", nil); resp.StatusCode != 401 {
		t.Errorf("bytes without a token: %d", resp.StatusCode)
	}
}
