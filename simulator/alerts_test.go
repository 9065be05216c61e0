package simulator_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// TestAlerts checks both alert lists against the incidents they come
// from: Defender's /api/alerts and Graph's alerts_v2 list the same alerts,
// in the same order, each in its API's shape.
func TestAlerts(t *testing.T) {
	sim := &simulator.Server{}
	c := startSim(t, sim)
	defender := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	graph := token(t, c, sim, simulator.ContosoTenantID, graphScope)

	incidents := listIncidents(t, c, sim.URL()+"/api/incidents", defender)
	var wantIDs []string
	incidentOf := map[string]int{}
	for _, inc := range incidents.Value {
		for _, a := range inc.Alerts {
			wantIDs = append(wantIDs, a.AlertID)
			incidentOf[a.AlertID] = inc.IncidentID
		}
	}

	_, body := do(t, c, http.MethodGet, sim.URL()+"/api/alerts", defender, nil)
	var endpoint struct {
		Context string                    `json:"@odata.context"`
		Value   []simulator.EndpointAlert `json:"value"`
	}
	if err := json.Unmarshal(body, &endpoint); err != nil {
		t.Fatalf("%v: %.300s", err, body)
	}
	_, body = do(t, c, http.MethodGet, sim.URL()+"/v1.0/security/alerts_v2", graph, nil)
	var graphList struct {
		Context string                 `json:"@odata.context"`
		Value   []simulator.GraphAlert `json:"value"`
	}
	if err := json.Unmarshal(body, &graphList); err != nil {
		t.Fatalf("%v: %.300s", err, body)
	}

	if want := sim.URL() + "/api/$metadata#Alerts"; endpoint.Context != want {
		t.Errorf("/api/alerts @odata.context = %q, want %q", endpoint.Context, want)
	}
	if want := sim.URL() + "/v1.0/$metadata#security/alerts_v2"; graphList.Context != want {
		t.Errorf("alerts_v2 @odata.context = %q, want %q", graphList.Context, want)
	}
	var endpointIDs, graphIDs []string
	for _, a := range endpoint.Value {
		endpointIDs = append(endpointIDs, a.ID)
		if a.IncidentID != incidentOf[a.ID] || a.AADTenantID != simulator.ContosoTenantID || a.MachineID == "" {
			t.Errorf("endpoint alert %s: incident %d (want %d), tenant %q, machine %q", a.ID, a.IncidentID, incidentOf[a.ID], a.AADTenantID, a.MachineID)
		}
		if !slices.Contains([]string{"New", "Resolved"}, a.Status) || (a.Status == "Resolved") != (a.ResolvedTime != nil) {
			t.Errorf("endpoint alert %s: status %q, resolvedTime %v", a.ID, a.Status, a.ResolvedTime)
		}
	}
	for _, a := range graphList.Value {
		graphIDs = append(graphIDs, a.ID)
		if a.ODataType != "#microsoft.graph.security.alert" || a.IncidentID != strconv.Itoa(incidentOf[a.ID]) || a.TenantID != simulator.ContosoTenantID {
			t.Errorf("graph alert %s: type %q, incident %q, tenant %q", a.ID, a.ODataType, a.IncidentID, a.TenantID)
		}
		if !slices.Contains([]string{"new", "resolved"}, a.Status) || !strings.HasPrefix(a.ServiceSource, "microsoftDefenderFor") {
			t.Errorf("graph alert %s: status %q, serviceSource %q", a.ID, a.Status, a.ServiceSource)
		}
	}
	if !slices.Equal(endpointIDs, wantIDs) {
		t.Errorf("/api/alerts ids = %v, want the incidents' alerts %v", endpointIDs, wantIDs)
	}
	if !slices.Equal(graphIDs, wantIDs) {
		t.Errorf("alerts_v2 ids = %v, want the incidents' alerts %v", graphIDs, wantIDs)
	}
}

// TestAlertsRefusals checks the alert lists' roles and query limits.
func TestAlertsRefusals(t *testing.T) {
	const incidentsOnly = "99999999-9999-4999-8999-999999999999"
	sim := &simulator.Server{}
	c := startSim(t, sim)
	if err := sim.SetTenant(simulator.Tenant{ID: incidentsOnly, Name: "IncidentsOnly", Consented: true,
		Roles: []string{"Incident.Read.All"}, GraphRoles: []string{"SecurityIncident.Read.All"}}); err != nil {
		t.Fatal(err)
	}
	defender := token(t, c, sim, simulator.ContosoTenantID, defenderScope)
	graph := token(t, c, sim, simulator.ContosoTenantID, graphScope)
	alerts, alertsV2 := sim.URL()+"/api/alerts", sim.URL()+"/v1.0/security/alerts_v2"

	t.Run("defender", func(t *testing.T) {
		resp, body := do(t, c, http.MethodGet, alerts, token(t, c, sim, incidentsOnly, defenderScope), nil)
		e := checkAPIError(t, resp, body, http.StatusForbidden, "Forbidden")
		if !strings.Contains(e.Error.Message, "Alert.Read.All") {
			t.Errorf("403 message %q does not name Alert.Read.All", e.Error.Message)
		}
		for _, q := range []string{"$top=10001", "$top=-1", "$skip=x", "$filter=bogus%20eq%201"} {
			resp, body := do(t, c, http.MethodGet, alerts+"?"+q, defender, nil)
			e := checkAPIError(t, resp, body, http.StatusBadRequest, "ODataError")
			if q == "$top=10001" && !strings.Contains(e.Error.Message, "'10000'") {
				t.Errorf("$top=10001 message %q does not give the limit", e.Error.Message)
			}
		}
		resp, body = do(t, c, http.MethodGet, alerts+"?$top=10000", defender, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("$top=10000: status %d: %s", resp.StatusCode, body)
		}
		resp, body = do(t, c, http.MethodGet, alerts, graph, nil)
		checkAPIError(t, resp, body, http.StatusUnauthorized, "Unauthorized")
	})

	t.Run("graph", func(t *testing.T) {
		resp, body := do(t, c, http.MethodGet, alertsV2, token(t, c, sim, incidentsOnly, graphScope), nil)
		e := checkGraphError(t, resp, body, http.StatusForbidden, "Forbidden")
		if !strings.Contains(e.Error.Message, "SecurityAlert.Read.All") {
			t.Errorf("403 message %q does not name SecurityAlert.Read.All", e.Error.Message)
		}
		for _, q := range []string{"$top=2001", "$top=0", "$skip=-1", "$orderby=createdDateTime", "$filter=title%20eq%20'x'"} {
			resp, body := do(t, c, http.MethodGet, alertsV2+"?"+q, graph, nil)
			e := checkGraphError(t, resp, body, http.StatusBadRequest, "BadRequest")
			if q == "$top=2001" && !strings.Contains(e.Error.Message, "'2000'") {
				t.Errorf("$top=2001 message %q does not give the limit", e.Error.Message)
			}
		}
		resp, body = do(t, c, http.MethodGet, alertsV2, defender, nil)
		checkGraphError(t, resp, body, http.StatusUnauthorized, "InvalidAuthenticationToken")
	})
}
