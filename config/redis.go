package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/xdrproxy/xdrproxy/fleet/seal"
)

// Fleet is the shared state's configuration: the Redis that replicas
// share and the keys that seal the tokens put there. Its zero value
// (Fleet.URL nil) means every replica keeps its own state.
type Fleet struct {
	// URL is XDRPROXY_REDIS_URL, redis:// or rediss://; nil means no
	// Redis. It may hold a password: print it only with Redacted.
	URL *url.URL `json:"-"`
	// PasswordFile is XDRPROXY_REDIS_PASSWORD_FILE, read again each time
	// a connection to Redis is made; empty means the URL's password, if
	// any.
	PasswordFile string
	// KeyPrefix starts every key this proxy writes in Redis.
	KeyPrefix string
	// TokenKeysFile is XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE.
	TokenKeysFile string
	// TokenKeys seal tokens before they go to Redis; nil without Redis.
	TokenKeys *seal.Keys `json:"-"`
}

// Enabled reports whether replicas share state through Redis.
func (f Fleet) Enabled() bool { return f.URL != nil }

// maxKeyPrefix bounds XDRPROXY_REDIS_KEY_PREFIX: a namespace, not data.
const maxKeyPrefix = 64

// fleet reads the XDRPROXY_REDIS_* variables and the token keys. The
// URL's password is never quoted in an error.
func (e env) fleet(c *Config, p *problems) {
	raw := strings.TrimSpace(e.RedisURL)
	if raw == "" {
		for _, v := range []struct{ name, value string }{
			{"REDIS_PASSWORD_FILE", e.RedisPasswordFile}, {"TOKEN_ENCRYPTION_KEY_FILE", e.TokenEncryptionKeyFile},
		} {
			if strings.TrimSpace(v.value) != "" {
				p.add(v.name, "is set but XDRPROXY_REDIS_URL is not: without Redis every replica keeps its own state; set both, or neither")
			}
		}
		return
	}
	u, err := ParseRedisURL(raw)
	if err != nil {
		p.add("REDIS_URL", "%v", err)
	}
	c.Fleet.URL = u
	c.Fleet.KeyPrefix = e.RedisKeyPrefix
	if err := checkKeyPrefix(e.RedisKeyPrefix); err != nil {
		p.add("REDIS_KEY_PREFIX", "%v", err)
	}
	if path := strings.TrimSpace(e.RedisPasswordFile); path != "" {
		c.Fleet.PasswordFile = path
		if _, err := ReadRedisPassword(path); err != nil {
			p.add("REDIS_PASSWORD_FILE", "%v", err)
		}
	}
	path := strings.TrimSpace(e.TokenEncryptionKeyFile)
	if path == "" {
		p.add("TOKEN_ENCRYPTION_KEY_FILE", "is required with XDRPROXY_REDIS_URL: tokens go to Redis only sealed. "+
			"Make a key file with: openssl rand -base64 32 > token-keys")
		return
	}
	c.Fleet.TokenKeysFile = path
	if _, err := readChecked(path, func(data []byte) (err error) {
		c.Fleet.TokenKeys, err = seal.ParseKeys(data)
		return err
	}); err != nil {
		p.add("TOKEN_ENCRYPTION_KEY_FILE", "%v", err)
	}
}

// ParseRedisURL checks a redis:// or rediss:// URL: a host, a port if
// any between 1 and 65535, a database number if any, nothing else. Its
// errors never quote the URL, which may hold a password.
func ParseRedisURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("is not a URL (want redis://[user:password@]host:port[/db] or rediss://…)")
	}
	switch {
	case u.Scheme != "redis" && u.Scheme != "rediss":
		return nil, fmt.Errorf("scheme %q: want redis:// or rediss:// (TLS)", u.Scheme)
	case u.Opaque != "" || u.Hostname() == "":
		return nil, errors.New("names no host (want redis://[user:password@]host:port[/db])")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("has a query or fragment: only redis://[user:password@]host:port[/db] is read")
	}
	// A password holding an unencoded @, / or : spills into the host, port
	// or path: in a URL with an @, those are not quoted either.
	quote := func(part string) string {
		if strings.Contains(raw, "@") {
			return "(not shown: the URL holds a password, whose @ / : must be written %40 %2F %3A)"
		}
		return strconv.Quote(part)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %s is not a number from 1 to 65535", quote(port))
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, errors.New("has an empty port")
	}
	if ip := net.ParseIP(strings.Trim(u.Hostname(), "[]")); ip == nil && !validHostname(u.Hostname()) {
		return nil, fmt.Errorf("host %s is not a host name or IP address", quote(u.Hostname()))
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return nil, fmt.Errorf("path %s is not a database number", quote(u.Path))
		}
	}
	return u, nil
}

// validHostname reports whether h is letters, digits, '-', '_' and '.'
// only.
func validHostname(h string) bool {
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return h != ""
}

// checkKeyPrefix checks a key prefix: at most 64 printable ASCII
// characters without spaces.
func checkKeyPrefix(prefix string) error {
	if len(prefix) > maxKeyPrefix {
		return fmt.Errorf("is %d characters long; at most %d", len(prefix), maxKeyPrefix)
	}
	for _, r := range prefix {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("%q holds a space or a character that is not printable ASCII", prefix)
		}
	}
	return nil
}

// ReadRedisPassword reads a Redis password file: its content without the
// final line break. An empty file is an error.
func ReadRedisPassword(path string) (string, error) {
	data, err := readFile(path)
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(string(data), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	if strings.ContainsAny(pw, "\r\n") {
		return "", fmt.Errorf("%s holds more than one line; a password is one line", path)
	}
	return pw, nil
}
