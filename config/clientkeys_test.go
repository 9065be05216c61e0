package config

import (
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

func TestParseClientKeys(t *testing.T) {
	file := strings.Join([]string{
		"# SOC tool A: two customers",
		testutil.KeyHash("key-a") + " contoso," + tenantB + "   # trailing comment",
		"",
		strings.ToUpper(testutil.KeyHash("key-b")) + " *",
	}, "\n")
	ks, err := ParseClientKeys("keys", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if ks.Len() != 2 {
		t.Fatalf("Len = %d", ks.Len())
	}
	contoso := Tenant{ID: tenantA, Alias: "contoso"}
	b := Tenant{ID: tenantB}
	c := Tenant{ID: tenantC, Alias: "fabrikam"}
	a, ok := ks.Match("key-a")
	if !ok || !a.Allows(contoso) || !a.Allows(b) || a.Allows(c) {
		t.Errorf("key-a: ok=%v allows contoso=%v b=%v fabrikam=%v", ok, a.Allows(contoso), a.Allows(b), a.Allows(c))
	}
	if a.Fingerprint() != testutil.KeyHash("key-a")[:8] {
		t.Errorf("fingerprint %s", a.Fingerprint())
	}
	star, ok := ks.Match("key-b")
	if !ok || !star.Allows(c) {
		t.Error("the * key does not allow every tenant")
	}
	for _, bad := range []string{"", "key-c", "KEY-A", "key-a ", testutil.KeyHash("key-a")} {
		if _, ok := ks.Match(bad); ok {
			t.Errorf("Match(%q) accepted", bad)
		}
	}

	for _, tt := range []struct{ name, file, want string }{
		{"a key instead of its hash", "supersecretkey contoso", "not a SHA-256"},
		{"short hash", "abcd contoso", "not a SHA-256"},
		{"no tenants", testutil.KeyHash("k"), "want"},
		{"bad tenant", testutil.KeyHash("k") + " not_a_tenant!", "not a tenant"},
		{"duplicate key", testutil.KeyHash("k") + " *\n" + testutil.KeyHash("k") + " contoso", "same key"},
		{"three fields", testutil.KeyHash("k") + " contoso fabrikam", "want"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseClientKeys("keys", []byte(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "supersecretkey") {
				t.Error("the error echoes what may be a key")
			}
		})
	}
}

func TestClientKeysFileInLoad(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "keys", testutil.KeyHash("k")+" *\n")
	empty := writeFile(t, dir, "empty", "# none yet\n")
	env := minimalEnv()
	env["XDRPROXY_LISTEN_ADDR"] = "0.0.0.0:8080"
	env["XDRPROXY_CLIENT_KEYS_FILE"] = good
	setEnv(t, env)
	cfg, err := Load()
	if err != nil {
		t.Fatalf("a non-loopback listener with client keys: %v", err)
	}
	if cfg.ClientKeys.Len() != 1 || cfg.ClientKeysFile != good {
		t.Errorf("keys %d file %q", cfg.ClientKeys.Len(), cfg.ClientKeysFile)
	}
	env["XDRPROXY_CLIENT_KEYS_FILE"] = empty
	setEnv(t, env)
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "XDRPROXY_CLIENT_KEYS_FILE") {
		t.Errorf("an empty keys file: %v", err)
	}
}

// FuzzParseClientKeys checks that any keys file either parses into keys
// that match only their own key, or is refused without echoing a line.
func FuzzParseClientKeys(f *testing.F) {
	f.Add(testutil.KeyHash("k") + " *\n")
	f.Add(testutil.KeyHash("k") + " contoso,11111111-1111-4111-8111-111111111111 # c\n")
	f.Add("# only a comment\n\n")
	f.Add("zz contoso")
	f.Fuzz(func(t *testing.T, file string) {
		ks, err := ParseClientKeys("keys", []byte(file))
		if err != nil {
			return
		}
		if _, ok := ks.Match(file); ok && !strings.Contains(file, testutil.KeyHash(file)) {
			t.Fatalf("the file's own text matched a key")
		}
		for _, k := range ks.keys {
			if !k.AllTenants && len(k.Tenants) == 0 {
				t.Fatal("a key that allows no tenant was kept")
			}
		}
	})
}
