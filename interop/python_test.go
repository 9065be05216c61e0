package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// python is Debian's interpreter, where python3-msal and friends install;
// the python3 first on PATH may be another one without them.
const python = "/usr/bin/python3"

// pythonPackages are the Debian packages the Python clients need.
const pythonPackages = "python3 python3-requests python3-msal python3-adal python3-azure"

// clientSecret is what the clients send as their secret, a client key:
// the demo has no client keys, so token emulation takes any; serve's
// client keys file holds this one.
const clientSecret = "interop-any-client-key"

// requirePython fails the test, saying how to install it, unless Debian's
// Python can import module.
func requirePython(t *testing.T, module, debianPackage string) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s is missing: apt-get install -y %s", python, pythonPackages)
	}
	out, err := exec.Command(python, "-c", "import "+module).CombinedOutput()
	if err != nil {
		t.Fatalf("Python module %s is missing (%s): apt-get install -y %s", module, lastLine(out), debianPackage)
	}
}

// pythonClient runs clients/script against the stack for tenant and
// returns the pages it got from each API.
func pythonClient(script, module, debianPackage string) func(*testing.T, stack, string) map[string][]page {
	return func(t *testing.T, s stack, tenant string) map[string][]page {
		requirePython(t, module, debianPackage)
		args := []string{filepath.Join("clients", script),
			"--authority-host", s.origin, "--tenant", tenant, "--client-id", simulator.DefaultClientID}
		for _, a := range apis {
			args = append(args, "--api", a.name, a.scope, s.origin+a.path)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, python, args...)
		cmd.Env = []string{
			"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HOME=" + t.TempDir(),
			"PYTHONDONTWRITEBYTECODE=1", // no __pycache__ in the source tree
			"REQUESTS_CA_BUNDLE=" + s.caFile,
			"XDRPROXY_INTEROP_CLIENT_SECRET=" + clientSecret,
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		runErr := cmd.Run()
		checkNoToken(t, script, stdout.Bytes(), stderr.Bytes())
		var out struct {
			Library string `json:"library"`
			Error   string `json:"error"`
			APIs    map[string]struct {
				Pages []page `json:"pages"`
			} `json:"apis"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || runErr != nil || out.Error != "" {
			t.Fatalf("%s (%s): %v %s\nstdout: %.2000s\nstderr: %.2000s", script, out.Library, runErr, out.Error, stdout.Bytes(), stderr.Bytes())
		}
		t.Logf("library: %s", out.Library)
		got := map[string][]page{}
		for name, a := range out.APIs {
			got[name] = a.Pages
		}
		return got
	}
}

// checkNoToken fails the test if a client printed something that looks
// like a JWT (the access token, or the placeholder the proxy issued).
func checkNoToken(t *testing.T, script string, outputs ...[]byte) {
	t.Helper()
	for _, o := range outputs {
		if bytes.Contains(o, []byte("eyJ")) {
			t.Errorf("%s printed what looks like a token", script)
		}
	}
}

// lastLine is the last non-empty line of out, for an error message.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}
