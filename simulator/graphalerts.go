package simulator

import (
	"net/http"
	"strconv"
)

// GraphAlert is an alert in the Microsoft Graph security API's shape
// (microsoft.graph.security.alert), as GET /v1.0/security/alerts_v2
// lists it ("List alerts_v2", learn.microsoft.com/graph/api/
// security-list-alerts_v2). It is the same alert as the EndpointAlert with
// its ID.
type GraphAlert struct {
	ODataType             string   `json:"@odata.type"`
	ID                    string   `json:"id"`
	ProviderAlertID       string   `json:"providerAlertId"`
	IncidentID            string   `json:"incidentId"`
	Status                string   `json:"status"`
	Severity              string   `json:"severity"`
	Classification        string   `json:"classification"`
	Determination         string   `json:"determination"`
	ServiceSource         string   `json:"serviceSource"`
	DetectionSource       string   `json:"detectionSource"`
	ProductName           string   `json:"productName"`
	DetectorID            string   `json:"detectorId"`
	TenantID              string   `json:"tenantId"`
	Title                 string   `json:"title"`
	Description           string   `json:"description"`
	RecommendedActions    string   `json:"recommendedActions"`
	Category              string   `json:"category"`
	AssignedTo            *string  `json:"assignedTo"`
	AlertWebURL           string   `json:"alertWebUrl"`
	IncidentWebURL        string   `json:"incidentWebUrl"`
	ActorDisplayName      *string  `json:"actorDisplayName"`
	ThreatDisplayName     *string  `json:"threatDisplayName"`
	ThreatFamilyName      *string  `json:"threatFamilyName"`
	MitreTechniques       []string `json:"mitreTechniques"`
	CreatedDateTime       string   `json:"createdDateTime"`
	LastUpdateDateTime    string   `json:"lastUpdateDateTime"`
	ResolvedDateTime      *string  `json:"resolvedDateTime"`
	FirstActivityDateTime string   `json:"firstActivityDateTime"`
	LastActivityDateTime  string   `json:"lastActivityDateTime"`
	Comments              []any    `json:"comments"`
	Evidence              []any    `json:"evidence"`
	SystemTags            []string `json:"systemTags"`
}

// productNames are the products the simulated service sources name.
var productNames = map[string]string{
	"MicrosoftDefenderForEndpoint":  "Microsoft Defender for Endpoint",
	"MicrosoftDefenderForOffice365": "Microsoft Defender for Office 365",
	"MicrosoftDefenderForIdentity":  "Microsoft Defender for Identity",
}

func (a alertSource) graph() GraphAlert {
	first, last := a.eventTimes()
	g := GraphAlert{
		ODataType:             "#microsoft.graph.security.alert",
		ID:                    a.alert.AlertID,
		ProviderAlertID:       a.alert.AlertID,
		IncidentID:            strconv.Itoa(a.incident.IncidentID),
		Status:                "new",
		Severity:              lowerCamel(a.alert.Severity),
		Classification:        "unknown",
		Determination:         "unknown",
		ServiceSource:         lowerCamel(a.alert.ServiceSource),
		DetectionSource:       lowerCamel(a.alert.ServiceSource),
		ProductName:           productNames[a.alert.ServiceSource],
		DetectorID:            a.detectorID(),
		TenantID:              a.tenant.ID,
		Title:                 a.alert.Title,
		Description:           a.description(),
		RecommendedActions:    "Review the device timeline for related activity and isolate the device if the activity is confirmed malicious.",
		Category:              a.alert.Category,
		AssignedTo:            a.incident.AssignedTo,
		AlertWebURL:           "https://security.microsoft.com/alerts/" + a.alert.AlertID + "?tid=" + a.tenant.ID,
		IncidentWebURL:        a.incident.IncidentURI,
		MitreTechniques:       mitreByCategory[a.alert.Category],
		CreatedDateTime:       a.alert.CreationTime,
		LastUpdateDateTime:    a.alert.LastUpdateTime,
		FirstActivityDateTime: first,
		LastActivityDateTime:  last,
		Comments:              []any{},
		Evidence:              []any{},
		SystemTags:            []string{},
	}
	if a.resolved() {
		at := a.alert.LastUpdateTime
		g.Status, g.Classification, g.Determination, g.ResolvedDateTime = "resolved", "truePositive", "malware", &at
	}
	return g
}

// graphAlertField gives the fields List alerts_v2 lets $filter use:
// assignedTo, classification, determination, createdDateTime,
// lastUpdateDateTime, severity, serviceSource and status.
func graphAlertField(name string) (func(GraphAlert) string, bool) {
	switch name {
	case "assignedTo":
		return func(a GraphAlert) string { return deref(a.AssignedTo) }, true
	case "classification":
		return func(a GraphAlert) string { return a.Classification }, true
	case "determination":
		return func(a GraphAlert) string { return a.Determination }, true
	case "createdDateTime":
		return func(a GraphAlert) string { return a.CreatedDateTime }, true
	case "lastUpdateDateTime":
		return func(a GraphAlert) string { return a.LastUpdateDateTime }, true
	case "severity":
		return func(a GraphAlert) string { return a.Severity }, true
	case "serviceSource":
		return func(a GraphAlert) string { return a.ServiceSource }, true
	case "status":
		return func(a GraphAlert) string { return a.Status }, true
	}
	return nil, false
}

// graphListAlerts is GET /v1.0/security/alerts_v2: the tenant's alerts,
// newest first, with $filter, $count and graphAlertsPaging.
func (s *Server) graphListAlerts(w http.ResponseWriter, r *http.Request, c *Claims) {
	q, top, skip, ok := s.graphListQuery(w, r, graphAlertsPaging)
	if !ok {
		return
	}
	match, err := parseFilter(q.Get("$filter"), "microsoft.graph.security.alert", graphAlertField)
	if err != nil {
		s.writeGraphError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	t, _ := s.tenant(c.TenantID)
	var selected []GraphAlert
	for _, a := range alertsFor(t) {
		if g := a.graph(); match(g) {
			selected = append(selected, g)
		}
	}
	writeGraphList(w, r, "security/alerts_v2", selected, skip, top)
}
