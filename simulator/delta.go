package simulator

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Microsoft Graph's delta query, simulated on GET /v1.0/users/delta
// ("user: delta", learn.microsoft.com/graph/api/user-delta; "Use delta
// query to track changes in Microsoft Graph data", learn.microsoft.com/
// graph/delta-query-overview). The security API has no delta function, so
// the simulator serves the documented one an MSSP's app is most likely to
// call, with its least privileged application role, User.Read.All.
//
// A round of change tracking is one or more pages: each page but the last
// carries an @odata.nextLink whose only parameter is an opaque $skiptoken,
// the last an @odata.deltaLink with an opaque $deltatoken ("The
// @odata.nextLink URL includes a $skipToken, and a @odata.deltaLink URL
// includes a $deltaToken"). The tokens carry the query parameters of the
// round's first request ("Microsoft Graph automatically encodes any
// specified parameters into the token portion of the nextLink or deltaLink
// URL"). Following a deltaLink starts a new round listing what changed
// since: users added since, and users removed as {"id", "@removed":
// {"reason": "deleted"}}; an empty page with a new deltaLink when nothing
// changed. $deltatoken=latest answers no users and a deltaLink from now.

// deltaUsersPaging is the page of users/delta. The overview says only that
// "the number of objects in each page can vary"; the simulator uses GET
// /users' documented default of 100 ("Paging Microsoft Graph data in your
// app": "the GET /users endpoint returns a default of 100 results") and
// accepts a $top of up to 999, as GET /users does and as clients of delta
// send it.
var deltaUsersPaging = pageRule{defaultTop: 100, maxTop: 999, minTop: 1}

// graphDirectoryAPI is Graph's directory (users) flavour: as graphAPI, but
// a token without the role is refused as directory APIs refuse it.
var graphDirectoryAPI = func() *apiDialect {
	d := *graphAPI
	d.forbiddenCode = "Authorization_RequestDenied"
	d.rolesMissing = func(_, _ []string) string { return "Insufficient privileges to complete the operation." }
	return &d
}()

// deltaState is what a $skiptoken or $deltatoken stands for.
type deltaState struct {
	// Kind is "skip" in a nextLink's token and "delta" in a deltaLink's.
	Kind string `json:"k"`
	// Tenant is the tenant whose directory the round lists.
	Tenant string `json:"t"`
	// From is how many users the client already holds: none on the
	// first round, the previous round's To after that.
	From int `json:"f"`
	// To is how many users the directory held when the round began; a
	// deltaLink's To is decided when it is followed.
	To int `json:"n"`
	// Skip is how many of the round's changes earlier pages listed.
	Skip int `json:"s"`
	// Top is the page size; Select the properties the client asked for.
	Top    int      `json:"p"`
	Select []string `json:"l,omitempty"`
}

var errBadStateToken = errors.New("The specified state token is invalid.")

func (d deltaState) encode() string {
	b, _ := json.Marshal(d)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeDeltaState reads a token of kind for tenant.
func decodeDeltaState(token, kind, tenant string) (deltaState, error) {
	var d deltaState
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || json.Unmarshal(b, &d) != nil || d.Kind != kind || !strings.EqualFold(d.Tenant, tenant) ||
		d.From < 0 || d.To < 0 || d.Skip < 0 || d.Top < 1 || d.Top > deltaUsersPaging.maxTop {
		return deltaState{}, errBadStateToken
	}
	return d, nil
}

// graphUsersDelta is GET /v1.0/users/delta.
func (s *Server) graphUsersDelta(w http.ResponseWriter, r *http.Request, c *Claims) {
	t, _ := s.tenant(c.TenantID)
	d, err := s.deltaRound(r, t)
	if err != nil {
		s.writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", err.Error())
		return
	}
	changes := d.changes(t)
	page := pageOf(changes, d.Skip, d.Top)
	context := baseURL(r) + "/v1.0/$metadata#users"
	if len(d.Select) > 0 {
		context += "(" + strings.Join(d.Select, ",") + ")"
	}
	body := map[string]any{"@odata.context": context, "value": page}
	link := baseURL(r) + r.URL.Path
	if d.Skip+d.Top < len(changes) {
		next := d
		next.Skip += d.Top
		body["@odata.nextLink"] = link + "?$skiptoken=" + next.encode()
	} else {
		body["@odata.deltaLink"] = link + "?$deltatoken=" + deltaState{Kind: "delta", Tenant: t.ID, From: d.To, Top: d.Top, Select: d.Select}.encode()
	}
	writeJSON(w, http.StatusOK, body)
}

// deltaRound is the round and page a request asks for: the one its
// $skiptoken names, a new round after its $deltatoken, or a first round.
func (s *Server) deltaRound(r *http.Request, t Tenant) (deltaState, error) {
	q := r.URL.Query()
	for name := range q {
		switch name {
		case "$skiptoken", "$deltatoken", "$select", "$top":
		default:
			if strings.HasPrefix(name, "$") {
				return deltaState{}, fmt.Errorf("xdrsim does not simulate the query option '%s' on delta.", name)
			}
		}
	}
	if tok := q.Get("$skiptoken"); tok != "" {
		return decodeDeltaState(tok, "skip", t.ID)
	}
	if tok := q.Get("$deltatoken"); strings.EqualFold(tok, "latest") {
		return deltaState{Kind: "skip", Tenant: t.ID, From: t.Users, To: t.Users, Top: deltaUsersPaging.defaultTop}, nil
	} else if tok != "" {
		d, err := decodeDeltaState(tok, "delta", t.ID)
		if err != nil {
			return deltaState{}, err
		}
		d.Kind, d.To = "skip", t.Users
		return d, nil
	}
	top, _, err := readPaging(q, deltaUsersPaging)
	if err != nil {
		return deltaState{}, err
	}
	var sel []string
	for _, name := range strings.Split(q.Get("$select"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			if _, ok := (DirectoryUser{}).fields()[name]; !ok {
				return deltaState{}, fmt.Errorf("Could not find a property named '%s' on type 'microsoft.graph.user'.", name)
			}
			sel = append(sel, name)
		}
	}
	return deltaState{Kind: "skip", Tenant: t.ID, To: t.Users, Top: top, Select: sel}, nil
}

// changes are what the round reports: the users added between From and
// To, or those removed when the directory shrank.
func (d deltaState) changes(t Tenant) []map[string]any {
	var out []map[string]any
	for i := d.From; i < d.To; i++ {
		out = append(out, userAt(t, i).selected(d.Select))
	}
	for i := d.To; i < d.From; i++ {
		out = append(out, map[string]any{"id": userID(t.ID, i), "@removed": map[string]string{"reason": "deleted"}})
	}
	return out
}
