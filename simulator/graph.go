package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// graphResource is Microsoft Graph's App ID URI, and its tokens' audience.
const graphResource = "https://graph.microsoft.com"

func (s *Server) routeGraph(mux *http.ServeMux) {
	mux.Handle("GET /v1.0/security/incidents", s.guard(graphAPI, []string{"SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"}, s.graphListIncidents))
	mux.Handle("GET /v1.0/security/alerts_v2", s.guard(graphAPI, []string{"SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"}, s.graphListAlerts))
	mux.Handle("POST /v1.0/security/runHuntingQuery", s.guard(graphAPI, []string{"ThreatHunting.Read.All"}, s.graphRunHuntingQuery))
	// The SDKs call delta by its full name, microsoft.graph.delta(); its
	// links keep the path the client used.
	usersDelta := s.guard(graphDirectoryAPI, []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}, s.graphUsersDelta)
	for _, p := range []string{"delta", "delta()", "microsoft.graph.delta", "microsoft.graph.delta()"} {
		mux.Handle("GET /v1.0/users/"+p, usersDelta)
	}
}

// graphAPI is how Microsoft Graph refuses a request: tokens for
// https://graph.microsoft.com (in any case), its wording, request-id and
// client-request-id on every answer, and its error body.
var graphAPI = &apiDialect{
	acceptsAudience:  func(aud string) bool { return strings.EqualFold(aud, graphResource) },
	unauthorizedCode: "InvalidAuthenticationToken",
	tokenRefused:     graphTokenRefused,
	rolesMissing: func(required, held []string) string {
		return fmt.Sprintf("Missing role permissions on the request. API requires one of '%s'. Roles on the request '%s'.",
			strings.Join(required, ", "), strings.Join(held, ", "))
	},
	stampHeaders: stampGraphRequestIDs,
	writeError:   (*Server).writeGraphError,
}

// graphTokenRefused is Graph's message for a refused bearer token.
func graphTokenRefused(err error, _ *Claims) string {
	switch {
	case errors.Is(err, errNoAuthorization), errors.Is(err, errEmptyBearer):
		return "Access token is empty."
	case errors.Is(err, errNotBearer):
		return "Access token validation failure. Invalid authorization scheme."
	case errors.Is(err, jwt.ErrTokenExpired):
		return "Lifetime validation failed, the token is expired."
	case errors.Is(err, errWrongAudience):
		return "Access token validation failure. Invalid audience."
	case errors.Is(err, errUnknownTenant):
		return "Access token validation failure. Invalid tenant."
	}
	return "Access token validation failure."
}

// stampGraphRequestIDs sets Graph's request-id and client-request-id (the
// client's own, or a new one) on the response.
func stampGraphRequestIDs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("request-id", uuid.NewString())
	clientRequestID := r.Header.Get("client-request-id")
	if clientRequestID == "" {
		clientRequestID = uuid.NewString()
	}
	w.Header().Set("client-request-id", clientRequestID)
}

// GraphIncident is a Defender XDR incident in the Microsoft Graph security
// API's shape (microsoft.graph.security.incident).
type GraphIncident struct {
	ID                 string   `json:"id"`
	TenantID           string   `json:"tenantId"`
	Status             string   `json:"status"`
	IncidentWebURL     string   `json:"incidentWebUrl"`
	RedirectIncidentID *string  `json:"redirectIncidentId"`
	DisplayName        string   `json:"displayName"`
	CreatedDateTime    string   `json:"createdDateTime"`
	LastUpdateDateTime string   `json:"lastUpdateDateTime"`
	AssignedTo         *string  `json:"assignedTo"`
	Classification     string   `json:"classification"`
	Determination      string   `json:"determination"`
	Severity           string   `json:"severity"`
	CustomTags         []string `json:"customTags"`
	SystemTags         []string `json:"systemTags"`
	Description        *string  `json:"description"`
	Comments           []any    `json:"comments"`
}

// graphIncident converts a legacy incident to Graph's shape: string IDs,
// lower-camel enum values, and "unknown" where the legacy API says
// "NotAvailable".
func graphIncident(tenantID string, inc Incident) GraphIncident {
	determination := inc.Determination
	if determination == "NotAvailable" {
		determination = "Unknown"
	}
	return GraphIncident{
		ID:                 strconv.Itoa(inc.IncidentID),
		TenantID:           tenantID,
		Status:             lowerCamel(inc.Status),
		IncidentWebURL:     inc.IncidentURI,
		DisplayName:        inc.IncidentName,
		CreatedDateTime:    inc.CreatedTime,
		LastUpdateDateTime: inc.LastUpdateTime,
		AssignedTo:         inc.AssignedTo,
		Classification:     lowerCamel(inc.Classification),
		Determination:      lowerCamel(determination),
		Severity:           lowerCamel(inc.Severity),
		CustomTags:         []string{},
		SystemTags:         []string{},
		Comments:           []any{},
	}
}

func lowerCamel(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// graphIncidentField gives the fields Graph lets $filter use.
func graphIncidentField(name string) (func(GraphIncident) string, bool) {
	switch name {
	case "status":
		return func(i GraphIncident) string { return i.Status }, true
	case "severity":
		return func(i GraphIncident) string { return i.Severity }, true
	case "classification":
		return func(i GraphIncident) string { return i.Classification }, true
	case "determination":
		return func(i GraphIncident) string { return i.Determination }, true
	case "assignedTo":
		return func(i GraphIncident) string {
			if i.AssignedTo == nil {
				return ""
			}
			return *i.AssignedTo
		}, true
	case "createdDateTime":
		return func(i GraphIncident) string { return i.CreatedDateTime }, true
	case "lastUpdateDateTime":
		return func(i GraphIncident) string { return i.LastUpdateDateTime }, true
	}
	return nil, false
}

// graphError is Microsoft Graph's error body.
type graphError struct {
	Error graphErrorBody `json:"error"`
}

type graphErrorBody struct {
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	InnerError graphInnerError `json:"innerError"`
}

type graphInnerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// writeGraphError writes Graph's error body, with the request IDs that
// stampGraphRequestIDs put in the response headers.
func (s *Server) writeGraphError(w http.ResponseWriter, status int, code, message string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	writeJSON(w, status, graphError{Error: graphErrorBody{
		Code:    code,
		Message: message,
		InnerError: graphInnerError{
			Date:            s.now().UTC().Format("2006-01-02T15:04:05"),
			RequestID:       w.Header().Get("request-id"),
			ClientRequestID: w.Header().Get("client-request-id"),
		},
	}})
}

// graphListIncidents is GET /v1.0/security/incidents: the tenant's
// incidents, newest first, with $filter, $count and graphIncidentsPaging.
func (s *Server) graphListIncidents(w http.ResponseWriter, r *http.Request, c *Claims) {
	q, top, skip, ok := s.graphListQuery(w, r, graphIncidentsPaging)
	if !ok {
		return
	}
	match, err := parseFilter(q.Get("$filter"), "microsoft.graph.security.incident", graphIncidentField)
	if err != nil {
		s.writeGraphError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	t, _ := s.tenant(c.TenantID)
	var selected []GraphIncident
	for _, inc := range incidentsFor(t) {
		if g := graphIncident(t.ID, inc); match(g) {
			selected = append(selected, g)
		}
	}
	writeGraphList(w, r, "security/incidents", selected, skip, top)
}

// graphListQuery reads the query of a Graph security list: only $top,
// $skip, $filter and $count are simulated, and $top and $skip follow rule.
// It answers a query it refuses itself and then returns ok false.
func (s *Server) graphListQuery(w http.ResponseWriter, r *http.Request, rule pageRule) (q url.Values, top, skip int, ok bool) {
	q = r.URL.Query()
	for name := range q {
		switch name {
		case "$top", "$skip", "$filter", "$count":
		default:
			if strings.HasPrefix(name, "$") {
				s.writeGraphError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("xdrsim does not simulate the query option '%s'.", name))
				return nil, 0, 0, false
			}
		}
	}
	top, skip, err := readPaging(q, rule)
	if err != nil {
		s.writeGraphError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return nil, 0, 0, false
	}
	return q, top, skip, true
}

// writeGraphList answers a Graph list: the page of items, @odata.count
// when the client asked $count=true, and @odata.nextLink unless the page
// is the last. entitySet names the collection in @odata.context.
func writeGraphList[T any](w http.ResponseWriter, r *http.Request, entitySet string, items []T, skip, top int) {
	body := listBody(r, baseURL(r)+"/v1.0/$metadata#"+entitySet, items, skip, top)
	if strings.EqualFold(r.URL.Query().Get("$count"), "true") {
		body["@odata.count"] = len(items)
	}
	writeJSON(w, http.StatusOK, body)
}

// graphRunHuntingQuery is POST /v1.0/security/runHuntingQuery: the same
// simulated rows as the legacy API, in Graph's huntingQueryResults shape
// (schema of name and type, results).
func (s *Server) graphRunHuntingQuery(w http.ResponseWriter, r *http.Request, c *Claims) {
	var req struct {
		Query    string          `json:"Query"`
		Timespan json.RawMessage `json:"Timespan"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		s.writeGraphError(w, http.StatusBadRequest, "BadRequest", "The request body is not valid JSON: "+err.Error())
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		s.writeGraphError(w, http.StatusBadRequest, "BadRequest", "The 'Query' parameter is required and cannot be empty.")
		return
	}
	if len(req.Timespan) > 0 && string(req.Timespan) != "null" {
		var ts string
		if err := json.Unmarshal(req.Timespan, &ts); err != nil || strings.TrimSpace(ts) == "" {
			s.writeGraphError(w, http.StatusBadRequest, "BadRequest", "The 'Timespan' parameter must be a string such as 'P30D'.")
			return
		}
	}
	t, _ := s.tenant(c.TenantID)
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": baseURL(r) + "/v1.0/$metadata#microsoft.graph.security.huntingQueryResults",
		"schema":         huntingSchema("name", "type"),
		"results":        huntingRows(t, req.Query, s.now()),
	})
}
