package simulator

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// Incident is a Defender XDR incident in the legacy API's shape.
type Incident struct {
	IncidentID         int      `json:"incidentId"`
	IncidentURI        string   `json:"incidentUri"`
	RedirectIncidentID *int     `json:"redirectIncidentId"`
	IncidentName       string   `json:"incidentName"`
	CreatedTime        string   `json:"createdTime"`
	LastUpdateTime     string   `json:"lastUpdateTime"`
	AssignedTo         *string  `json:"assignedTo"`
	Classification     string   `json:"classification"`
	Determination      string   `json:"determination"`
	Status             string   `json:"status"`
	Severity           string   `json:"severity"`
	Tags               []string `json:"tags"`
	Comments           []any    `json:"comments"`
	Alerts             []Alert  `json:"alerts"`
}

// Alert is an alert inside an incident.
type Alert struct {
	AlertID        string `json:"alertId"`
	IncidentID     int    `json:"incidentId"`
	ServiceSource  string `json:"serviceSource"`
	DetectionSrc   string `json:"detectionSource"`
	Title          string `json:"title"`
	Category       string `json:"category"`
	Severity       string `json:"severity"`
	Status         string `json:"status"`
	CreationTime   string `json:"creationTime"`
	LastUpdateTime string `json:"lastUpdatedTime"`
}

var (
	incidentTitles = []string{
		"Multi-stage incident involving Initial access & Execution on one endpoint",
		"Suspicious PowerShell command line on multiple endpoints",
		"Phishing email delivered then clicked",
		"Credential theft attempt via LSASS memory access",
		"Ransomware activity detected on one endpoint",
		"Anomalous sign-in followed by mailbox rule creation",
	}
	categories = []string{"InitialAccess", "Execution", "CredentialAccess", "Impact", "Persistence", "Exfiltration"}
	severities = []string{"Informational", "Low", "Medium", "High"}
	statuses   = []string{"Active", "Active", "InProgress", "Resolved"}
	sources    = []string{"MicrosoftDefenderForEndpoint", "MicrosoftDefenderForOffice365", "MicrosoftDefenderForIdentity"}
)

// epoch anchors generated timestamps so that a tenant's data is the same on
// every run.
var epoch = time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)

func timeStep(i int) time.Duration { return time.Duration(i) * 37 * time.Minute }

// incidentsFor generates a tenant's incidents, newest first, the same on
// every call.
func incidentsFor(t Tenant) []Incident {
	h := fnv.New32a()
	h.Write([]byte(t.ID))
	seed := int(h.Sum32() % 1000)
	out := make([]Incident, t.Incidents)
	for i := range out {
		n := t.Incidents - i // newest first
		id := 1000*(seed+1) + n
		created := epoch.Add(timeStep(n) * 11)
		updated := created.Add(timeStep(n%7 + 1))
		k := seed + n
		inc := Incident{
			IncidentID:     id,
			IncidentURI:    "https://security.microsoft.com/incidents/" + strconv.Itoa(id) + "?tid=" + t.ID,
			IncidentName:   incidentTitles[k%len(incidentTitles)],
			CreatedTime:    created.Format(time.RFC3339Nano),
			LastUpdateTime: updated.Format(time.RFC3339Nano),
			Classification: "Unknown",
			Determination:  "NotAvailable",
			Status:         statuses[(k/len(severities)+n)%len(statuses)],
			Severity:       severities[k%len(severities)],
			Tags:           []string{},
			Comments:       []any{},
		}
		if inc.Status == "Resolved" {
			inc.Classification, inc.Determination = "TruePositive", "Malware"
		}
		if k%3 == 0 {
			analyst := "secops@" + t.shortName() + ".example"
			inc.AssignedTo = &analyst
		}
		for a := 0; a < 1+k%3; a++ {
			inc.Alerts = append(inc.Alerts, Alert{
				AlertID:        fmt.Sprintf("da%016x_%d", uint64(id)*2654435761, a),
				IncidentID:     id,
				ServiceSource:  sources[(k+a)%len(sources)],
				DetectionSrc:   "EDR",
				Title:          incidentTitles[(k+a)%len(incidentTitles)],
				Category:       categories[(k+a)%len(categories)],
				Severity:       inc.Severity,
				Status:         map[bool]string{true: "Resolved", false: "New"}[inc.Status == "Resolved"],
				CreationTime:   created.Format(time.RFC3339Nano),
				LastUpdateTime: updated.Format(time.RFC3339Nano),
			})
		}
		out[i] = inc
	}
	return out
}

// parseFilter understands the OData $filter forms the Defender and Graph
// pages show: `field eq 'value'` and `field ge|gt|le|lt <timestamp>`,
// joined with `and`, on the fields that field knows (for the legacy API,
// incidentField: status, severity, classification, assignedTo, createdTime
// and lastUpdateTime). typeName names the entity in error messages.
func parseFilter[T any](filter, typeName string, field func(string) (func(T) string, bool)) (func(T) bool, error) {
	filter = strings.TrimSpace(filter)
	if filter == "" {
		return func(T) bool { return true }, nil
	}
	var preds []func(T) bool
	for _, clause := range splitAnd(filter) {
		f := strings.Fields(clause)
		if len(f) != 3 {
			return nil, fmt.Errorf("The query specified in the URI is not valid. Could not parse filter clause %q.", clause)
		}
		name, op, value := f[0], strings.ToLower(f[1]), strings.Trim(f[2], "'")
		get, ok := field(name)
		if !ok {
			return nil, fmt.Errorf("The query specified in the URI is not valid. Could not find a property named '%s' on type '%s'.", name, typeName)
		}
		switch op {
		case "eq":
			preds = append(preds, func(i T) bool { return strings.EqualFold(get(i), value) })
		case "ne":
			preds = append(preds, func(i T) bool { return !strings.EqualFold(get(i), value) })
		case "ge", "gt", "le", "lt":
			at, err := time.Parse(time.RFC3339Nano, value)
			if err != nil {
				return nil, fmt.Errorf("The query specified in the URI is not valid. %q is not a DateTimeOffset.", value)
			}
			preds = append(preds, func(i T) bool {
				v, err := time.Parse(time.RFC3339Nano, get(i))
				if err != nil {
					return false
				}
				switch op {
				case "ge":
					return !v.Before(at)
				case "gt":
					return v.After(at)
				case "le":
					return !v.After(at)
				}
				return v.Before(at)
			})
		default:
			return nil, fmt.Errorf("The query specified in the URI is not valid. Unsupported operator %q.", op)
		}
	}
	return func(i T) bool {
		for _, p := range preds {
			if !p(i) {
				return false
			}
		}
		return true
	}, nil
}

func splitAnd(filter string) []string {
	var out []string
	for _, part := range strings.Split(filter, " and ") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func incidentField(name string) (func(Incident) string, bool) {
	switch name {
	case "status":
		return func(i Incident) string { return i.Status }, true
	case "severity":
		return func(i Incident) string { return i.Severity }, true
	case "classification":
		return func(i Incident) string { return i.Classification }, true
	case "determination":
		return func(i Incident) string { return i.Determination }, true
	case "assignedTo":
		return func(i Incident) string {
			if i.AssignedTo == nil {
				return ""
			}
			return *i.AssignedTo
		}, true
	case "createdTime":
		return func(i Incident) string { return i.CreatedTime }, true
	case "lastUpdateTime":
		return func(i Incident) string { return i.LastUpdateTime }, true
	}
	return nil, false
}

// shortName is the first word of the tenant's name in lower case (the
// GUID's first group when the name is blank), for generated host names.
func (t Tenant) shortName() string {
	if f := strings.Fields(t.Name); len(f) > 0 {
		return strings.ToLower(f[0])
	}
	id, _, _ := strings.Cut(t.ID, "-")
	return id
}
