package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
)

// requireLoopback refuses any target that is not plain HTTP on a loopback
// address: the soak opens thousands of hostile connections and must never
// aim them at another machine.
func requireLoopback(ctx context.Context, u *url.URL) error {
	if u.Scheme != "http" {
		return fmt.Errorf("-url %q: only http:// targets on loopback are supported", u.Redacted())
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("-url %q has no host", u.Redacted())
	}
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return fmt.Errorf("resolving %q: %w", host, err)
		}
		ips = ips[:0]
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	if len(ips) == 0 {
		return fmt.Errorf("%q resolves to no address", host)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("refusing %q: %s is not a loopback address", host, ip)
		}
	}
	return nil
}

// hostPort is the address the attackers dial: the URL's host and port,
// port 80 when the URL names none.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}
