package server

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"time"
)

// Options adjust Run for the demo and for tests. The zero value runs the
// proxy as `xdrproxy serve` does.
type Options struct {
	// Version is the build's version, logged at start and shown on the
	// status page.
	Version string
	// Roots, if not nil, are the only CAs trusted for Entra ID and the
	// upstreams. Nil means the system's.
	Roots *x509.CertPool
	// OnListening, if set, is called with the listeners' addresses once
	// all listen, before any request is served.
	OnListening func(Addrs)
	// Reloaded, if set, is called after each change of a watched file
	// was handled: with nil when it took effect, else with why it did not.
	Reloaded func(error)
	// Hangup, if not nil, delivers SIGHUP: each re-reads every watched
	// file at once and retries every tenant whose token acquisition
	// failed, now, forgetting its backoff (here and across the fleet).
	Hangup <-chan os.Signal
	// RedisTimeout, if not zero, replaces fleet.DefaultTimeout, the bound
	// of each call to the fleet's Redis: tests that count what the fleet
	// shares must not fall back because a loaded machine was slow.
	RedisTimeout time.Duration
	// HungUp, if set, is called once each hangup has been handled.
	HungUp func()
	// ReloadInterval, if not zero, replaces how often watched files are
	// read (every 2 s).
	ReloadInterval time.Duration
	// PermanentBackoff, if not zero, replaces the first wait after a
	// failure that needs a person, such as missing consent (the demo's
	// consent step should not take a minute); the longest wait is six
	// times it.
	PermanentBackoff time.Duration
	// HeaderTimeout, if not zero, replaces the 10 s every listener gives
	// a client to send its request headers (and first, on TLS listeners,
	// to complete its handshake).
	HeaderTimeout time.Duration
	// ExtraTLS, if set, is one more proxy listener, over TLS with its own
	// certificate, besides those the configuration names: the demo serves
	// MSAL-based tools, which insist on https, on it.
	ExtraTLS *ExtraTLSListener
}

// ExtraTLSListener is a proxy listener over TLS that the configuration
// does not name.
type ExtraTLSListener struct {
	// Addr is its host:port; port 0 picks a free one.
	Addr string
	// Certificate is what it presents.
	Certificate tls.Certificate
	// Setting names what set Addr in errors, such as "--tls-addr".
	Setting string
}

// Addrs are the addresses the listeners got.
type Addrs struct {
	// Proxy is the proxy listener's.
	Proxy net.Addr
	// Admin is the admin listener's.
	Admin net.Addr
	// Tenants are the tenant listeners', in XDRPROXY_TENANT_LISTENERS order.
	Tenants []net.Addr
	// ExtraTLS is Options.ExtraTLS's listener's, or nil.
	ExtraTLS net.Addr
}
