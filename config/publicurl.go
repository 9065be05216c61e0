package config

import (
	"fmt"
	"net/url"
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
	if strings.ContainsAny(u.Host, `"\ `) || u.Port() == "" && strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("%s does not name a valid host", shownURL(s))
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host)}, nil
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
