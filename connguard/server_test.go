package connguard

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// serverOptions shape a test server.
type serverOptions struct {
	tls           bool
	clientCAs     *x509.CertPool // with tls: require client certificates
	max           int            // Limit's cap; 0: none
	headerTimeout time.Duration  // 0: a minute
	connState     func(net.Conn, http.ConnState)
	now           func() time.Time // with max: Limit's clock; nil: time.Now
}

// testServer is a real http.Server on loopback over Listen (and Limit),
// with ConnContext set and a middleware that refuses ambiguous requests
// (400, Connection: close, the body left unread) as a server using this
// package should. Requests that get past it are answered "METHOD PATH
// BODYLENGTH SCHEME" and recorded.
type testServer struct {
	addr   string
	client *tls.Config // nil for plain
	log    *testutil.SyncBuffer

	mu   sync.Mutex
	seen []string // "METHOD PATH" of each request past the middleware
	// release, once closed, lets requests for /wait be answered: until
	// then (or until their client leaves) they are with the server, in
	// progress.
	release chan struct{}
	queued  chan struct{} // a /queue request has arrived and waits for release before it reads its body
}

func startServer(t *testing.T, o serverOptions) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{addr: ln.Addr().String(), log: &testutil.SyncBuffer{}, release: make(chan struct{}), queued: make(chan struct{}, 8)}
	var conf *tls.Config
	if o.tls {
		ca := testutil.NewCA(t)
		certPEM, keyPEM, _ := ca.Issue(t, "connguard", true)
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		conf = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		if o.clientCAs != nil {
			conf.ClientAuth, conf.ClientCAs = tls.RequireAndVerifyClientCert, o.clientCAs
		}
		s.client = &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
	}
	srv := &http.Server{
		Handler:                      refuseAmbiguous(http.HandlerFunc(s.serve)),
		ReadHeaderTimeout:            time.Minute,
		MaxHeaderBytes:               64 << 10,
		ConnContext:                  ConnContext,
		ConnState:                    o.connState,
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     log.New(io.Discard, "", 0),
	}
	if o.headerTimeout > 0 {
		srv.ReadHeaderTimeout = o.headerTimeout
	}
	done := make(chan error, 1)
	limited := Limit(ln, o.max)
	if ll, ok := limited.(*limitListener); ok && o.now != nil {
		ll.now = o.now
	}
	go func() { done <- srv.Serve(Listen(limited, conf, log.New(s.log, "", 0))) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// refuseAmbiguous answers a request whose framing is ambiguous 400 and
// closes its connection without reading its body.
func refuseAmbiguous(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Ambiguous(r) {
			HangUp(w)
			http.Error(w, "ambiguous framing", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *testServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	if r.URL.Path == "/queue" {
		// As the proxy waits for its rate limit, token and upstream slot
		// before it reads a body.
		s.queued <- struct{}{}
		select {
		case <-s.release:
		case <-r.Context().Done():
			return
		}
	}
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.URL.Path == "/wait" {
		select {
		case <-s.release:
		case <-r.Context().Done(): // the client went away
			return
		}
	}
	scheme := "http"
	if st := TLSState(r); st != nil && st.HandshakeComplete {
		scheme = "https"
	}
	fmt.Fprintf(w, "%s %s %d %s", r.Method, r.URL.Path, n, scheme)
}

// served returns what got past the middleware and forgets it.
func (s *testServer) served() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.seen
	s.seen = nil
	return seen
}

// dial connects as a client, over TLS when the server has it, with a
// deadline that ends a hung test.
func (s *testServer) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	if s.client != nil {
		tc := tls.Client(c, s.client.Clone())
		if err := tc.Handshake(); err != nil {
			c.Close()
			t.Fatal(err)
		}
		c = tc
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// exchange sends raw and reads one response per want, then until the
// server closes the connection, which it must; it checks each status
// and returns the bodies.
func exchange(t *testing.T, c net.Conn, raw string, want ...int) []string {
	t.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var bodies []string
	for i, status := range want {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("response %d: %v", i+1, err)
		}
		if resp.StatusCode != status {
			t.Fatalf("response %d: %d %s, want %d", i+1, resp.StatusCode, body, status)
		}
		bodies = append(bodies, string(body))
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("after %d responses: %v, want the connection closed", len(want), err)
	}
	if len(rest) > 0 {
		t.Fatalf("after %d responses the server sent %q", len(want), rest)
	}
	return bodies
}

// waitClosed reads c until the server closes it; a timeout fails the
// test.
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_, err := io.Copy(io.Discard, c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reading until the server closes: %v", err)
	}
}
