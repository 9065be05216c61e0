package connguard

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// With Limit(ln, 50) and 50 connections open, each with a request in
// progress (so none may be reclaimed), a 51st is not served until one of
// them closes; then it is.
func TestLimitHoldsTheCap(t *testing.T) {
	const max = 50
	accepted := make(chan struct{}, 2*max)
	s := startServer(t, serverOptions{max: max, connState: func(c net.Conn, st http.ConnState) {
		ConnState(c, st)
		if st == http.StateNew {
			accepted <- struct{}{}
		}
	}})
	defer close(s.release)
	idle := make([]net.Conn, max)
	for i := range idle {
		idle[i] = s.dial(t)
		io.WriteString(idle[i], "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
		<-accepted
	}

	late := s.dial(t)
	io.WriteString(late, "GET /late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	// A bounded look for what must not happen: an answer while the cap
	// is reached.
	late.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var nerr net.Error
	if n, err := late.Read(make([]byte, 1)); n > 0 || !errors.As(err, &nerr) || !nerr.Timeout() {
		t.Fatalf("the 51st connection got %d bytes, %v, while 50 were open", n, err)
	}
	if len(accepted) > 0 {
		t.Fatal("the server accepted a 51st connection")
	}

	idle[0].Close()
	<-accepted
	late.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(late), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the 51st connection, once one closed: %d", resp.StatusCode)
	}
}

// A connection closed twice frees one place only.
func TestLimitClosingTwiceFreesOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Limit(ln, 2).(*limitListener)
	defer l.Close()
	accept := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		s, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := accept()
	second := accept()
	first.Close()
	first.Close()
	if n := len(l.slots); n != 1 {
		t.Fatalf("%d places taken after one of two connections was closed twice, want 1", n)
	}
	accept()
	if n := len(l.slots); n != 2 {
		t.Fatalf("%d places taken, want 2", n)
	}
	second.Close()
}

// Closing the listener ends an Accept that waits for a place.
func TestLimitCloseEndsAWaitingAccept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Limit(ln, 1)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	held, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	waiting := make(chan error)
	go func() {
		_, err := l.Accept()
		waiting <- err
	}()
	l.Close()
	if err := <-waiting; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// A cap of 0 is no cap.
func TestLimitZeroIsNoCap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if Limit(ln, 0) != ln {
		t.Error("Limit(ln, 0) wraps ln")
	}
}

// At the cap, connections whose client owes bytes and sent none for
// reclaimAfter (silent since they connected, or stalled in an announced
// body, such as a token form) are reclaimed to let a waiting client in;
// a connection whose request is with the server is left alone.
func TestLimitReclaimsSilentConnectionsAtTheCap(t *testing.T) {
	// The listener's clock is the test's, so "silent for reclaimAfter" is
	// decided by Advance, not by how fast this machine happens to be:
	// both silent connections become reclaimable at the same instant.
	clock := testutil.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	states := make(chan http.ConnState, 64)
	s := startServer(t, serverOptions{max: 4, now: clock.Now, connState: func(c net.Conn, st http.ConnState) {
		ConnState(c, st)
		select {
		case states <- st:
		default: // the test has stopped looking
		}
	}})
	// waitFor waits for n connections to reach state st.
	waitFor := func(st http.ConnState, n int) {
		t.Helper()
		for n > 0 {
			select {
			case got := <-states:
				if got == st {
					n--
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("connections never reached %v", st)
			}
		}
	}
	busy := s.dial(t)
	io.WriteString(busy, "POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabcdefghij")
	waitFor(http.StateActive, 1)
	// A request with the server that has not read its body yet (the
	// proxy waits for its turn first): its client has paid, the body is
	// in the socket, so it is not owing bytes, whatever the framing
	// watcher has not seen yet.
	queued := s.dial(t)
	io.WriteString(queued, "POST /queue HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n")
	waitFor(http.StateActive, 1)
	<-s.queued // headers read, body not sent yet
	io.WriteString(queued, strings.Repeat("q", 200))
	stalled := s.dial(t)
	io.WriteString(stalled, "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\ng")
	waitFor(http.StateActive, 1)
	silent := s.dial(t)
	// All four are in (the fourth accepted once its state is new); now
	// nothing happens on any of them for longer than reclaimAfter.
	waitFor(http.StateNew, 1)
	clock.Advance(2 * reclaimAfter)

	late := s.dial(t)
	io.WriteString(late, "GET /late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	late.SetReadDeadline(time.Now().Add(5 * reclaimAfter))
	resp, err := http.ReadResponse(bufio.NewReader(late), nil)
	if err != nil {
		t.Fatalf("a client waiting at the cap was not let in: %v", err)
	}
	resp.Body.Close()
	for i, c := range []net.Conn{stalled, silent} {
		c.SetReadDeadline(time.Now().Add(5 * reclaimAfter))
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("connection %d: %v, want it closed", i, err)
		}
	}
	// The busy and queued ones are answered on their connections once the
	// server is done.
	close(s.release)
	queued.SetReadDeadline(time.Now().Add(5 * reclaimAfter))
	if resp, err := http.ReadResponse(bufio.NewReader(queued), nil); err != nil {
		t.Errorf("the connection of a queued request was reclaimed: %v", err)
	} else if body, _ := io.ReadAll(resp.Body); string(body) != "POST /queue 200 http" {
		t.Errorf("queued request: %q", body)
	}
	busy.SetReadDeadline(time.Now().Add(5 * reclaimAfter))
	resp, err = http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatalf("the connection with a request in progress was reclaimed: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "POST /wait 10 http" {
		t.Errorf("busy request: %q", body)
	}
}
