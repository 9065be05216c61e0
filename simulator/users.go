package simulator

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

// DirectoryUser is a user of a simulated directory in Microsoft Graph's
// shape (microsoft.graph.user, its default properties).
type DirectoryUser struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName"`
	Surname           string   `json:"surname"`
	UserPrincipalName string   `json:"userPrincipalName"`
	Mail              string   `json:"mail"`
	JobTitle          string   `json:"jobTitle"`
	BusinessPhones    []string `json:"businessPhones"`
	MobilePhone       *string  `json:"mobilePhone"`
	OfficeLocation    *string  `json:"officeLocation"`
	PreferredLanguage string   `json:"preferredLanguage"`
}

var (
	givenNames = []string{"Adele", "Alex", "Diego", "Grady", "Isaiah", "Johanna", "Lee", "Lidia", "Megan", "Miriam", "Nestor", "Patti"}
	surnames   = []string{"Vance", "Wilber", "Siciliani", "Archie", "Langer", "Lorenz", "Gu", "Holloway", "Bowen", "Graham", "Wilke", "Fernandez"}
	jobTitles  = []string{"Security Analyst", "IT Administrator", "Engineer", "Sales Manager", "Accountant"}
)

// userAt is the directory's i-th user (from 0), the same on every call:
// a tenant with Users n holds userAt(0) to userAt(n-1).
func userAt(t Tenant, i int) DirectoryUser {
	given, surname := givenNames[i%len(givenNames)], surnames[(i/len(givenNames)+i)%len(surnames)]
	alias := strings.ToLower(given[:1] + surname)
	if i >= len(givenNames) {
		alias += fmt.Sprint(i / len(givenNames))
	}
	upn := alias + "@" + t.shortName() + ".example"
	return DirectoryUser{
		ID:                userID(t.ID, i),
		DisplayName:       given + " " + surname,
		GivenName:         given,
		Surname:           surname,
		UserPrincipalName: upn,
		Mail:              upn,
		JobTitle:          jobTitles[i%len(jobTitles)],
		BusinessPhones:    []string{},
		PreferredLanguage: "en-US",
	}
}

// userID derives a stable object ID for a tenant's i-th user.
func userID(tenantID string, i int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("user:%s:%d", tenantID, i)))
	b := sum[:16]
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// fields are the user's properties by name, as $select picks them.
func (u DirectoryUser) fields() map[string]any {
	return map[string]any{
		"id":                u.ID,
		"displayName":       u.DisplayName,
		"givenName":         u.GivenName,
		"surname":           u.Surname,
		"userPrincipalName": u.UserPrincipalName,
		"mail":              u.Mail,
		"jobTitle":          u.JobTitle,
		"businessPhones":    u.BusinessPhones,
		"mobilePhone":       u.MobilePhone,
		"officeLocation":    u.OfficeLocation,
		"preferredLanguage": u.PreferredLanguage,
	}
}

// selected is the user with only the properties in sel (and its id,
// which Graph always returns); all of them when sel is empty.
func (u DirectoryUser) selected(sel []string) map[string]any {
	all := u.fields()
	if len(sel) == 0 {
		return all
	}
	out := map[string]any{"id": u.ID}
	for _, name := range sel {
		if v, ok := all[name]; ok {
			out[name] = v
		}
	}
	return out
}
