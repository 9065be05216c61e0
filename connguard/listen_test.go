package connguard

import (
	"bufio"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// A client that connects to a TLS listener and never completes a
// handshake is dropped when the server's header timeout ends, as one
// that sends no request is.
func TestHandshakeEndsWithTheHeaderTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	s := startServer(t, serverOptions{tls: true, headerTimeout: timeout})
	for _, tt := range []struct{ name, send string }{
		{"silent", ""},
		{"part of a ClientHello", "\x16\x03\x01\x00\xc8\x01\x00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now() // before the server can start its timer
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, tt.send)
			waitClosed(t, c)
			if held := time.Since(start); held < timeout {
				t.Errorf("closed after %v, before the header timeout", held)
			}
		})
	}
	if !strings.Contains(s.log.String(), "TLS handshake error from 127.0.0.1:") {
		t.Errorf("failed handshakes not logged: %q", s.log.String())
	}
}

// A plain HTTP request to a TLS listener is told so, in plain HTTP.
func TestPlainHTTPToTLSListener(t *testing.T) {
	s := startServer(t, serverOptions{tls: true})
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "HTTP request to an HTTPS server") {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
	if !strings.Contains(s.log.String(), "client sent an HTTP request to an HTTPS server") {
		t.Errorf("log %q", s.log.String())
	}
}

// Handlers see the TLS state of Listen's handshake, client certificates
// included, through TLSState; net/http's r.TLS stays nil.
func TestTLSState(t *testing.T) {
	clientCA := testutil.NewCA(t)
	certPEM, keyPEM, _ := clientCA.Issue(t, "soar", false)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serverCA := testutil.NewCA(t)
	sCertPEM, sKeyPEM, _ := serverCA.Issue(t, "connguard", true)
	pair, _ := tls.X509KeyPair(sCertPEM, sKeyPEM)
	conf := &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCA.Pool()}
	got := make(chan string, 1)
	srv := &http.Server{
		ConnContext: ConnContext,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st := TLSState(r)
			switch {
			case r.TLS != nil:
				got <- "r.TLS is set"
			case st == nil || len(st.PeerCertificates) == 0:
				got <- "no client certificate"
			default:
				got <- st.PeerCertificates[0].Subject.CommonName
			}
		}),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(Listen(ln, conf, log.New(io.Discard, "", 0))) }()
	defer func() { srv.Close(); <-done }()

	client := func(certs ...tls.Certificate) *http.Client {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: serverCA.Pool(), Certificates: certs}}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	resp, err := client(cert).Get("https://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cn := <-got; cn != "soar" {
		t.Errorf("the handler saw %q, want the client certificate of soar", cn)
	}
	if _, err := client().Get("https://" + ln.Addr().String() + "/"); err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("without a client certificate: %v", err)
	}
	// Plain connections have no TLS state.
	plain := startServer(t, serverOptions{})
	if bodies := exchange(t, plain.dial(t), "GET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200); bodies[0] != "GET /p 0 http" {
		t.Errorf("plain: %q", bodies[0])
	}
}
