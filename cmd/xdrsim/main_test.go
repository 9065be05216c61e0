package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// buildBinary builds xdrsim into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "xdrsim")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestUsage: -h and --help print xdrsim's usage under its own name on
// stdout and exit 0; wrong usage is one line on stderr and exit 2, and
// starts nothing (a simulator that started would not end by itself).
func TestUsage(t *testing.T) {
	bin := buildBinary(t)
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string // regular expressions
	}{
		{[]string{"-h"}, 0, `^Usage: xdrsim \[flags\]\n(.|\n)*-addr host:port\n(.|\n)*-bench-tenants int\n`, `^$`},
		{[]string{"--help"}, 0, `^Usage: xdrsim \[flags\]\n(.|\n)*-client-certificate file\n`, `^$`},
		{[]string{"serve", "-addr", "127.0.0.1:1"}, 2, `^$`, `^xdrsim: unexpected argument "serve" \(xdrsim takes flags only\); run 'xdrsim -h'\n$`},
		{[]string{"-addr", "127.0.0.1:1", "now"}, 2, `^$`, `^xdrsim: unexpected argument "now" \(xdrsim takes flags only\); run 'xdrsim -h'\n$`},
		{[]string{"-frob"}, 2, `^$`, `^xdrsim: flag provided but not defined: -frob; run 'xdrsim -h'\n$`},
		{[]string{"-bench-tenants", "many"}, 2, `^$`, `^xdrsim: invalid value "many" for flag -bench-tenants: parse error; run 'xdrsim -h'\n$`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tt.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			if code := cmd.ProcessState.ExitCode(); code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			if !regexp.MustCompile(tt.stdout).MatchString(stdout.String()) {
				t.Errorf("stdout %q does not match %q", stdout.String(), tt.stdout)
			}
			if !regexp.MustCompile(tt.stderr).MatchString(stderr.String()) {
				t.Errorf("stderr %q does not match %q", stderr.String(), tt.stderr)
			}
			if strings.Contains(stdout.String(), "go-build") {
				t.Errorf("the usage names the build's temporary path:\n%s", stdout.String())
			}
		})
	}
}

// TestListenOnAllInterfaces: with -addr 0.0.0.0:0 xdrsim prints a URL one
// can paste, that its certificate names and that answers, and says it
// listens on all interfaces; SIGTERM stops it with exit status 0.
func TestListenOnAllInterfaces(t *testing.T) {
	bin := buildBinary(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cmd := exec.Command(bin, "-addr", "0.0.0.0:0", "-ca-file", caFile)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	first, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^xdrsim: simulated Entra ID and Defender XDR API at (https://127\.0\.0\.1:\d+) \(listening on all interfaces\)\n$`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first line %q: want https://127.0.0.1:PORT and that it listens on all interfaces", first)
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(m[1] + "/" + simulator.ContosoTenantID + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("the printed URL does not work: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("discovery at the printed URL: %d", resp.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}
}

func TestDisplayURL(t *testing.T) {
	for _, tt := range []struct {
		listen, want string
		all          bool
	}{
		{"https://0.0.0.0:8443", "https://127.0.0.1:8443", true},
		{"https://[::]:8443", "https://127.0.0.1:8443", true},
		{"https://127.0.0.1:8443", "https://127.0.0.1:8443", false},
		{"https://[::1]:8443", "https://[::1]:8443", false},
		{"https://192.0.2.7:8443", "https://192.0.2.7:8443", false},
	} {
		got, all := displayURL(tt.listen)
		if got != tt.want || all != tt.all {
			t.Errorf("displayURL(%s) = %s, %v; want %s, %v", tt.listen, got, all, tt.want, tt.all)
		}
	}
}
