package server

import (
	"bytes"
	"context"
	"flag"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// screenshot rewrites the README's picture of the status page:
// go test ./server -run TestStatusPageInABrowser -screenshot
var screenshot = flag.Bool("screenshot", false, "rewrite docs/status-page.png from TestStatusPageInABrowser")

// TestStatusPageInABrowser opens the admin listener's status page in a
// real headless browser, against a proxy serving the simulator's tenants,
// one of which (northwind) has not consented, and reads the DOM the
// browser built.
func TestStatusPageInABrowser(t *testing.T) {
	browser := findChromium(t)
	sim := testutil.StartSimulator(t, nil)
	cfg := serveConfig(t, sim, map[string]string{
		"XDRPROXY_REQUIRED_ROLES": "Incident.Read.All",
		"XDRPROXY_ROUTES":         "/graph/=" + sim.URL() + "|https://graph.microsoft.com/.default",
	})
	roots, _ := sim.CertPool()
	addrs, _ := startServeOptions(t, cfg, Options{Roots: roots, Version: "xdrproxy 1.4.0 (go1.26 linux/amd64)"})
	adminURL := "http://" + addrs.Admin.String()
	for i := 0; i < 200; i++ {
		if _, body := testutil.Get(t, adminURL+"/readyz"); !strings.Contains(body, "warming up") {
			break
		}
		waitABit()
	}

	start := time.Now()
	dom := runChromium(t, browser, "--dump-dom", adminURL+"/")
	t.Logf("chromium --dump-dom took %v", time.Since(start).Round(time.Millisecond))
	consent := tokencache.AdminConsentURL(testutil.ParseURL(t, sim.URL()), simulator.DefaultClientID, simulator.UnconsentedTenantID)
	for _, want := range []string{
		`<b class="good">ready</b>`,
		`<small class="version">xdrproxy 1.4.0 (go1.26 linux/amd64)</small>`,
		`<span id="tenant-count">3</span> tenants`, `<span id="ready-count">2</span> ready`, `<span id="failing-count">1</span> failing`,
		`<tbody class="tenant" id="tenant-` + simulator.ContosoTenantID + `">`,
		`<tbody class="tenant" id="tenant-` + simulator.FabrikamTenantID + `">`,
		`<tbody class="tenant" id="tenant-` + simulator.UnconsentedTenantID + `">`,
		`<b class="alias">northwind</b>`,
		`<b class="aadsts">AADSTS700016</b>`,
		`<li><code>Incident.Read.All</code></li>`, // northwind's missing role
		`<a class="consent" href="` + html.EscapeString(consent) + `" rel="noreferrer">admin-consent link</a>`,
		`<code class="retry">curl -X POST ` + adminURL + `/tenants/northwind/retry</code>`,
		`<code class="retry">curl -X POST ` + adminURL + `/tenants/contoso/retry</code>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the browser's DOM lacks %s", want)
		}
	}
	if n := strings.Count(dom, `<tbody class="tenant"`); n != 3 {
		t.Errorf("%d tenants in the browser, want 3", n)
	}
	if n := strings.Count(dom, `class="consent"`); n != 1 {
		t.Errorf("%d consent links, want 1 (northwind's)", n)
	}
	if strings.Contains(dom, simulator.DefaultClientSecret) || strings.Contains(dom, "eyJ") {
		t.Error("the page shows the secret or a token")
	}

	if *screenshot {
		png := filepath.Join("..", "docs", "status-page.png")
		runChromium(t, browser, "--screenshot="+png, "--window-size=1280,800", "--hide-scrollbars", adminURL+"/")
		if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s: not a PNG (%v)", png, err)
		}
	}
}

// findChromium returns Debian's chromium, failing the test when it is
// not installed: the status page is tested in a real browser or not at
// all.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatal("chromium is not installed; the status page is tested in it: apt-get install -y chromium")
	return ""
}

// runChromium runs the headless browser with args after its fixed flags,
// in a profile and home of its own that go with the test, and returns
// what it printed. Its whole process group is killed if it outlives 30 s.
func runChromium(t *testing.T, browser string, args ...string) string {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + filepath.Join(home, "profile"),
	}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
