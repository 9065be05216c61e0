package simulator

import (
	"slices"
	"strings"
)

// Well-known identities of the simulated world, used when a Server's fields
// are left empty. They are not secrets: the simulator only runs on loopback.
const (
	// DefaultClientID is the multi-tenant application registered in every
	// simulated tenant.
	DefaultClientID = "00000000-5eed-4a11-b0b0-00000000c11e"
	// DefaultClientSecret is that application's client secret.
	DefaultClientSecret = "xdrsim-demo-secret-not-for-production"
	// ContosoTenantID is a consented demo tenant with read roles.
	ContosoTenantID = "11111111-1111-4111-8111-111111111111"
	// FabrikamTenantID is a consented demo tenant with read roles.
	FabrikamTenantID = "22222222-2222-4222-8222-222222222222"
	// UnconsentedTenantID is a tenant whose admin has not granted consent.
	UnconsentedTenantID = "33333333-3333-4333-8333-333333333333"
)

// DefaultRoles are the application roles the demo tenants consented to.
var DefaultRoles = []string{"Incident.Read.All", "Alert.Read.All", "AdvancedHunting.Read.All"}

// DefaultGraphRoles are the Microsoft Graph application roles a consented
// tenant grants when its GraphRoles are nil: the security API's incidents,
// alerts and hunting, and User.Read.All for users/delta.
var DefaultGraphRoles = []string{"SecurityAlert.Read.All", "SecurityIncident.Read.All", "ThreatHunting.Read.All", "User.Read.All"}

// Tenant is one simulated customer directory.
type Tenant struct {
	// ID is the tenant's GUID (lower case).
	ID string
	// Name is the directory's display name, used in error messages.
	// Empty means the GUID is used.
	Name string
	// Domain is the directory's domain, such as contoso.onmicrosoft.com:
	// its OpenID discovery document answers for it with the GUID, as
	// Entra ID's does. Empty means Name's letters and digits, lower case,
	// + ".onmicrosoft.com".
	Domain string
	// Consented says whether the tenant's admin granted the application
	// admin consent. Without it, token requests get AADSTS700016.
	Consented bool
	// Roles are the application permissions consented to on the Defender
	// resources; they become the roles claim of tokens for every resource
	// but Microsoft Graph. Nil means none.
	Roles []string
	// GraphRoles are the Microsoft Graph application permissions consented
	// to; they become the roles claim of tokens for
	// https://graph.microsoft.com. Nil means DefaultGraphRoles when the
	// tenant is consented (none when it is not); an empty, non-nil slice
	// means none.
	GraphRoles []string
	// Incidents is how many incidents the tenant's API holds. Zero means
	// 25; negative means none. Each incident holds one to three alerts.
	Incidents int
	// Users is how many users the directory holds, as Microsoft Graph's
	// users/delta lists them. Zero means 12; negative means none.
	Users int
}

// DemoTenants returns the tenants a zero Server starts with.
func DemoTenants() []Tenant {
	return []Tenant{
		{ID: ContosoTenantID, Name: "Contoso", Consented: true, Roles: DefaultRoles, GraphRoles: DefaultGraphRoles},
		{ID: FabrikamTenantID, Name: "Fabrikam", Consented: true, Roles: DefaultRoles, GraphRoles: DefaultGraphRoles},
		{ID: UnconsentedTenantID, Name: "Northwind", Consented: false},
	}
}

func (s *Server) putTenant(t Tenant) {
	t.ID = strings.ToLower(t.ID)
	if t.Name == "" {
		t.Name = t.ID
	}
	if t.Domain == "" {
		t.Domain = onMicrosoftDomain(t.Name)
	}
	switch {
	case t.Incidents == 0:
		t.Incidents = 25
	case t.Incidents < 0:
		t.Incidents = 0
	}
	switch {
	case t.Users == 0:
		t.Users = 12
	case t.Users < 0:
		t.Users = 0
	}
	t.Roles = append([]string(nil), t.Roles...)
	if t.GraphRoles == nil && t.Consented {
		t.GraphRoles = DefaultGraphRoles
	}
	t.GraphRoles = slices.Clone(t.GraphRoles) // keeps an empty slice non-nil
	s.tenants[t.ID] = &t
}

// SetTenant adds a tenant or replaces the one with the same ID, for example
// to grant consent or change roles while the simulator runs.
func (s *Server) SetTenant(t Tenant) error {
	if err := s.init(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putTenant(t)
	return nil
}

// tenantByDomain finds a tenant by its domain, ignoring case.
func (s *Server) tenantByDomain(domain string) (Tenant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tenants {
		if strings.EqualFold(t.Domain, domain) {
			return *t, true
		}
	}
	return Tenant{}, false
}

func (s *Server) tenant(id string) (Tenant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[strings.ToLower(id)]
	if !ok {
		return Tenant{}, false
	}
	return *t, true
}

// onMicrosoftDomain is the initial domain Entra ID gives a directory named
// name: its letters and digits, lower case, then .onmicrosoft.com.
func onMicrosoftDomain(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return b.String() + ".onmicrosoft.com"
}
