// Command scale measures xdrproxy's memory with many tenants: it serves n
// simulated tenants from an in-process simulator, runs xdrproxy as a child
// process (default configuration, pprof on) and reports the proxy's
// resident set, live heap (runtime.MemStats after a forced GC, read from
// /debug/pprof/heap), CPU time so far and GC count at each stage:
//
//	start          the admin listener answers (warm-up under way)
//	warm           /readyz answers 200: every tenant was tried once
//	traffic        after one request per tenant
//	get /tenants   after one GET /tenants
//	get /          after one GET / (the status page)
//
// Run it from the repository root:
//
//	go run ./bench/scale -n 10000 [-profiles DIR]
//
// With -profiles, each stage's heap profile is saved there for
// `go tool pprof -top -sample_index=inuse_space DIR/3-tenants.pb.gz`.
// Linux only (it reads /proc). No timing is asserted; it is not a test.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/xdrproxy/xdrproxy/simulator"
)

func main() {
	n := flag.Int("n", 10000, "tenants")
	proxyBin := flag.String("proxy", "", "xdrproxy binary to run; empty builds ./cmd/xdrproxy")
	profiles := flag.String("profiles", "", "directory for each stage's heap profile; empty saves none")
	conns := flag.Int("c", 16, "concurrent requests during the traffic stage")
	flag.Parse()
	if err := run(*n, *proxyBin, *profiles, *conns); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

// bench is one run: the simulator, the proxy process and its addresses.
type bench struct {
	n        int
	sim      *simulator.Server
	proxy    *exec.Cmd
	listen   string // proxy listener host:port
	admin    string // admin listener host:port
	profiles string
	client   *http.Client
}

func run(n int, proxyBin, profiles string, conns int) error {
	work, err := os.MkdirTemp("", "xdrproxy-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if proxyBin == "" {
		proxyBin = filepath.Join(work, "xdrproxy")
		build := exec.Command("go", "build", "-o", proxyBin, "./cmd/xdrproxy")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building xdrproxy: %w", err)
		}
	}
	if profiles != "" {
		if err := os.MkdirAll(profiles, 0o755); err != nil {
			return err
		}
	}
	b := &bench{n: n, profiles: profiles, client: &http.Client{Timeout: 2 * time.Minute}}
	b.sim = &simulator.Server{Tenants: simulator.BenchTenants(n)}
	if err := b.sim.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer b.sim.Close()
	if err := b.startProxy(work, proxyBin); err != nil {
		return err
	}
	defer b.stopProxy()
	return b.stages(conns)
}

// stages drives the proxy through each stage and prints the table.
func (b *bench) stages(conns int) error {
	fmt.Printf("xdrproxy with %d tenants (GOGC=%q GOMEMLIMIT=%q)\n\n", b.n, os.Getenv("GOGC"), os.Getenv("GOMEMLIMIT"))
	fmt.Println("| stage | RSS MiB | peak RSS MiB | live heap MiB | heap in use MiB | Go Sys MiB | CPU s | GCs | note |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	if err := b.waitFor("/healthz", 30*time.Second); err != nil {
		return err
	}
	if err := b.measure(0, "start", ""); err != nil {
		return err
	}
	t0 := time.Now()
	if err := b.waitFor("/readyz", 10*time.Minute); err != nil {
		return err
	}
	if err := b.measure(1, "warm", fmt.Sprintf("ready after %.1f s", time.Since(t0).Seconds())); err != nil {
		return err
	}
	failed, err := b.traffic(conns)
	if err != nil {
		return err
	}
	if err := b.measure(2, "traffic", fmt.Sprintf("%d requests, %d not 200", b.n, failed)); err != nil {
		return err
	}
	size, err := b.get("/tenants")
	if err != nil {
		return err
	}
	if err := b.measure(3, "get /tenants", fmt.Sprintf("%d KiB body", size>>10)); err != nil {
		return err
	}
	size, err = b.get("/")
	if err != nil {
		return err
	}
	return b.measure(4, "get /", fmt.Sprintf("%d KiB body", size>>10))
}

// freePort returns a loopback address no one listens on now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startProxy writes the CA and tenants files and starts xdrproxy on them.
func (b *bench) startProxy(work, bin string) error {
	ca, err := b.sim.CACertPEM()
	if err != nil {
		return err
	}
	caFile, tenantsFile := filepath.Join(work, "ca.pem"), filepath.Join(work, "tenants")
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		return err
	}
	var ids strings.Builder
	for _, t := range simulator.BenchTenants(b.n) {
		ids.WriteString(t.ID + "\n")
	}
	if err := os.WriteFile(tenantsFile, []byte(ids.String()), 0o600); err != nil {
		return err
	}
	if b.listen, err = freePort(); err != nil {
		return err
	}
	if b.admin, err = freePort(); err != nil {
		return err
	}
	log, err := os.Create(filepath.Join(work, "xdrproxy.log"))
	if err != nil {
		return err
	}
	b.proxy = exec.Command(bin)
	b.proxy.Env = append(os.Environ(),
		"SSL_CERT_FILE="+caFile,
		"XDRPROXY_AUTHORITY_HOST="+b.sim.URL(),
		"XDRPROXY_INSTANCE_DISCOVERY=false",
		"XDRPROXY_UPSTREAM_URL="+b.sim.URL(),
		"XDRPROXY_CLIENT_ID="+simulator.DefaultClientID,
		"XDRPROXY_CLIENT_SECRET="+simulator.DefaultClientSecret,
		"XDRPROXY_TENANTS_FILE="+tenantsFile,
		"XDRPROXY_LISTEN_ADDR="+b.listen,
		"XDRPROXY_ADMIN_ADDR="+b.admin,
		"XDRPROXY_PPROF=true",
	)
	b.proxy.Stdout, b.proxy.Stderr = log, log
	return b.proxy.Start()
}

// stopProxy ends the proxy with SIGTERM and waits for it.
func (b *bench) stopProxy() {
	_ = b.proxy.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = b.proxy.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = b.proxy.Process.Kill()
		<-done
	}
}

// waitFor polls the admin path until it answers 200.
func (b *bench) waitFor(path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := b.client.Get("http://" + b.admin + path)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within %s", path, limit)
}

// get fetches an admin path and returns the body's size.
func (b *bench) get(path string) (int64, error) {
	resp, err := b.client.Get("http://" + b.admin + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return n, err
}

// traffic sends one request per tenant through the proxy, conns at a
// time, and returns how many were not answered 200.
func (b *bench) traffic(conns int) (int, error) {
	ids := make(chan string)
	var mu sync.Mutex
	failed := 0
	var firstErr error
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				code, err := b.request(id)
				mu.Lock()
				if code != http.StatusOK {
					failed++
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, t := range simulator.BenchTenants(b.n) {
		ids <- t.ID
	}
	close(ids)
	wg.Wait()
	return failed, firstErr
}

// request sends one API request for the tenant through the proxy.
func (b *bench) request(tenantID string) (int, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+b.listen+"/api/incidents?$top=1", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Tenant-ID", tenantID)
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

var errNoProc = errors.New("no /proc status for the proxy")
