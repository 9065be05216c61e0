package testutil

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// RawExchange writes raw, a request as bytes, to the server at addr
// (host:port), reads the answer, and reports whether the server then
// closed the connection. Nothing waits longer than deadline: a server
// that holds the connection fails the test.
func RawExchange(t *testing.T, addr, raw string, deadline time.Duration) (resp *http.Response, body []byte, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(deadline))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer within %s: %v", deadline, err)
	}
	body, _ = io.ReadAll(resp.Body)
	_, err = br.ReadByte()
	return resp, body, err == io.EOF
}
