package interop

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/xdrproxy/xdrproxy/demo"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// front is a TLS-terminating front (an ingress, a load balancer) with its
// own CA, forwarding plain HTTP to the proxy behind it. Like a front the
// proxy cannot vouch for, it passes the client's Host through and adds no
// X-Forwarded-* header (httputil.ReverseProxy's Rewrite drops those the
// client sent): the proxy must build its https URLs from its public URL.
type front struct {
	ln     net.Listener
	origin string
	ca     *testutil.CA
	caFile string
	seen   requestLog
}

// requestLog is what a front forwarded, as "METHOD path" lines.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

// add records r.
func (l *requestLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r.Method+" "+r.URL.Path)
}

// take returns the requests recorded since the last take.
func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	reqs := l.reqs
	l.reqs = nil
	return reqs
}

// listenFront listens on a free loopback port, so that the proxy behind
// it can be told its public URL before the front forwards anything.
func listenFront(t *testing.T) *front {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ca := testutil.NewCA(t)
	caFile := filepath.Join(t.TempDir(), "front-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return &front{ln: ln, origin: "https://" + ln.Addr().String(), ca: ca, caFile: caFile}
}

// serve forwards everything it receives to backend until the test ends.
func (f *front) serve(t *testing.T, backend *url.URL) {
	certPEM, keyPEM, _ := f.ca.Issue(t, "xdrproxy front", true)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			f.seen.add(pr.In)
			pr.SetURL(backend)
			pr.Out.Host = pr.In.Host
		}},
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(f.ln, "", "") }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("front: %v", err)
		}
	})
}

// frontStack is the demo behind a TLS front, started with the front's
// origin as its public URL (XDRPROXY_PUBLIC_URL); clients trust only the
// front's CA.
func frontStack(t *testing.T) stack {
	f := listenFront(t)
	public, err := url.Parse(f.origin)
	if err != nil {
		t.Fatal(err)
	}
	r := startDemo(t, demo.Options{PublicURL: public})
	backend, err := url.Parse(r.HTTPURL)
	if err != nil {
		t.Fatalf("the demo's HTTP URL %q: %v", r.HTTPURL, err)
	}
	f.serve(t, backend)
	return stack{origin: f.origin, caFile: f.caFile, roots: f.ca.Pool(), forwarded: f.seen.take}
}
