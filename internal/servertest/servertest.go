// Package servertest runs a whole proxy process (server.Run) in a test of
// another package, as httptest runs a handler.
package servertest

import (
	"context"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/logging"
	"github.com/xdrproxy/xdrproxy/server"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// Start runs server.Run with cfg and opts until the test ends, then waits
// for it to return; it returns the listeners' addresses once they listen.
// The process's log is shown if it fails to start or to stop cleanly.
// opts.OnListening is Start's own.
func Start(t testing.TB, cfg *config.Config, opts server.Options) server.Addrs {
	t.Helper()
	listening := make(chan server.Addrs, 1)
	opts.OnListening = func(a server.Addrs) { listening <- a }
	ctx, cancel := context.WithCancel(context.Background())
	var logs testutil.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, logging.New(&logs, cfg.LogLevel, cfg.LogFormat), opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server.Run stopped with %v\n%s", err, logs.String())
		}
	})
	select {
	case a := <-listening:
		return a
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("server.Run stopped before it listened: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("server.Run not listening after 30s\n%s", logs.String())
	}
	return server.Addrs{}
}

// StartFromEnv configures the process as an operator would, from the
// environment: sim as Entra ID and the upstream (testutil.SimulatorEnv)
// with env on top, read by config.Load; then it Starts it, trusting sim's
// CA.
func StartFromEnv(t *testing.T, sim *simulator.Server, env map[string]string) server.Addrs {
	t.Helper()
	testutil.SimulatorEnv(t, sim, env)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	roots, err := sim.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	return Start(t, cfg, server.Options{Roots: roots})
}
