package config

import (
	"fmt"
	"net"
	"net/netip"
)

// checkListenAddr checks that addr is host:port with a valid port and, if
// there is a host, an IP address or localhost.
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (such as 127.0.0.1:8080)", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%q has no valid port", addr)
	}
	if host != "" && host != "localhost" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%q: the host must be an IP address or localhost", addr)
		}
	}
	return nil
}

// IsLoopbackAddr reports whether the listener address host:port can only
// be reached from this machine.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// clash returns the address of taken that addr could not be bound beside:
// the same port on the same address (however spelt: localhost is
// 127.0.0.1, ::ffff:127.0.0.1 too), or on a wildcard address, which Go
// binds on every family. Port 0 (any free port) clashes with nothing.
func clash(addr string, taken []string) string {
	host, port, ok := splitListenAddr(addr)
	if !ok || port == 0 {
		return ""
	}
	for _, t := range taken {
		th, tp, ok := splitListenAddr(t)
		if !ok || tp != port {
			continue
		}
		if host == th || !host.IsValid() || !th.IsValid() {
			return t
		}
	}
	return ""
}

// splitListenAddr returns a listener address's IP, unmapped (the zero
// Addr for a wildcard), and its port number.
func splitListenAddr(addr string) (netip.Addr, int, bool) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	port, err := net.LookupPort("tcp", p)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	if h == "localhost" {
		h = "127.0.0.1"
	}
	if h == "" {
		return netip.Addr{}, port, true
	}
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	if ip = ip.Unmap(); ip.IsUnspecified() {
		return netip.Addr{}, port, true
	}
	return ip, port, true
}
