package config

import (
	"strings"
	"testing"
)

func TestPublicURL(t *testing.T) {
	good := map[string]string{
		"https://xdrproxy.soc.example":       "https://xdrproxy.soc.example",
		"https://XDRProxy.SOC.example/":      "https://xdrproxy.soc.example",
		" http://127.0.0.1:8080 ":            "http://127.0.0.1:8080",
		"HTTPS://[::1]:8443":                 "https://[::1]:8443",
		"https://xdrproxy.soc.svc:443":       "https://xdrproxy.soc.svc:443",
		"https://gateway.example.com:9443/":  "https://gateway.example.com:9443",
		"http://xdrproxy.mssp.internal:8080": "http://xdrproxy.mssp.internal:8080",
	}
	for in, want := range good {
		setEnv(t, caseEnv(map[string]string{"XDRPROXY_PUBLIC_URL": in}, nil))
		c, err := Load()
		if err != nil {
			t.Errorf("XDRPROXY_PUBLIC_URL=%q: %v", in, err)
			continue
		}
		if got := c.PublicURL.String(); got != want {
			t.Errorf("XDRPROXY_PUBLIC_URL=%q: got %s, want %s", in, got, want)
		}
	}

	setEnv(t, minimalEnv())
	if c, err := Load(); err != nil || c.PublicURL != nil {
		t.Errorf("unset: PublicURL = %v, %v; want nil (from each request)", c.PublicURL, err)
	}

	bad := map[string]string{
		"xdrproxy.soc.example":                  "not an absolute URL",
		"/xdrproxy":                             "not an absolute URL",
		"ftp://xdrproxy.soc.example":            "must use https or http",
		"https://xdrproxy.soc.example/proxy":    "no path, query or user info",
		"https://xdrproxy.soc.example/?a=b":     "no path, query or user info",
		"https://xdrproxy.soc.example/#top":     "no path, query or user info",
		"https://user:hunter2@xdrproxy.example": "no path, query or user info",
		"https://xdr proxy.example":             "XDRPROXY_PUBLIC_URL",
	}
	for in, want := range bad {
		setEnv(t, caseEnv(map[string]string{"XDRPROXY_PUBLIC_URL": in}, nil))
		_, err := Load()
		if err == nil {
			t.Errorf("XDRPROXY_PUBLIC_URL=%q accepted", in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "XDRPROXY_PUBLIC_URL: ") || !strings.Contains(msg, want) {
			t.Errorf("XDRPROXY_PUBLIC_URL=%q: error %q does not name the variable and say %q", in, msg, want)
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("error shows the password: %s", msg)
		}
	}
}

// TestPublicURLRefusesWhatNoClientCanReach: a public URL without a host
// name, or with a port no TCP listener can have, passes start-up today
// and every discovery document and paging link then names it.
func TestPublicURLRefusesWhatNoClientCanReach(t *testing.T) {
	for _, in := range []string{
		"https://:8443",
		"https://xdrproxy.soc.example:99999",
		"https://xdrproxy.soc.example:0",
		"https://xdrproxy.soc.example<x>",
		"https://hôst.example",
		"https://host,evil.example",
	} {
		t.Run(in, func(t *testing.T) {
			if u, err := ParsePublicURL(in); err == nil {
				t.Errorf("ParsePublicURL(%q) = %s, want an error", in, u)
			}
		})
	}
}
