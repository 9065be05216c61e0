package proxy

import "testing"

func TestLooksLikeDomain(t *testing.T) {
	for name, want := range map[string]bool{
		"contoso.onmicrosoft.com": true,
		"Contoso.OnMicrosoft.COM": true,
		"mssp-client.co.uk":       true,
		"xn--bcher-kva.example":   true,
		"contoso.prod":            true, // .prod is a top-level domain
		"contoso":                 false,
		"contoso.prod1":           false, // no top-level domain has a digit
		"contoso.c":               false,
		"contoso..com":            false,
		".contoso.com":            false,
		"-contoso.com":            false,
		"contoso_prod.com":        false,
		"10.0.0.1":                false,
		"contoso.com.":            false,
		"bücher.example":          false,
	} {
		if got := looksLikeDomain(name); got != want {
			t.Errorf("looksLikeDomain(%q) = %v, want %v", name, got, want)
		}
	}
}
