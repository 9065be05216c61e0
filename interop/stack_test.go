package interop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/demo"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// stack is a running proxy as a client library meets it.
type stack struct {
	// origin is the https origin the libraries use as their authority
	// host and API base, with no trailing slash.
	origin string
	// caFile is a PEM file of the CA that signed origin's certificate.
	caFile string
	// roots holds the same CA.
	roots *x509.CertPool
	// forwarded, if not nil, returns the requests a front before the
	// proxy forwarded since it was last called.
	forwarded func() []string
}

// httpClient returns a client that trusts only the stack's CA; its idle
// connections are closed when the test ends.
func (s stack) httpClient(t *testing.T) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.roots}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// startDemo runs the demo in-process on free loopback ports with o's
// other settings, waits until it is ready and stops it when the test
// ends. Its log is shown if it fails to start or to stop cleanly.
func startDemo(t *testing.T, o demo.Options) demo.Ready {
	t.Helper()
	o.ListenAddr, o.AdminAddr, o.FabrikamAddr, o.TLSAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	o.LogFormat = "json"
	ready := make(chan demo.Ready, 1)
	o.OnReady = func(r demo.Ready) { ready <- r }
	ctx, cancel := context.WithCancel(context.Background())
	var logs testutil.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- demo.Run(ctx, o, io.Discard, &logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with %v\n%s", err, logs.String())
		}
	})
	select {
	case r := <-ready:
		noForeignCredentials(t, r.ForeignCredentials)
		return r
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("demo stopped before it was ready: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("demo not ready after 30s\n%s", logs.String())
	}
	return demo.Ready{}
}

// noForeignCredentials fails the test when it ends if count, the
// simulator's ForeignCredentials, is not zero: no client credential (a
// client key or a placeholder) may reach the simulated API, whatever
// links the clients followed.
func noForeignCredentials(t *testing.T, count func() int) {
	t.Cleanup(func() {
		if n := count(); n != 0 {
			t.Errorf("%d requests reached the simulated API with a client's credential", n)
		}
	})
}

// demoStack is the demo's own TLS listener, signed by the simulator's CA.
func demoStack(t *testing.T) stack {
	r := startDemo(t, demo.Options{})
	pem, err := os.ReadFile(r.CAFile)
	if err != nil {
		t.Fatalf("the demo's CA file: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("the demo's CA file %s holds no certificate", r.CAFile)
	}
	return stack{origin: r.TLSURL, caFile: r.CAFile, roots: roots}
}
