package simulator

import (
	"crypto/sha1"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// EndpointAlert is an alert as GET /api/alerts lists it on
// api.security.microsoft.com: the Defender for Endpoint alert resource
// ("List alerts API", learn.microsoft.com/defender-endpoint/api/get-alerts).
// The simulator's alerts are the alerts of its incidents, with the same IDs.
type EndpointAlert struct {
	ID                 string       `json:"id"`
	IncidentID         int          `json:"incidentId"`
	InvestigationID    *int         `json:"investigationId"`
	AssignedTo         *string      `json:"assignedTo"`
	Severity           string       `json:"severity"`
	Status             string       `json:"status"`
	Classification     *string      `json:"classification"`
	Determination      *string      `json:"determination"`
	InvestigationState string       `json:"investigationState"`
	DetectionSource    string       `json:"detectionSource"`
	DetectorID         string       `json:"detectorId"`
	Category           string       `json:"category"`
	ThreatFamilyName   *string      `json:"threatFamilyName"`
	Title              string       `json:"title"`
	Description        string       `json:"description"`
	AlertCreationTime  string       `json:"alertCreationTime"`
	FirstEventTime     string       `json:"firstEventTime"`
	LastEventTime      string       `json:"lastEventTime"`
	LastUpdateTime     string       `json:"lastUpdateTime"`
	ResolvedTime       *string      `json:"resolvedTime"`
	MachineID          string       `json:"machineId"`
	ComputerDNSName    string       `json:"computerDnsName"`
	RBACGroupName      string       `json:"rbacGroupName"`
	AADTenantID        string       `json:"aadTenantId"`
	ThreatName         *string      `json:"threatName"`
	MitreTechniques    []string     `json:"mitreTechniques"`
	RelatedUser        *RelatedUser `json:"relatedUser"`
	Comments           []any        `json:"comments"`
	Evidence           []any        `json:"evidence"`
}

// RelatedUser is the user an endpoint alert names.
type RelatedUser struct {
	UserName   string `json:"userName"`
	DomainName string `json:"domainName"`
}

// mitreByCategory gives each simulated category a plausible technique.
var mitreByCategory = map[string][]string{
	"InitialAccess":    {"T1566.001"},
	"Execution":        {"T1059.001"},
	"CredentialAccess": {"T1003.001"},
	"Impact":           {"T1486"},
	"Persistence":      {"T1547.001"},
	"Exfiltration":     {"T1567"},
}

// alertSource is one alert of one of a tenant's incidents, what the
// alert lists of both APIs are made from.
type alertSource struct {
	tenant   Tenant
	incident Incident
	alert    Alert
	index    int // the alert's position in its incident
}

// alertsFor lists the alerts of a tenant's incidents, newest incident
// first, the same on every call.
func alertsFor(t Tenant) []alertSource {
	var out []alertSource
	for _, inc := range incidentsFor(t) {
		for i, a := range inc.Alerts {
			out = append(out, alertSource{tenant: t, incident: inc, alert: a, index: i})
		}
	}
	return out
}

// resolved reports whether the alert is resolved.
func (a alertSource) resolved() bool { return a.alert.Status == "Resolved" }

// host is the simulated device the alert fired on.
func (a alertSource) host() string {
	return fmt.Sprintf("%s-ws%03d.%s.example", a.tenant.shortName(), a.incident.IncidentID%97+1, a.tenant.shortName())
}

// eventTimes are the alert's first and last event: a few minutes before
// it was created.
func (a alertSource) eventTimes() (first, last string) {
	created, _ := time.Parse(time.RFC3339Nano, a.alert.CreationTime)
	return created.Add(-4 * time.Minute).Format(time.RFC3339Nano), created.Add(-time.Minute).Format(time.RFC3339Nano)
}

// detectorID is a stable GUID for the detection that raised the alert.
func (a alertSource) detectorID() string {
	sum := sha1.Sum([]byte("detector:" + a.alert.Title))
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

func (a alertSource) description() string {
	return "xdrsim generated this alert: " + a.alert.Title + " on " + a.host() + "."
}

func (a alertSource) endpoint() EndpointAlert {
	first, last := a.eventTimes()
	machine := sha1.Sum([]byte("machine:" + a.tenant.ID + ":" + a.host()))
	e := EndpointAlert{
		ID:                 a.alert.AlertID,
		IncidentID:         a.incident.IncidentID,
		AssignedTo:         a.incident.AssignedTo,
		Severity:           a.alert.Severity,
		Status:             a.alert.Status,
		InvestigationState: "Queued",
		DetectionSource:    "WindowsDefenderAtp",
		DetectorID:         a.detectorID(),
		Category:           a.alert.Category,
		Title:              a.alert.Title,
		Description:        a.description(),
		AlertCreationTime:  a.alert.CreationTime,
		FirstEventTime:     first,
		LastEventTime:      last,
		LastUpdateTime:     a.alert.LastUpdateTime,
		MachineID:          fmt.Sprintf("%x", machine),
		ComputerDNSName:    a.host(),
		RBACGroupName:      "UnassignedGroup",
		AADTenantID:        a.tenant.ID,
		MitreTechniques:    mitreByCategory[a.alert.Category],
		RelatedUser:        &RelatedUser{UserName: "user" + strconv.Itoa(a.index+1), DomainName: a.tenant.shortName()},
		Comments:           []any{},
		Evidence:           []any{},
	}
	if a.resolved() {
		classification, determination, at := "TruePositive", "Malware", a.alert.LastUpdateTime
		e.Classification, e.Determination, e.ResolvedTime = &classification, &determination, &at
		e.InvestigationState = "SuccessfullyRemediated"
	}
	return e
}

// endpointAlertField gives the fields GET /api/alerts lets $filter use.
func endpointAlertField(name string) (func(EndpointAlert) string, bool) {
	switch name {
	case "id":
		return func(a EndpointAlert) string { return a.ID }, true
	case "incidentId":
		return func(a EndpointAlert) string { return strconv.Itoa(a.IncidentID) }, true
	case "status":
		return func(a EndpointAlert) string { return a.Status }, true
	case "severity":
		return func(a EndpointAlert) string { return a.Severity }, true
	case "category":
		return func(a EndpointAlert) string { return a.Category }, true
	case "detectionSource":
		return func(a EndpointAlert) string { return a.DetectionSource }, true
	case "assignedTo":
		return func(a EndpointAlert) string { return deref(a.AssignedTo) }, true
	case "alertCreationTime":
		return func(a EndpointAlert) string { return a.AlertCreationTime }, true
	case "lastUpdateTime":
		return func(a EndpointAlert) string { return a.LastUpdateTime }, true
	case "lastEventTime":
		return func(a EndpointAlert) string { return a.LastEventTime }, true
	}
	return nil, false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// listAlerts is GET /api/alerts: the tenant's alerts, newest first, with
// $filter and defenderAlertsPaging.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, c *Claims) {
	q := r.URL.Query()
	top, skip, err := readPaging(q, defenderAlertsPaging)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "ODataError", err.Error())
		return
	}
	match, err := parseFilter(q.Get("$filter"), "Alert", endpointAlertField)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "ODataError", err.Error())
		return
	}
	t, _ := s.tenant(c.TenantID)
	var selected []EndpointAlert
	for _, a := range alertsFor(t) {
		if e := a.endpoint(); match(e) {
			selected = append(selected, e)
		}
	}
	writeJSON(w, http.StatusOK, listBody(r, baseURL(r)+"/api/$metadata#Alerts", selected, skip, top))
}
