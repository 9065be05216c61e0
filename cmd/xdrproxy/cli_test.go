package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// runBinary runs the built xdrproxy with args and only the environment
// env (and PATH), and returns its exit status, stdout and stderr. A
// process still running after 30 s is killed and fails the test: every
// caller expects it to end by itself.
func runBinary(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("xdrproxy %q did not end by itself (it started something):\n%s", args, stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// servingEnv is a configuration `serve` starts with, listening on addr.
func servingEnv(addr string) []string {
	return []string{
		"XDRPROXY_LISTEN_ADDR=" + addr,
		"XDRPROXY_ADMIN_ADDR=127.0.0.1:0",
		"XDRPROXY_AUTHORITY_HOST=https://127.0.0.1:1",
		"XDRPROXY_INSTANCE_DISCOVERY=false",
		"XDRPROXY_CLIENT_ID=" + simulator.DefaultClientID,
		"XDRPROXY_CLIENT_SECRET=" + simulator.DefaultClientSecret,
		"XDRPROXY_TENANTS=contoso=" + simulator.ContosoTenantID,
	}
}

// TestBinaryHelp: each way of asking the built binary for help prints, on
// stdout, the command's flags and the variables it reads, exits 0 and
// starts nothing. The configuration would start the proxy on a port the
// test holds, so a command that tried to listen would fail, and one that
// served would never end.
func TestBinaryHelp(t *testing.T) {
	bin := buildBinary(t)
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	env := servingEnv(held.Addr().String())
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"Usage:", "xdrproxy check [--tenant T] [--json]", "xdrproxy help [command]"}},
		{[]string{"--help"}, []string{"Usage:", "xdrproxy consent-url"}},
		{[]string{"help"}, []string{"Usage:", "xdrproxy demo"}},
		{[]string{"serve", "--help"}, []string{"Usage: xdrproxy [serve]", "XDRPROXY_CLIENT_KEYS_FILE", "XDRPROXY_TLS_CLIENT_CA_FILE", "XDRPROXY_LISTEN_ADDR (default 127.0.0.1:8080)"}},
		{[]string{"serve", "-h"}, []string{"XDRPROXY_CLIENT_CERTIFICATE_SEND_X5C", "XDRPROXY_REDIS_URL"}},
		{[]string{"help", "serve"}, []string{"XDRPROXY_TENANTS_FILE"}},
		{[]string{"demo", "--help"}, []string{"--tls-addr ADDR", "XDRPROXY_TENANT_LISTENERS", "XDRPROXY_PUBLIC_URL"}},
		{[]string{"demo", "-h"}, []string{"--tls-addr ADDR"}},
		{[]string{"check", "--help"}, []string{"--tenant T", "--json", "XDRPROXY_REQUIRED_ROLES"}},
		{[]string{"check", "-h"}, []string{"--tenant T"}},
		{[]string{"consent-url", "--help"}, []string{"--tenant T", "--redirect-uri URI", "XDRPROXY_CLIENT_ID", "XDRPROXY_CLOUD", "XDRPROXY_TENANTS_FILE"}},
		{[]string{"consent-url", "-h"}, []string{"--redirect-uri URI"}},
		{[]string{"version", "--help"}, []string{"Usage: xdrproxy version", "reads no environment variables"}},
		{[]string{"help", "version"}, []string{"Usage: xdrproxy version"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, bin, env, tt.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
		})
	}
}

// TestBinaryWrongUsage: a command line the binary cannot take exits 2
// with one line on stderr that points at the help, and nothing on stdout.
func TestBinaryWrongUsage(t *testing.T) {
	bin := buildBinary(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frob"}, `xdrproxy: unknown command "frob"; run 'xdrproxy help'`},
		{[]string{"help", "frob"}, `xdrproxy: unknown command "frob"; run 'xdrproxy help'`},
		{[]string{"serve", "now"}, `xdrproxy: serve takes no arguments, got ["now"]; run 'xdrproxy help serve'`},
		{[]string{"demo", "--frob"}, `xdrproxy: demo: flag provided but not defined: -frob; run 'xdrproxy help demo'`},
		{[]string{"check", "--tenant"}, `xdrproxy: check: flag needs an argument: -tenant; run 'xdrproxy help check'`},
		{[]string{"consent-url", "x"}, `xdrproxy: consent-url takes no arguments, got ["x"]; run 'xdrproxy help consent-url'`},
		{[]string{"version", "x"}, `xdrproxy: version takes no arguments, got ["x"]; run 'xdrproxy help version'`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, bin, servingEnv("127.0.0.1:0"), tt.args...)
			if code != 2 || stdout != "" || stderr != tt.want+"\n" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing and %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestBinaryRefusesUnknownVariables: every command that reads the
// environment refuses a misspelt variable, naming it and the variable
// meant, and never shows its value.
func TestBinaryRefusesUnknownVariables(t *testing.T) {
	bin := buildBinary(t)
	const value = "value-never-shown"
	env := append(servingEnv("127.0.0.1:0"), "XDRPROXY_CLIENT_KEY_FILE="+value)
	for _, args := range [][]string{{}, {"serve"}, {"check"}, {"consent-url"}, {"demo"}} {
		t.Run(strings.Join(append([]string{"xdrproxy"}, args...), " "), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, bin, env, args...)
			if code == 0 {
				t.Fatalf("exit 0; stdout:\n%s", stdout)
			}
			for _, name := range []string{"XDRPROXY_CLIENT_KEY_FILE", "XDRPROXY_CLIENT_KEYS_FILE"} {
				if !strings.Contains(stderr, name) {
					t.Errorf("stderr does not name %s:\n%s", name, stderr)
				}
			}
			if strings.Contains(stderr, value) || strings.Contains(stdout, value) {
				t.Errorf("the variable's value was printed:\n%s%s", stdout, stderr)
			}
			if strings.Contains(stderr, `"listening"`) {
				t.Errorf("it started listening:\n%s", stderr)
			}
		})
	}
}
