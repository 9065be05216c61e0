package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// buildBinary builds xdrproxy into a temporary folder, once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "xdrproxy")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary runs the built proxy against sim and upstream, and returns
// the process, its proxy and admin URLs, and its log.
func startBinary(t *testing.T, bin string, sim *simulator.Server, upstream *httptest.Server, extra ...string) (*exec.Cmd, string, string, *testutil.SyncBuffer) {
	t.Helper()
	caPEM, err := sim.CACertPEM()
	if err != nil {
		t.Fatal(err)
	}
	caPEM = append(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: upstream.Certificate().Raw})...)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"SSL_CERT_FILE=" + caFile,
		"XDRPROXY_LISTEN_ADDR=127.0.0.1:0",
		"XDRPROXY_ADMIN_ADDR=127.0.0.1:0",
		"XDRPROXY_AUTHORITY_HOST=" + sim.URL(),
		"XDRPROXY_INSTANCE_DISCOVERY=false",
		"XDRPROXY_UPSTREAM_URL=" + upstream.URL,
		"XDRPROXY_CLIENT_ID=" + simulator.DefaultClientID,
		"XDRPROXY_CLIENT_SECRET=" + simulator.DefaultClientSecret,
		"XDRPROXY_TENANTS=contoso=" + simulator.ContosoTenantID,
	}, extra...)
	logs := &testutil.SyncBuffer{}
	addrs := make(chan [2]string, 1)
	// A Writer, not StderrPipe: cmd.Wait then returns only once every
	// line the process wrote, its last batch at exit included, is in logs
	// (Wait closes a StderrPipe as soon as the process exits, however
	// much is left to read in it).
	cmd.Stderr = &lineWriter{line: func(line []byte) {
		logs.Write(line)
		var l struct{ Msg, Proxy, Admin string }
		if json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
			select {
			case addrs <- [2]string{l.Proxy, l.Admin}:
			default:
			}
		}
	}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	select {
	case a := <-addrs:
		return cmd, "http://" + a[0], "http://" + a[1], logs
	case <-time.After(30 * time.Second):
		t.Fatalf("the proxy did not start:\n%s", logs.String())
	}
	return nil, "", "", nil
}

// lineWriter hands each complete line written to it, newline included,
// to line.
type lineWriter struct {
	partial []byte
	line    func([]byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(w.partial[:i+1])
		w.partial = w.partial[i+1:]
	}
}

func TestSIGTERMDrainsInFlightStreams(t *testing.T) {
	bin := buildBinary(t)
	sim := testutil.StartSimulator(t, nil)
	release := make(chan struct{})
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stream" {
			io.WriteString(w, "ok")
			return
		}
		w.Write(bytes.Repeat([]byte("a"), 1000))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Write(bytes.Repeat([]byte("b"), 1000))
	}))
	defer upstream.Close()
	cmd, proxyURL, adminURL, logs := startBinary(t, bin, sim, upstream, "XDRPROXY_SHUTDOWN_TIMEOUT=20s")

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	get := func(path string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", proxyURL+path, nil)
		req.Header.Set("X-Tenant-ID", "contoso")
		return client.Do(req)
	}
	warm, err := get("/warm") // leaves an idle keep-alive connection
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, warm.Body)
	warm.Body.Close()

	stream, err := (&http.Client{Transport: &http.Transport{}}).Do(mustRequest(t, proxyURL+"/stream"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(stream.Body, make([]byte, 1000)); err != nil {
		t.Fatalf("first part of the stream: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(adminURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 503 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not turn 503 after SIGTERM")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A new request: refused (503 ShuttingDown, or the connection closed).
	if resp, err := get("/api/incidents"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Errorf("a request after SIGTERM got %d, want 503 ShuttingDown or a closed connection", resp.StatusCode)
		}
	}

	close(release)
	rest, err := io.ReadAll(stream.Body)
	stream.Body.Close()
	if err != nil || len(rest) != 1000 || rest[0] != 'b' {
		t.Fatalf("the in-flight stream was cut: %d bytes, %v", len(rest), err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the proxy did not exit after draining")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("no clean-stop line:\n%s", logs.String())
	}
	// The log is written in batches: the stream's access line, logged as
	// the drain ended, must still be written before the process exits.
	if !strings.Contains(logs.String(), `"path":"/stream","status":200`) {
		t.Errorf("no access line for the stream that finished during the drain:\n%s", logs.String())
	}
}

func TestSIGTERMExitsOneWhenDrainTimesOut(t *testing.T) {
	bin := buildBinary(t)
	sim := testutil.StartSimulator(t, nil)
	hold := make(chan struct{})
	defer close(hold)
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first"))
		w.(http.Flusher).Flush()
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	defer upstream.Close()
	cmd, proxyURL, _, logs := startBinary(t, bin, sim, upstream, "XDRPROXY_SHUTDOWN_TIMEOUT=300ms")
	stream, err := (&http.Client{Transport: &http.Transport{}}).Do(mustRequest(t, proxyURL+"/stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if _, err := io.ReadFull(stream.Body, make([]byte, 5)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v, want status 1 (requests were cut)\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "XDRPROXY_SHUTDOWN_TIMEOUT") {
		t.Errorf("the log does not say the drain timed out:\n%s", logs.String())
	}
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Tenant-ID", "contoso")
	return req
}

// TestSIGHUPKeepsServing: serve handles SIGHUP (re-read every file, retry
// failed tenants) and goes on serving; without its handler, Go's default
// for SIGHUP would end the process, and the README tells operators to
// send it.
func TestSIGHUPKeepsServing(t *testing.T) {
	bin := buildBinary(t)
	sim := testutil.StartSimulator(t, nil)
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer upstream.Close()
	cmd, _, adminURL, logs := startBinary(t, bin, sim, upstream)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !logs.WaitFor(`"msg":"SIGHUP: re-reading every file`, 1, 10*time.Second) {
		select {
		case err := <-exited:
			t.Fatalf("the proxy ended on SIGHUP: %v\n%s", err, logs.String())
		default:
			t.Fatalf("no SIGHUP line in the log:\n%s", logs.String())
		}
	}
	if code, _ := testutil.Get(t, adminURL+"/healthz"); code != 200 {
		t.Errorf("/healthz after SIGHUP: %d", code)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
}
