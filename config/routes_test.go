package config

import (
	"strings"
	"testing"
)

func TestParseRoutes(t *testing.T) {
	routes, err := ParseRoutes("/graph/=https://graph.microsoft.com, /graph/beta/=https://graph.microsoft.com/beta|https://graph.microsoft.com/.default ,/mde/=https://api.securitycenter.microsoft.com/api/")
	if err != nil {
		t.Fatal(err)
	}
	var prefixes, scopes []string
	for _, r := range routes {
		prefixes = append(prefixes, r.Prefix)
		scopes = append(scopes, r.Scope)
	}
	if got := strings.Join(prefixes, " "); got != "/graph/beta/ /graph/ /mde/" {
		t.Errorf("order = %s, want longest prefix first", got)
	}
	if got := strings.Join(scopes, " "); got != "https://graph.microsoft.com/.default https://graph.microsoft.com/.default https://api.securitycenter.microsoft.com/.default" {
		t.Errorf("scopes = %s", got)
	}

	for _, bad := range []string{
		"graph=https://graph.microsoft.com",  // no leading slash
		"/graph/",                            // no URL
		"/graph/=http://graph.microsoft.com", // clear text
		"/tenants/x/=https://graph.microsoft.com",
		"/a/../b/=https://graph.microsoft.com",
		"/g/=https://graph.microsoft.com|a b",
		"/g/=https://a.example,/g/=https://b.example",
	} {
		if _, err := ParseRoutes(bad); err == nil {
			t.Errorf("ParseRoutes(%q) accepted", bad)
		}
	}
}
