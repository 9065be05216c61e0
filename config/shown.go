package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Start-up errors name the variable at fault but must not print a secret
// that was put in the wrong variable: these quote a value only when it
// cannot be one.

// readFile reads the file a variable names. When it cannot, the error
// quotes the value only if it looks like a path: a secret, a token or a
// PEM pasted into a *_FILE variable by mistake must not be printed in
// the start-up error. Once a read succeeds, the value is a path.
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	var pe *fs.PathError
	if errors.As(err, &pe) && !looksLikePath(pe.Path) {
		pe.Path = "(the value, not shown: it does not look like a file path)"
	}
	return data, err
}

// readChecked reads the file a variable names and checks its content.
// Once the read has succeeded the value is a path, so a check's error
// starts with it.
func readChecked(path string, check func(data []byte) error) ([]byte, error) {
	data, err := readFile(path)
	if err != nil {
		return data, err
	}
	if err := check(data); err != nil {
		return data, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// looksLikePath reports whether s reads as a file path rather than a
// pasted secret: it has a directory separator and no whitespace.
func looksLikePath(s string) bool {
	return strings.ContainsRune(s, '/') && !strings.ContainsAny(s, " \t\r\n") && len(s) <= 4096
}

// shownURL quotes a URL-like value for an error without its user info or
// query, which may hold credentials; a value that does not parse and
// might hold one is not quoted at all.
func shownURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		if strings.ContainsAny(s, "@ \t\r\n") || len(s) > 200 {
			return "(the value, not shown)"
		}
		return strconv.Quote(s)
	}
	var hidden []string
	if u.User != nil {
		u.User, hidden = nil, append(hidden, "user info")
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery, hidden = "", false, append(hidden, "query")
	}
	shown := u.String()
	if strings.Contains(shown, "@") {
		return "(the value, not shown)"
	}
	if len(hidden) > 0 {
		return strconv.Quote(shown) + " (" + strings.Join(hidden, " and ") + " not shown)"
	}
	return strconv.Quote(shown)
}

// redactSecrets removes the client secret from every problem: a secret
// pasted into the wrong variable must not be printed, even when the
// credential itself was refused.
func (e env) redactSecrets(c *Config, p problems) {
	for _, secret := range []Secret{c.Credential.Secret, Secret(strings.TrimSpace(e.ClientSecret)), redisURLPassword(c.Fleet.URL)} {
		for i := range p {
			p[i] = secret.Redact(p[i])
		}
	}
}

// redisURLPassword returns the password u holds, if any.
func redisURLPassword(u *url.URL) Secret {
	if u == nil {
		return ""
	}
	pw, _ := u.User.Password()
	return Secret(pw)
}

// Secrets returns the values a logger must never print: the client
// secret, the Redis password of the URL and of the password file as read
// at start. Empty values are left out.
func (c *Config) Secrets() []string {
	var out []string
	for _, s := range []Secret{c.Credential.Secret, redisURLPassword(c.Fleet.URL)} {
		if s != "" {
			out = append(out, s.Reveal())
		}
	}
	if c.Fleet.PasswordFile != "" {
		if pw, err := ReadRedisPassword(c.Fleet.PasswordFile); err == nil {
			out = append(out, pw)
		}
	}
	return out
}
