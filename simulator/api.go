package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// apiAudiences are the audiences the Defender XDR API accepts.
var apiAudiences = []string{
	"https://api.security.microsoft.com",
	"https://api.securitycenter.microsoft.com",
	"https://securitycenter.onmicrosoft.com/windowsatpservice",
	"https://api-gcc.security.microsoft.us",
	"https://api-gov.security.microsoft.us",
}

func (s *Server) routeAPI(mux *http.ServeMux) {
	mux.Handle("GET /api/incidents", s.guard(defenderAPI, []string{"Incident.Read.All", "Incident.ReadWrite.All"}, s.listIncidents))
	mux.Handle("GET /api/incidents/{id}", s.guard(defenderAPI, []string{"Incident.Read.All", "Incident.ReadWrite.All"}, s.getIncident))
	mux.Handle("GET /api/alerts", s.guard(defenderAPI, []string{"Alert.Read.All", "Alert.ReadWrite.All"}, s.listAlerts))
	mux.Handle("POST /api/advancedhunting/run", s.guard(defenderAPI, []string{"AdvancedHunting.Read.All"}, s.runHunting))
}

// defenderAPI is how the Defender XDR API refuses a request: tokens for
// one of apiAudiences, its wording, a request-id on every answer, and its
// error body.
var defenderAPI = &apiDialect{
	acceptsAudience:  func(aud string) bool { return slices.Contains(apiAudiences, aud) },
	unauthorizedCode: "Unauthorized",
	tokenRefused:     defenderTokenRefused,
	rolesMissing: func(required, _ []string) string {
		return fmt.Sprintf("The application does not have any of the required application permissions (%s) to access the resource.", strings.Join(required, ", "))
	},
	stampHeaders: func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("request-id", uuid.NewString()) },
	writeError: func(_ *Server, w http.ResponseWriter, status int, code, message string) {
		writeAPIError(w, status, code, message)
	},
}

// defenderTokenRefused is the Defender XDR API's message for a refused
// bearer token.
func defenderTokenRefused(err error, claims *Claims) string {
	switch {
	case errors.Is(err, errNoAuthorization):
		return "Authorization header is missing."
	case errors.Is(err, errNotBearer), errors.Is(err, errEmptyBearer):
		return "Authorization header is not a bearer token."
	case errors.Is(err, errWrongAudience):
		return fmt.Sprintf("The access token has the wrong audience %q.", strings.Join(claims.Audience, ","))
	case errors.Is(err, errUnknownTenant):
		return "The access token's tenant is unknown."
	}
	return "The access token is invalid: " + err.Error()
}

// apiError is the Defender XDR API's error body.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target"`
}

func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, apiError{Error: apiErrorBody{Code: code, Message: message, Target: uuid.NewString()}})
}

// listIncidents is GET /api/incidents: the tenant's incidents, newest
// first, with $filter and defenderIncidentsPaging.
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, c *Claims) {
	q := r.URL.Query()
	top, skip, err := readPaging(q, defenderIncidentsPaging)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "ODataError", err.Error())
		return
	}
	match, err := parseFilter(q.Get("$filter"), "Incident", incidentField)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "ODataError", err.Error())
		return
	}
	t, _ := s.tenant(c.TenantID)
	var selected []Incident
	for _, inc := range incidentsFor(t) {
		if match(inc) {
			selected = append(selected, inc)
		}
	}
	writeJSON(w, http.StatusOK, listBody(r, baseURL(r)+"/api/$metadata#Incidents", selected, skip, top))
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request, c *Claims) {
	id, err := strconv.Atoi(r.PathValue("id"))
	t, _ := s.tenant(c.TenantID)
	if err == nil {
		for _, inc := range incidentsFor(t) {
			if inc.IncidentID == id {
				writeJSON(w, http.StatusOK, inc)
				return
			}
		}
	}
	writeAPIError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("Incident %s was not found", r.PathValue("id")))
}

// runHunting answers an advanced-hunting query with a small result set in
// the legacy API's shape (Schema, Results, Stats). It honours a trailing
// `| take N` or `| limit N`.
func (s *Server) runHunting(w http.ResponseWriter, r *http.Request, c *Claims) {
	// Defender's body parameters are case-sensitive: "query" is not "Query".
	var req map[string]json.RawMessage
	var query string
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err == nil {
		_ = json.Unmarshal(req["Query"], &query)
	}
	if strings.TrimSpace(query) == "" {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestBody", "Request body is incorrect: it must be JSON with a non-empty \"Query\".")
		return
	}
	t, _ := s.tenant(c.TenantID)
	writeJSON(w, http.StatusOK, map[string]any{
		"Stats":   map[string]any{"ExecutionTime": 0.0421, "resource_usage": map[string]any{"cpu": map[string]any{"total cpu": 0.03}}},
		"Schema":  huntingSchema("Name", "Type"),
		"Results": huntingRows(t, query, s.now()),
	})
}
