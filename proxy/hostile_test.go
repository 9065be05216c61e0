package proxy_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/proxy"
)

// rawExchange is testutil.RawExchange against the proxy at proxyURL,
// with the answer's JSON decoded.
func rawExchange(t *testing.T, proxyURL, raw string, deadline time.Duration) (*http.Response, map[string]any, bool) {
	t.Helper()
	u, _ := url.Parse(proxyURL)
	resp, data, closed := testutil.RawExchange(t, u.Host, raw, deadline)
	var body map[string]any
	json.Unmarshal(data, &body)
	return resp, body, closed
}

func codeOf(body map[string]any) any {
	e, _ := body["error"].(map[string]any)
	return e["code"]
}

// TestStuckBodyHoldsNothing: a client announces a body, sends one byte
// and stops. Whatever the proxy refuses it for, the answer comes at once
// and the connection is closed; nothing waits for the rest.
func TestStuckBodyHoldsNothing(t *testing.T) {
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), emulation: true,
		clientKeys: keysFile(t, map[string]string{gatewayKey: "*"})})
	for _, tc := range []struct {
		name, raw string
		status    int
	}{
		{"no key", "POST /api/advancedhunting/run HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\nContent-Length: 100\r\n\r\n{", 401},
		{"no tenant", "POST /api/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + gatewayKey + "\r\nContent-Length: 100\r\n\r\n{", 400},
		{"unknown tenant, chunked", "POST /api/x HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: acme\r\nAuthorization: Bearer " + gatewayKey + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 400},
		{"bad path", "PUT /api/%2e%2e/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + gatewayKey + "\r\nContent-Length: 100000\r\n\r\nabc", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, closed := rawExchange(t, s.proxyURL, tc.raw, 2*time.Second)
			if resp.StatusCode != tc.status || !closed || !resp.Close {
				t.Errorf("status %d (want %d), Connection: close %v, closed %v: %v", resp.StatusCode, tc.status, resp.Close, closed, body)
			}
		})
	}
	if n := len(backend.Requests()); n != 0 {
		t.Errorf("%d refused requests reached the upstream", n)
	}
}

// TestStalledTokenForm: a token form has a few seconds to arrive whole.
func TestStalledTokenForm(t *testing.T) {
	defer proxy.SetTokenFormTimeout(200 * time.Millisecond)()
	s := newStack(t, stackOptions{emulation: true})
	resp, body, closed := rawExchange(t, s.proxyURL,
		"POST /contoso/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\ngrant_type=cli", 3*time.Second)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || !closed {
		t.Errorf("stalled form: %d %v, closed %v", resp.StatusCode, body, closed)
	}
}

// TestStalledBodyIsCut: a keyed client whose forwarded body stops making
// progress is answered 408 and the upstream request cancelled.
func TestStalledBodyIsCut(t *testing.T) {
	gotCancelled := make(chan error, 1)
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		gotCancelled <- err
	})
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), bodyIdle: 200 * time.Millisecond})
	resp, body, closed := rawExchange(t, s.proxyURL,
		"POST /api/advancedhunting/run HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 3*time.Second)
	if resp.StatusCode != http.StatusRequestTimeout || codeOf(body) != "InvalidRequest" || !closed {
		t.Errorf("stalled body: %d %v, closed %v", resp.StatusCode, body, closed)
	}
	select {
	case err := <-gotCancelled:
		if err == nil {
			t.Error("the upstream received a whole body")
		}
	case <-time.After(3 * time.Second):
		t.Error("the upstream request was not cancelled")
	}
	if !s.logs.WaitFor("made no progress for 200ms (XDRPROXY_BODY_IDLE_TIMEOUT)", 1, 5*time.Second) {
		t.Errorf("the access log does not say the body was cut:\n%s", s.logs.String())
	}
}

// TestMalformedChunkedBody is the client's fault: 400, not 502.
func TestMalformedChunkedBody(t *testing.T) {
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	resp, body, _ := rawExchange(t, s.proxyURL,
		"POST /api/advancedhunting/run HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 3*time.Second)
	if resp.StatusCode != http.StatusBadRequest || codeOf(body) != "InvalidRequest" {
		t.Errorf("malformed chunked body: %d %v", resp.StatusCode, body)
	}
}

// TestWholeBodyKeepsTheConnection: a request whose body was read whole
// keeps its connection, as before.
func TestWholeBodyKeepsTheConnection(t *testing.T) {
	backend := newBackend(t, nil)
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	for _, raw := range []string{
		"POST /api/advancedhunting/run HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\nContent-Length: 5\r\n\r\nhello",
		"POST /api/advancedhunting/run HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	} {
		resp, _, _ := rawExchange(t, s.proxyURL, raw, 300*time.Millisecond)
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Errorf("status %d, Connection: close %v", resp.StatusCode, resp.Close)
		}
	}
}

// TestUpstreamSlotsPerTenant: one tenant cannot hold more than its share
// of upstream requests; other tenants are unaffected.
func TestUpstreamSlotsPerTenant(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 10)
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/slow" {
			arrived <- struct{}{}
			<-release
		}
	})
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots(), maxUpstream: 2})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.do(t, "GET", "/api/slow", tenantHeader("contoso"), nil)
		}()
	}
	<-arrived
	<-arrived
	resp, body := s.do(t, "GET", "/api/fast", tenantHeader("contoso"), nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), "2 requests in flight upstream") {
		t.Errorf("third request of a full tenant: %d %s", resp.StatusCode, body)
	}
	if resp, body := s.do(t, "GET", "/api/fast", tenantHeader("fabrikam"), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("another tenant: %d %s", resp.StatusCode, body)
	}
	close(release)
	wg.Wait()
	if resp, _ := s.do(t, "GET", "/api/fast", tenantHeader("contoso"), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after the slots were given back: %d", resp.StatusCode)
	}
}

// TestExpectContinueKeepsTheConnection: the 100 Continue relayed from
// the upstream does not close the connection (the client is about to
// send its body), nor does the answer once the body came whole.
func TestExpectContinueKeepsTheConnection(t *testing.T) {
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Expect") == "" {
			t.Error("the upstream was not asked to continue")
		}
		io.Copy(io.Discard, r.Body)
	})
	s := newStack(t, stackOptions{upstream: backend.URL(), roots: backend.Roots()})
	u, _ := url.Parse(s.proxyURL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST /api/advancedhunting/run HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: contoso\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusContinue {
		t.Fatalf("first answer: %v %v", resp, err)
	}
	// Larger than the body kept for a retry, so it streams upstream.
	io.WriteString(c, strings.Repeat("x", 100000))
	for {
		if resp, err = http.ReadResponse(br, nil); err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Connection") == "close" {
			t.Errorf("%d answer carries Connection: close", resp.StatusCode)
		}
		if resp.StatusCode >= 200 {
			break
		}
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Errorf("final answer %d, Connection: close %v", resp.StatusCode, resp.Close)
	}
}
