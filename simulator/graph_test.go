package simulator_test

import (
	"encoding/json"
	"io"
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

const graphScope = "https://graph.microsoft.com/.default"

type graphIncidentList struct {
	Context  string                    `json:"@odata.context"`
	NextLink string                    `json:"@odata.nextLink"`
	Count    *int                      `json:"@odata.count"`
	Value    []simulator.GraphIncident `json:"value"`
}

func listGraphIncidents(t *testing.T, c *http.Client, rawURL, tok string) graphIncidentList {
	t.Helper()
	resp, body := do(t, c, http.MethodGet, rawURL, tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", rawURL, resp.StatusCode, body)
	}
	var l graphIncidentList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("GET %s: %v: %s", rawURL, err, body)
	}
	return l
}

func graphIDs(incs []simulator.GraphIncident) []string {
	out := make([]string, len(incs))
	for i, inc := range incs {
		out[i] = inc.ID
	}
	return out
}

// graphErr is Microsoft Graph's error body, decoded strictly.
type graphErr struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// checkGraphError checks that resp is a Graph error with status and code,
// in exactly Graph's {"error":{"code","message","innerError":{…}}} shape.
func checkGraphError(t *testing.T, resp *http.Response, body []byte, status int, code string) graphErr {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e graphErr
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("decoding Graph error body: %v: %s", err, body)
	}
	if e.Error.Code != code {
		t.Errorf("error.code = %q, want %q", e.Error.Code, code)
	}
	if e.Error.Message == "" {
		t.Error("error.message is empty")
	}
	in := e.Error.InnerError
	if _, err := time.Parse("2006-01-02T15:04:05", in.Date); err != nil {
		t.Errorf("innerError.date = %q: %v", in.Date, err)
	}
	if in.RequestID == "" || in.RequestID != resp.Header.Get("request-id") {
		t.Errorf("innerError.request-id = %q, header request-id = %q", in.RequestID, resp.Header.Get("request-id"))
	}
	if in.ClientRequestID == "" {
		t.Error("innerError.client-request-id is empty")
	}
	return e
}

func TestGraphIncidents(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	graph := token(t, c, sim, simulator.ContosoTenantID, graphScope)
	defender := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	base := sim.URL() + "/v1.0/security/incidents"

	all := listGraphIncidents(t, c, base, graph)
	legacy := listIncidents(t, c, sim.URL()+"/api/incidents", defender)
	t.Run("list", func(t *testing.T) {
		if want := sim.URL() + "/v1.0/$metadata#security/incidents"; all.Context != want {
			t.Errorf("@odata.context = %q, want %q", all.Context, want)
		}
		if all.NextLink != "" {
			t.Errorf("@odata.nextLink = %q on a complete list", all.NextLink)
		}
		if len(all.Value) != len(legacy.Value) || len(all.Value) != 25 {
			t.Fatalf("Graph lists %d incidents, legacy %d, want 25 each", len(all.Value), len(legacy.Value))
		}
		for i, g := range all.Value {
			l := legacy.Value[i]
			if g.ID != strconv.Itoa(l.IncidentID) {
				t.Errorf("incident %d: id %q, legacy %d", i, g.ID, l.IncidentID)
			}
			if g.DisplayName != l.IncidentName || g.CreatedDateTime != l.CreatedTime || g.LastUpdateDateTime != l.LastUpdateTime {
				t.Errorf("incident %s differs from the legacy one: %+v vs %+v", g.ID, g, l)
			}
			if !strings.EqualFold(g.Status, l.Status) || !strings.EqualFold(g.Severity, l.Severity) {
				t.Errorf("incident %s status/severity %q/%q, legacy %q/%q", g.ID, g.Status, g.Severity, l.Status, l.Severity)
			}
			if !slices.Contains([]string{"active", "inProgress", "resolved"}, g.Status) {
				t.Errorf("incident %s status %q is not a Graph value", g.ID, g.Status)
			}
			if !slices.Contains([]string{"informational", "low", "medium", "high"}, g.Severity) {
				t.Errorf("incident %s severity %q is not a Graph value", g.ID, g.Severity)
			}
			if !slices.Contains([]string{"unknown", "truePositive"}, g.Classification) || !slices.Contains([]string{"unknown", "malware"}, g.Determination) {
				t.Errorf("incident %s classification/determination %q/%q", g.ID, g.Classification, g.Determination)
			}
			if g.TenantID != simulator.ContosoTenantID {
				t.Errorf("incident %s tenantId %q", g.ID, g.TenantID)
			}
			if !strings.Contains(g.IncidentWebURL, "/incidents/"+g.ID) {
				t.Errorf("incident %s incidentWebUrl %q", g.ID, g.IncidentWebURL)
			}
		}
	})

	t.Run("raw keys", func(t *testing.T) {
		_, body := do(t, c, http.MethodGet, base+"?$top=1", graph, nil)
		var raw struct {
			Value []map[string]any `json:"value"`
		}
		if err := json.Unmarshal(body, &raw); err != nil || len(raw.Value) != 1 {
			t.Fatalf("%v: %s", err, body)
		}
		for _, k := range []string{"id", "displayName", "createdDateTime", "lastUpdateDateTime", "status", "severity", "classification", "determination", "assignedTo", "tenantId", "incidentWebUrl"} {
			if _, ok := raw.Value[0][k]; !ok {
				t.Errorf("incident lacks %q: %v", k, keys(raw.Value[0]))
			}
		}
		if _, ok := raw.Value[0]["id"].(string); !ok {
			t.Errorf("id is %T, want a string", raw.Value[0]["id"])
		}
		if _, ok := raw.Value[0]["incidentId"]; ok {
			t.Error("Graph incident carries the legacy incidentId")
		}
	})

	t.Run("top, skip and nextLink", func(t *testing.T) {
		var got []string
		next := base + "?$top=10"
		pages := 0
		for next != "" {
			page := listGraphIncidents(t, c, next, graph)
			pages++
			if len(page.Value) > 10 {
				t.Errorf("page %d has %d incidents, want at most 10", pages, len(page.Value))
			}
			got = append(got, graphIDs(page.Value)...)
			if page.NextLink != "" {
				u, err := url.Parse(page.NextLink)
				if err != nil {
					t.Fatal(err)
				}
				if q := u.Query(); q.Get("$top") != "10" || q.Get("$skip") != strconv.Itoa(pages*10) {
					t.Errorf("nextLink %q, want $top=10&$skip=%d", page.NextLink, pages*10)
				}
			}
			next = page.NextLink
			if pages > 5 {
				t.Fatal("nextLink never ends")
			}
		}
		if pages != 3 {
			t.Errorf("pages = %d, want 3", pages)
		}
		if want := graphIDs(all.Value); !slices.Equal(got, want) {
			t.Errorf("paged ids = %v, want %v", got, want)
		}
		skipped := listGraphIncidents(t, c, base+"?$skip=20", graph)
		if want := graphIDs(all.Value[20:]); !slices.Equal(graphIDs(skipped.Value), want) {
			t.Errorf("$skip=20 ids = %v, want %v", graphIDs(skipped.Value), want)
		}
	})

	t.Run("filter and count", func(t *testing.T) {
		var want []string
		for _, g := range all.Value {
			if g.Status == "resolved" {
				want = append(want, g.ID)
			}
		}
		if len(want) == 0 || len(want) == len(all.Value) {
			t.Fatalf("test data has %d resolved incidents of %d; the filter test needs some of each", len(want), len(all.Value))
		}
		l := listGraphIncidents(t, c, base+"?$filter="+url.QueryEscape("status eq 'resolved'")+"&$count=true", graph)
		if !slices.Equal(graphIDs(l.Value), want) {
			t.Errorf("resolved ids = %v, want %v", graphIDs(l.Value), want)
		}
		if l.Count == nil || *l.Count != len(want) {
			t.Errorf("@odata.count = %v, want %d", l.Count, len(want))
		}
	})

	t.Run("bad queries", func(t *testing.T) {
		for _, q := range []string{"$top=51", "$top=0", "$top=x", "$skip=-1", "$filter=" + url.QueryEscape("incidentName eq 'x'"), "$orderby=createdDateTime"} {
			resp, body := do(t, c, http.MethodGet, base+"?"+q, graph, nil)
			e := checkGraphError(t, resp, body, http.StatusBadRequest, "BadRequest")
			if q == "$top=51" && !strings.Contains(e.Error.Message, "'50'") {
				t.Errorf("$top=51 message %q does not give the limit 50", e.Error.Message)
			}
		}
		resp, body := do(t, c, http.MethodGet, base+"?$top=50", graph, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("$top=50: status %d: %s", resp.StatusCode, body)
		}
	})

	t.Run("another tenant", func(t *testing.T) {
		fab := listGraphIncidents(t, c, base, token(t, c, sim, simulator.FabrikamTenantID, graphScope))
		if len(fab.Value) == 0 || fab.Value[0].TenantID != simulator.FabrikamTenantID || fab.Value[0].ID == all.Value[0].ID {
			t.Errorf("fabrikam's first incident %+v, contoso's %+v", fab.Value[0], all.Value[0])
		}
	})

	t.Run("recorded", func(t *testing.T) {
		reqs := sim.APIRequests()
		last := reqs[len(reqs)-1]
		if !strings.HasPrefix(last.Path, "/v1.0/security/incidents") || last.TenantID != simulator.FabrikamTenantID {
			t.Errorf("last API request %s %s tenant %q", last.Method, last.Path, last.TenantID)
		}
	})
}

func TestGraphAuthorization(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	const (
		noGraphRoles  = "55555555-5555-4555-8555-555555555555"
		incidentsOnly = "66666666-6666-4666-8666-666666666666"
		defaultsByNil = "77777777-7777-4777-8777-777777777777"
	)
	for _, tn := range []simulator.Tenant{
		{ID: noGraphRoles, Name: "NoGraph", Consented: true, Roles: simulator.DefaultRoles, GraphRoles: []string{}},
		{ID: incidentsOnly, Name: "IncidentsOnly", Consented: true, GraphRoles: []string{"SecurityIncident.Read.All"}},
		{ID: defaultsByNil, Name: "Defaults", Consented: true},
	} {
		if err := sim.SetTenant(tn); err != nil {
			t.Fatal(err)
		}
	}
	graph := token(t, c, sim, simulator.ContosoTenantID, graphScope)
	defender := token(t, c, sim, simulator.ContosoTenantID, defenderScope)

	t.Run("roles per resource", func(t *testing.T) {
		tests := []struct {
			tenant, scope string
			want          []string
		}{
			{simulator.ContosoTenantID, graphScope, simulator.DefaultGraphRoles},
			{simulator.ContosoTenantID, defenderScope, simulator.DefaultRoles},
			{defaultsByNil, graphScope, simulator.DefaultGraphRoles},
			{defaultsByNil, defenderScope, nil},
			{noGraphRoles, graphScope, nil},
		}
		for _, tt := range tests {
			claims, err := sim.ParseToken(token(t, c, sim, tt.tenant, tt.scope))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(claims.Roles, tt.want) {
				t.Errorf("%s %s: roles = %q, want %q", tt.tenant, tt.scope, claims.Roles, tt.want)
			}
		}
	})

	incidents := sim.URL() + "/v1.0/security/incidents"
	hunting := sim.URL() + "/v1.0/security/runHuntingQuery"
	query := `{"Query":"DeviceProcessEvents | take 2"}`
	tests := []struct {
		name, method, url, token string
		status                   int
		code                     string
		inMessage                []string
	}{
		{"incidents with a Graph token", http.MethodGet, incidents, graph, 200, "", nil},
		{"hunting with a Graph token", http.MethodPost, hunting, graph, 200, "", nil},
		{"incidents with a Defender token", http.MethodGet, incidents, defender, 401, "InvalidAuthenticationToken", []string{"Invalid audience"}},
		{"hunting with a Defender token", http.MethodPost, hunting, defender, 401, "InvalidAuthenticationToken", []string{"Invalid audience"}},
		{"no token", http.MethodGet, incidents, "", 401, "InvalidAuthenticationToken", []string{"empty"}},
		{"garbage token", http.MethodGet, incidents, "not.a.jwt", 401, "InvalidAuthenticationToken", nil},
		{"incidents without Graph roles", http.MethodGet, incidents, token(t, c, sim, noGraphRoles, graphScope), 403, "Forbidden",
			[]string{"Missing role permissions", "SecurityIncident.Read.All", "Roles on the request ''"}},
		{"hunting with incident role only", http.MethodPost, hunting, token(t, c, sim, incidentsOnly, graphScope), 403, "Forbidden",
			[]string{"'ThreatHunting.Read.All'", "Roles on the request 'SecurityIncident.Read.All'"}},
		{"incidents with incident role only", http.MethodGet, incidents, token(t, c, sim, incidentsOnly, graphScope), 200, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.method == http.MethodPost {
				body = strings.NewReader(query)
			}
			resp, b := do(t, c, tt.method, tt.url, tt.token, body)
			if tt.status == 200 {
				if resp.StatusCode != 200 {
					t.Errorf("status %d, want 200: %s", resp.StatusCode, b)
				}
				return
			}
			e := checkGraphError(t, resp, b, tt.status, tt.code)
			for _, want := range tt.inMessage {
				if !strings.Contains(e.Error.Message, want) {
					t.Errorf("message %q lacks %q", e.Error.Message, want)
				}
			}
			if tt.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("expired Graph token", func(t *testing.T) {
		clock := testutil.NewClock(time.Now())
		timed := &simulator.Server{Now: clock.Now}
		tc := startSim(t, timed)
		tok := token(t, tc, timed, simulator.ContosoTenantID, graphScope)
		clock.Set(time.Now().Add(2 * time.Hour))
		resp, body := do(t, tc, http.MethodGet, timed.URL()+"/v1.0/security/incidents", tok, nil)
		e := checkGraphError(t, resp, body, 401, "InvalidAuthenticationToken")
		if !strings.Contains(e.Error.Message, "expired") {
			t.Errorf("message %q does not say expired", e.Error.Message)
		}
	})

	t.Run("client-request-id echoed", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, incidents+"?$top=51", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+graph)
		req.Header.Set("client-request-id", "my-request-1")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e graphErr
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatal(err)
		}
		if e.Error.InnerError.ClientRequestID != "my-request-1" || resp.Header.Get("client-request-id") != "my-request-1" {
			t.Errorf("client-request-id = %q / header %q, want my-request-1", e.Error.InnerError.ClientRequestID, resp.Header.Get("client-request-id"))
		}
	})
}

func TestGraphHunting(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	graph := token(t, c, sim, simulator.ContosoTenantID, graphScope)
	hunting := sim.URL() + "/v1.0/security/runHuntingQuery"

	tests := []struct {
		name, body string
		rows       int
	}{
		{"take 3", `{"Query":"DeviceProcessEvents | take 3"}`, 3},
		{"limit 7 with timespan", `{"Query":"DeviceProcessEvents | limit 7","Timespan":"P7D"}`, 7},
		{"default rows", `{"Query":"DeviceProcessEvents"}`, 5},
		{"take 0", `{"Query":"DeviceProcessEvents | take 0"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, c, http.MethodPost, hunting, graph, strings.NewReader(tt.body))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			if len(raw) != 3 || raw["schema"] == nil || raw["results"] == nil || raw["@odata.context"] == nil {
				t.Errorf("top-level keys = %v, want @odata.context, schema, results", keys(raw))
			}
			var res struct {
				Context string              `json:"@odata.context"`
				Schema  []map[string]string `json:"schema"`
				Results []map[string]any    `json:"results"`
			}
			if err := json.Unmarshal(body, &res); err != nil {
				t.Fatal(err)
			}
			if want := sim.URL() + "/v1.0/$metadata#microsoft.graph.security.huntingQueryResults"; res.Context != want {
				t.Errorf("@odata.context = %q, want %q", res.Context, want)
			}
			if len(res.Schema) == 0 {
				t.Fatal("empty schema")
			}
			for _, col := range res.Schema {
				if len(col) != 2 || col["name"] == "" || col["type"] == "" {
					t.Errorf("schema entry %v, want exactly name and type", col)
				}
			}
			if len(res.Results) != tt.rows {
				t.Errorf("%d rows, want %d", len(res.Results), tt.rows)
			}
			for _, row := range res.Results {
				for _, col := range res.Schema {
					if _, ok := row[col["name"]]; !ok {
						t.Errorf("row %v lacks column %s", row, col["name"])
					}
				}
			}
		})
	}

	for _, bad := range []string{`{}`, `{"Query":""}`, `not json`, `{"Query":"x","Timespan":7}`} {
		t.Run("bad body "+bad, func(t *testing.T) {
			resp, body := do(t, c, http.MethodPost, hunting, graph, strings.NewReader(bad))
			checkGraphError(t, resp, body, http.StatusBadRequest, "BadRequest")
		})
	}
}
