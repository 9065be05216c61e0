package config

import (
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

func TestParseAdminKeys(t *testing.T) {
	file := strings.Join([]string{
		"# the on-call team",
		testutil.KeyHash("admin-a") + "   # trailing comment",
		"",
		strings.ToUpper(testutil.KeyHash("admin-b")),
	}, "\n")
	ks, err := ParseAdminKeys("admin-keys", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if ks.Len() != 2 {
		t.Fatalf("Len = %d, want 2", ks.Len())
	}
	for _, good := range []string{"admin-a", "admin-b"} {
		if !ks.Match(good) {
			t.Errorf("Match(%q) refused", good)
		}
	}
	for _, bad := range []string{"", "admin-c", "ADMIN-A", "admin-a ", testutil.KeyHash("admin-a")} {
		if ks.Match(bad) {
			t.Errorf("Match(%q) accepted", bad)
		}
	}
	var none *AdminKeys
	if none.Match("admin-a") || none.Len() != 0 {
		t.Error("nil AdminKeys matched a key")
	}

	for _, tt := range []struct{ name, file, want string }{
		{"a key instead of its hash", "supersecretkey", "not a SHA-256"},
		{"short hash", "abcd", "not a SHA-256"},
		{"a client keys line", testutil.KeyHash("k") + " *", "want one SHA-256"},
		{"sha256sum's output as printed", testutil.KeyHash("k") + "  -", "want one SHA-256"},
		{"duplicate key", testutil.KeyHash("k") + "\n" + testutil.KeyHash("k"), "line 2: the same key is listed on line 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAdminKeys("admin-keys", []byte(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "admin-keys: ") {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "supersecretkey") {
				t.Error("the error echoes what may be a key")
			}
		})
	}
}

// TestClientKeyIsNotAdminKey: the two files are separate sets, even when
// both are loaded.
func TestClientKeyIsNotAdminKey(t *testing.T) {
	dir := t.TempDir()
	env := minimalEnv()
	env["XDRPROXY_CLIENT_KEYS_FILE"] = writeFile(t, dir, "client-keys", testutil.KeyHash("client-key")+" *\n")
	env["XDRPROXY_ADMIN_KEYS_FILE"] = writeFile(t, dir, "admin-keys", testutil.KeyHash("admin-key")+"\n")
	setEnv(t, env)
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminKeys.Match("client-key") {
		t.Error("a client key is accepted as an admin key")
	}
	if _, ok := cfg.ClientKeys.Match("admin-key"); ok {
		t.Error("an admin key is accepted as a client key")
	}
	if !cfg.AdminKeys.Match("admin-key") {
		t.Error("the admin key is refused")
	}
}

func TestAdminKeysInLoad(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "admin-keys", testutil.KeyHash("k")+"\n")
	empty := writeFile(t, dir, "empty", "# none yet\n")
	malformed := writeFile(t, dir, "malformed", "pasted-admin-key\n")
	tests := []struct {
		name    string
		set     map[string]string
		want    string // in the error; empty for success
		missing bool   // AdminKeysMissing
	}{
		{name: "default: loopback, no keys", missing: false},
		{name: "keys on loopback", set: map[string]string{"XDRPROXY_ADMIN_KEYS_FILE": good}},
		{name: "not loopback, no keys: a warning, not an error", set: map[string]string{"XDRPROXY_ADMIN_ADDR": "0.0.0.0:9090"}, missing: true},
		{name: "wildcard without a host", set: map[string]string{"XDRPROXY_ADMIN_ADDR": ":9090"}, missing: true},
		{name: "not loopback, keys", set: map[string]string{"XDRPROXY_ADMIN_ADDR": "0.0.0.0:9090", "XDRPROXY_ADMIN_KEYS_FILE": good}},
		{name: "pprof on loopback without keys", set: map[string]string{"XDRPROXY_PPROF": "true"}},
		{name: "pprof not on loopback with keys", set: map[string]string{"XDRPROXY_PPROF": "true", "XDRPROXY_ADMIN_ADDR": "0.0.0.0:9090", "XDRPROXY_ADMIN_KEYS_FILE": good}},
		{
			name: "pprof not on loopback without keys",
			set:  map[string]string{"XDRPROXY_PPROF": "true", "XDRPROXY_ADMIN_ADDR": "0.0.0.0:9090"},
			want: `XDRPROXY_PPROF: is true, but the admin listener "0.0.0.0:9090" is reachable from other machines and no admin keys are configured: set XDRPROXY_ADMIN_KEYS_FILE`,
		},
		{name: "pprof with a bad admin address is reported once", set: map[string]string{"XDRPROXY_PPROF": "true", "XDRPROXY_ADMIN_ADDR": "nowhere"}, want: "XDRPROXY_ADMIN_ADDR"},
		{name: "no key listed", set: map[string]string{"XDRPROXY_ADMIN_KEYS_FILE": empty}, want: "XDRPROXY_ADMIN_KEYS_FILE: " + empty + " lists no key"},
		{name: "malformed", set: map[string]string{"XDRPROXY_ADMIN_KEYS_FILE": malformed}, want: "XDRPROXY_ADMIN_KEYS_FILE: " + malformed + ": line 1: the first field is not a SHA-256"},
		{name: "missing", set: map[string]string{"XDRPROXY_ADMIN_KEYS_FILE": dir + "/nowhere"}, want: "XDRPROXY_ADMIN_KEYS_FILE: open " + dir + "/nowhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, caseEnv(tt.set, nil))
			cfg, err := Load()
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				if n := strings.Count(err.Error(), "\n"); n != 1 {
					t.Errorf("%d problems, want 1:\n%v", n, err)
				}
				if strings.Contains(err.Error(), "pasted-admin-key") {
					t.Error("the error echoes what may be a key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.AdminKeysMissing(); got != tt.missing {
				t.Errorf("AdminKeysMissing() = %v, want %v", got, tt.missing)
			}
			if file := tt.set["XDRPROXY_ADMIN_KEYS_FILE"]; cfg.AdminKeysFile != file || (file != "" && (!cfg.AdminKeys.Match("k") || string(cfg.AdminKeysFileContent) != testutil.KeyHash("k")+"\n")) {
				t.Errorf("AdminKeysFile %q, keys %d, content %q", cfg.AdminKeysFile, cfg.AdminKeys.Len(), cfg.AdminKeysFileContent)
			}
		})
	}
}
