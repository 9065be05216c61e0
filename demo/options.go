package demo

import (
	"fmt"
	"net"
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
	// LogFormat is "json", or empty for console lines.
	LogFormat string
	// Version is the build's version, logged at start.
	Version string
}

// OptionsFromEnv reads the listener variables of `xdrproxy serve` that
// the demo honours (XDRPROXY_LISTEN_ADDR, XDRPROXY_ADMIN_ADDR,
// XDRPROXY_TENANT_LISTENERS) and XDRPROXY_LOG_FORMAT. The demo serves
// loopback only, with one tenant listener, for fabrikam: any other value
// is an error that names its variable.
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
