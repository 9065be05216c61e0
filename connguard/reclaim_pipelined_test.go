package connguard

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A request that arrived pipelined behind another is in progress too: its
// header block was read with the first request's, so no later read marks
// the connection busy, and the first request's end (StateIdle) must not
// leave it reclaimable while the second is still being served.
func TestLimitKeepsAPipelinedRequestInProgress(t *testing.T) {
	s := startServer(t, serverOptions{max: 3, connState: ConnState})
	busy := s.dial(t)
	io.WriteString(busy, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabcdefghij")
	br := bufio.NewReader(busy)
	busy.SetReadDeadline(time.Now().Add(5 * reclaimAfter))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("first pipelined request: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	silent := []net.Conn{s.dial(t), s.dial(t)}

	late := s.dial(t)
	io.WriteString(late, "GET /late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	late.SetReadDeadline(time.Now().Add(5 * reclaimAfter))
	resp, err = http.ReadResponse(bufio.NewReader(late), nil)
	if err != nil {
		t.Fatalf("a client waiting at the cap was not let in: %v", err)
	}
	resp.Body.Close()
	for _, c := range silent {
		c.Close()
	}
	close(s.release)
	busy.SetReadDeadline(time.Now().Add(5 * reclaimAfter))
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the connection with a pipelined request in progress was reclaimed: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "POST /wait 10 http" {
		t.Errorf("busy request: %q", body)
	}
}
