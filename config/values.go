package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// parseBool accepts true, 1 and yes, false, 0 and no, in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want true or false)", s)
}

// parseDuration accepts a positive Go duration.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (such as 30s or 2m)", s)
	}
	return d, nil
}

// parseAuthorityHost accepts an https URL with a host and nothing after
// it but a trailing slash.
func parseAuthorityHost(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(s), "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s is not a URL such as https://login.microsoftonline.com", shownURL(s))
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("%s must use https (Entra ID and MSAL accept no other scheme)", shownURL(s))
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%s must be a scheme and host only, with no path or query", shownURL(s))
	}
	return u, nil
}

// parseUpstreamURL accepts an https URL, or http on a loopback host, with
// no query, fragment or user info; the path loses its trailing slash.
func parseUpstreamURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s is not a URL such as https://api.security.microsoft.com", shownURL(s))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%s must not carry a query, fragment or user info", shownURL(s))
	}
	switch u.Scheme {
	case "https":
	case "http":
		// Tokens must never cross a network in clear text.
		if !isLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("%s would send bearer tokens in clear text; use https (http is accepted for loopback only)", shownURL(s))
		}
	default:
		return nil, fmt.Errorf("%s must use https", shownURL(s))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// sameHost reports whether two URLs name the same host, ignoring case and
// a trailing slash.
func sameHost(a, b string) bool {
	ua, err1 := url.Parse(strings.TrimSpace(a))
	ub, err2 := url.Parse(strings.TrimSpace(b))
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Host, ub.Host)
}
