package testutil

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// StartRedis runs the real redis-server on a free loopback port, with no
// persistence and its files in a temporary directory, and returns its
// address once it answers PING. stop kills it and may be called more than
// once; it also runs when the test ends. A missing redis-server fails the
// test: the fleet's tests need the real thing.
func StartRedis(t testing.TB) (addr string, stop func()) {
	t.Helper()
	for range 5 {
		addr = freeLoopbackAddr(t)
		if stop, ok := startRedis(t, addr); ok {
			return addr, stop
		}
	}
	t.Fatalf("redis-server could not start on a free loopback port in 5 tries")
	return "", nil
}

// StartRedisOn runs redis-server again on addr, as StartRedis does, for
// a test that stops Redis and brings it back where the clients expect it.
func StartRedisOn(t testing.TB, addr string) (stop func()) {
	t.Helper()
	stop, ok := startRedis(t, addr)
	if !ok {
		t.Fatalf("redis-server could not start on %s", addr)
	}
	return stop
}

// freeLoopbackAddr returns a loopback address whose port was free a moment
// ago (redis-server does not take port 0).
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startRedis starts redis-server on addr and waits until it answers PING,
// or reports false when it exits first (the port was taken).
func startRedis(t testing.TB, addr string) (stop func(), ok bool) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed; install it: apt-get install -y redis-server")
	}
	host, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "redis.log")
	cmd := exec.Command(bin, "--port", port, "--bind", host, "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", logFile, "--daemonize", "no", "--protected-mode", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		// The log's line tells this server from another one that took the
		// port first; PING then says it serves.
		if log, _ := os.ReadFile(logFile); strings.Contains(string(log), "Ready to accept connections") && redisPing(addr) {
			return stop, true
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logFile)
			t.Logf("redis-server on %s exited: %s", addr, strings.TrimSpace(string(log)))
			return nil, false
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("redis-server on %s did not answer PING within 10s", addr)
		}
	}
}

// redisPing reports whether a Redis answers PING on addr.
func redisPing(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// SilentRedis listens on a loopback port, accepts connections, reads what
// they send and never answers: a Redis that hangs. It stops when the test
// ends.
func SilentRedis(t testing.TB) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	closed := false
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed { // accepted as the test ended
				mu.Unlock()
				_ = conn.Close()
				return
			}
			conns = append(conns, conn)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(io.Discard, conn) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		closed = true
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}
