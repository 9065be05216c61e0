package connguard

import (
	"bufio"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"testing"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// benchRequest is a typical API request: a GET with the headers a client
// library sends.
const benchRequest = "GET /api/incidents?$top=10&$filter=status%20eq%20'active' HTTP/1.1\r\n" +
	"Host: xdrproxy.soc.example\r\nUser-Agent: python-requests/2.32.3\r\nAccept-Encoding: gzip, deflate\r\n" +
	"Accept: application/json\r\nConnection: keep-alive\r\nX-Tenant-ID: contoso\r\n" +
	"Authorization: Bearer 6f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e\r\n\r\n"

// BenchmarkFraming is the watcher's own cost on one request.
func BenchmarkFraming(b *testing.B) {
	var f framing
	b.SetBytes(int64(len(benchRequest)))
	b.ReportAllocs()
	for b.Loop() {
		f.feed([]byte(benchRequest))
		f.next()
	}
}

// BenchmarkRequest is one keep-alive request through a real http.Server
// on loopback, on a listener as net/http gets it and through Listen, in
// plain HTTP and over TLS.
func BenchmarkRequest(b *testing.B) {
	ca := testutil.NewCA(b)
	certPEM, keyPEM, _ := ca.Issue(b, "bench", true)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{pair}}
	for _, bb := range []struct {
		name string
		wrap func(net.Listener) net.Listener
		tls  bool
	}{
		{"plain/net", func(ln net.Listener) net.Listener { return ln }, false},
		{"plain/connguard", func(ln net.Listener) net.Listener { return Listen(ln, nil, nil) }, false},
		{"TLS/net", func(ln net.Listener) net.Listener { return tls.NewListener(ln, conf) }, true},
		{"TLS/connguard", func(ln net.Listener) net.Listener { return Listen(ln, conf, nil) }, true},
	} {
		b.Run(bb.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{
				ConnContext: ConnContext,
				ErrorLog:    log.New(io.Discard, "", 0),
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if Ambiguous(r) {
						b.Error("ambiguous")
					}
					io.WriteString(w, `{"value":[]}`)
				}),
			}
			done := make(chan struct{})
			go func() { srv.Serve(bb.wrap(ln)); close(done) }()
			defer func() { srv.Close(); <-done }()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			if bb.tls {
				c = tls.Client(c, &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
			}
			defer c.Close()
			br := bufio.NewReader(c)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.WriteString(c, benchRequest); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
