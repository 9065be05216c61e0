package config

import (
	"strings"
	"testing"
)

// redisPassword is a password that must never appear in an error.
const redisPassword = "hunter2-redis-password-xyz"

// keyLine is one valid token key (32 bytes, base64).
const keyLine = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"

func TestFleetLoads(t *testing.T) {
	dir := t.TempDir()
	keys := writeFile(t, dir, "keys", keyLine)
	pwFile := writeFile(t, dir, "pw", redisPassword+"\n")
	setEnv(t, caseEnv(map[string]string{
		"XDRPROXY_REDIS_URL":                 "rediss://proxy:" + redisPassword + "@redis.example:6380/2",
		"XDRPROXY_REDIS_PASSWORD_FILE":       pwFile,
		"XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys,
	}, nil))
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	f := c.Fleet
	if !f.Enabled() || f.URL.Host != "redis.example:6380" || f.KeyPrefix != "xdrproxy:" || f.PasswordFile != pwFile || f.TokenKeys == nil || f.TokenKeysFile != keys {
		t.Errorf("Fleet = %+v", f)
	}
	secrets := strings.Join(c.Secrets(), "\n")
	if strings.Count(secrets, redisPassword) != 2 {
		t.Error("Secrets() does not list the URL's and the file's Redis password for the logger to redact")
	}
}

func TestFleetOffByDefault(t *testing.T) {
	setEnv(t, minimalEnv())
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Fleet.Enabled() || c.Fleet.TokenKeys != nil {
		t.Errorf("Fleet without XDRPROXY_REDIS_URL: %+v", c.Fleet)
	}
}

func TestFleetErrors(t *testing.T) {
	dir := t.TempDir()
	keys := writeFile(t, dir, "keys", keyLine)
	badKeys := writeFile(t, dir, "bad-keys", "c2hvcnQ=\n")
	emptyPW := writeFile(t, dir, "empty-pw", "\n")
	url := "redis://:" + redisPassword + "@127.0.0.1:6379"
	tests := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"no key file", map[string]string{"XDRPROXY_REDIS_URL": url},
			[]string{"XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE", "required", "openssl rand -base64 32"}},
		{"key file without Redis", map[string]string{"XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE", "XDRPROXY_REDIS_URL is not"}},
		{"password file without Redis", map[string]string{"XDRPROXY_REDIS_PASSWORD_FILE": emptyPW},
			[]string{"XDRPROXY_REDIS_PASSWORD_FILE", "XDRPROXY_REDIS_URL is not"}},
		{"short key", map[string]string{"XDRPROXY_REDIS_URL": url, "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": badKeys},
			[]string{"XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE", "line 1"}},
		{"missing key file", map[string]string{"XDRPROXY_REDIS_URL": url, "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": dir + "/none"},
			[]string{"XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE", "no such file"}},
		{"http scheme", map[string]string{"XDRPROXY_REDIS_URL": "http://:" + redisPassword + "@h:6379", "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_URL", "redis:// or rediss://"}},
		{"no host", map[string]string{"XDRPROXY_REDIS_URL": "redis://:" + redisPassword + "@:6379", "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_URL", "no host"}},
		{"bad port", map[string]string{"XDRPROXY_REDIS_URL": "redis://h:99999", "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_URL", "99999"}},
		{"bad port after a password", map[string]string{"XDRPROXY_REDIS_URL": "redis://:" + redisPassword + "@h:99999", "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_URL", "port (not shown"}},
		{"a password with an unencoded @ and / spilling into the path", map[string]string{"XDRPROXY_REDIS_URL": "redis://:s3cr@t/Xy9Q@redis:6379", "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_URL", "path (not shown", "%40"}},
		{"bad db", map[string]string{"XDRPROXY_REDIS_URL": "redis://:" + redisPassword + "@h:6379/x", "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_URL", "database number"}},
		{"query", map[string]string{"XDRPROXY_REDIS_URL": "redis://:" + redisPassword + "@h:6379?dial_timeout=1s", "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_URL", "query"}},
		{"not a URL", map[string]string{"XDRPROXY_REDIS_URL": "redis://:" + redisPassword + "@h:6379/%zz", "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_URL", "not a URL"}},
		{"empty password file", map[string]string{"XDRPROXY_REDIS_URL": url, "XDRPROXY_REDIS_PASSWORD_FILE": emptyPW, "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_PASSWORD_FILE", "empty"}},
		{"prefix with a space", map[string]string{"XDRPROXY_REDIS_URL": url, "XDRPROXY_REDIS_KEY_PREFIX": "a b", "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_KEY_PREFIX", "space"}},
		{"prefix too long", map[string]string{"XDRPROXY_REDIS_URL": url, "XDRPROXY_REDIS_KEY_PREFIX": strings.Repeat("p", 65), "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE": keys},
			[]string{"XDRPROXY_REDIS_KEY_PREFIX", "at most 64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, caseEnv(tt.set, nil))
			_, err := Load()
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, secret := range []string{redisPassword, "s3cr", "Xy9Q"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows (part of) the Redis password %q:\n%v", secret, err)
				}
			}
		})
	}
}
