package demo

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/xdrproxy/xdrproxy/config"
)

// Options are where the demo listens and how it logs.
type Options struct {
	// ListenAddr is the proxy listener's. Empty means 127.0.0.1:8080, or
	// a free port when that is taken.
	ListenAddr string
	// AdminAddr is the admin listener's. Empty means 127.0.0.1:9090, or a
	// free port when that is taken.
	AdminAddr string
	// FabrikamAddr is the tenant listener's, pinned to fabrikam. Empty
	// means 127.0.0.1:8081, or a free port when that is taken.
	FabrikamAddr string
	// TLSAddr is the TLS listener's, which serves the proxy with token
	// emulation to MSAL-based tools (they insist on https). Empty means
	// 127.0.0.1:8443, or a free port when that is taken.
	TLSAddr string
	// PublicURL, if not nil, is XDRPROXY_PUBLIC_URL: the origin of a
	// TLS-terminating front the demo is tried behind.
	PublicURL *url.URL
	// OnReady, if set, is called once every listener is open, with what
	// a tool needs to reach them (tests, the interop suite).
	OnReady func(Ready)
	// LogFormat is "json", or empty for console lines.
	LogFormat string
	// Version is the build's version, logged at start.
	Version string
}

// Ready is where the running demo listens, for a tool to use.
type Ready struct {
	// HTTPURL is the proxy's plain-HTTP listener, e.g. http://127.0.0.1:8080.
	HTTPURL string
	// TLSURL is the proxy's TLS listener, e.g. https://127.0.0.1:8443,
	// with token emulation; its certificate is signed by CAFile's CA.
	TLSURL string
	// AdminURL is the admin listener.
	AdminURL string
	// FabrikamURL is the tenant listener pinned to fabrikam.
	FabrikamURL string
	// SimulatorURL is the simulated Entra ID and Defender XDR API.
	SimulatorURL string
	// CAFile is a PEM file of the simulator's CA: trust it to reach
	// TLSURL and the simulator. It is removed when the demo stops.
	CAFile string
	// ConsentURL is the simulator's stand-in for northwind's
	// admin-consent page: opening it grants consent.
	ConsentURL string
	// PublicURL is XDRPROXY_PUBLIC_URL, or "" when unset.
	PublicURL string
	// ForeignCredentials counts the requests that reached the simulated
	// API with a credential the simulator did not issue (a client's key
	// or placeholder, sent past the proxy): tests assert it stays 0.
	ForeignCredentials func() int
}

// Variables are the variables OptionsFromEnv reads.
var Variables = []string{"XDRPROXY_LISTEN_ADDR", "XDRPROXY_ADMIN_ADDR", "XDRPROXY_TENANT_LISTENERS", "XDRPROXY_PUBLIC_URL", "XDRPROXY_LOG_FORMAT"}

// OptionsFromEnv reads the listener variables of `xdrproxy serve` that
// the demo honours (XDRPROXY_LISTEN_ADDR, XDRPROXY_ADMIN_ADDR,
// XDRPROXY_TENANT_LISTENERS, XDRPROXY_PUBLIC_URL) and
// XDRPROXY_LOG_FORMAT. The demo serves loopback only, with one tenant
// listener, for fabrikam: any other value is an error that names its
// variable.
func OptionsFromEnv() (Options, error) {
	for _, v := range []string{"XDRPROXY_LISTEN_ADDR", "XDRPROXY_ADMIN_ADDR"} {
		if addr := os.Getenv(v); addr != "" && !config.IsLoopbackAddr(addr) {
			return Options{}, fmt.Errorf("%s=%s: the demo serves loopback only (use 127.0.0.1:PORT)", v, addr)
		}
	}
	o := Options{ListenAddr: os.Getenv("XDRPROXY_LISTEN_ADDR"), AdminAddr: os.Getenv("XDRPROXY_ADMIN_ADDR")}
	if v := os.Getenv("XDRPROXY_TENANT_LISTENERS"); v != "" {
		addr, tenant, ok := strings.Cut(v, "=")
		if !ok || tenant != "fabrikam" || strings.Contains(v, ",") || !config.IsLoopbackAddr(addr) {
			return Options{}, fmt.Errorf("XDRPROXY_TENANT_LISTENERS=%s: the demo pins one loopback listener to fabrikam (use 127.0.0.1:PORT=fabrikam)", v)
		}
		o.FabrikamAddr = addr
	}
	if v := os.Getenv("XDRPROXY_PUBLIC_URL"); strings.TrimSpace(v) != "" {
		u, err := config.ParsePublicURL(v)
		if err != nil {
			return Options{}, fmt.Errorf("XDRPROXY_PUBLIC_URL: %w", err)
		}
		o.PublicURL = u
	}
	if f := os.Getenv("XDRPROXY_LOG_FORMAT"); f == "json" {
		o.LogFormat = f
	}
	return o, nil
}

// freeAddr returns want if set, else def when it can be listened on, else
// an ephemeral port on the same host, so the demo starts even when 8080 is
// taken.
func freeAddr(want, def string) string {
	if want != "" {
		return want
	}
	ln, err := net.Listen("tcp", def)
	if err != nil {
		host, _, _ := net.SplitHostPort(def)
		return net.JoinHostPort(host, "0")
	}
	ln.Close()
	return def
}
