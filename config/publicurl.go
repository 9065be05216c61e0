package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ParsePublicURL parses XDRPROXY_PUBLIC_URL: the origin clients use to
// reach the proxy (https://xdrproxy.soc.example behind an ingress that
// terminates TLS), which discovery documents, issuers, token endpoints
// and rewritten paging links then name. It is an absolute http or https
// URL with a host and no path but "/", query, fragment or user info; the
// result has no trailing slash and a lower-case scheme and host.
func ParsePublicURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%s is not an absolute URL such as https://xdrproxy.example.com", shownURL(s))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%s must use https or http", shownURL(s))
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%s must be a scheme, host and port only (no path, query or user info): clients reach every route and tenant under it", shownURL(s))
	}
	if err := checkHostPort(u); err != nil {
		return nil, fmt.Errorf("%s: %v", shownURL(s), err)
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host)}, nil
}

// checkHostPort accepts a DNS name (letters, digits, hyphens and dots;
// an internationalised name in its xn-- form) or an IP literal, and a
// port of 1 to 65535 when one is given.
func checkHostPort(u *url.URL) error {
	host, port := u.Hostname(), u.Port()
	switch {
	case host == "":
		return errors.New("names no host")
	case strings.HasSuffix(u.Host, ":") && port == "":
		return errors.New("has an empty port")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %s is not 1 to 65535", port)
		}
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return errors.New("is not a host name of letters, digits, hyphens and dots (write an internationalised name in its xn-- form)")
		}
	}
	return nil
}

// publicURL fills the origin clients reach the proxy at, when set.
func (e env) publicURL(c *Config, p *problems) {
	if strings.TrimSpace(e.PublicURL) == "" {
		return
	}
	u, err := ParsePublicURL(e.PublicURL)
	if err != nil {
		p.add("PUBLIC_URL", "%v", err)
		return
	}
	c.PublicURL = u
}
