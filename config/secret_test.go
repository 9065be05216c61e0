package config

import (
	"strings"
	"testing"
)

func TestShortSecretRefused(t *testing.T) {
	dir := t.TempDir()
	const short = "Sh0rt~secret.15" // 15 characters
	shortFile := writeFile(t, dir, "short", "  "+short+"\n")
	exact := "Exactly~16chars." // 16 characters
	exactFile := writeFile(t, dir, "exact", exact+"\n")
	tests := []struct {
		name  string
		set   map[string]string
		unset []string
		want  string // the whole problem line; empty for success
	}{
		{
			name: "XDRPROXY_CLIENT_SECRET of 15 characters",
			set:  map[string]string{"XDRPROXY_CLIENT_SECRET": short},
			want: "XDRPROXY_CLIENT_SECRET: is 15 characters long; a client secret has at least 16 (Entra ID's have 40): copy the secret's whole Value",
		},
		{
			name:  "a secret file holding 15 characters",
			set:   map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": shortFile},
			unset: []string{"XDRPROXY_CLIENT_SECRET"},
			want:  "XDRPROXY_CLIENT_SECRET_FILE: " + shortFile + " is 15 characters long; a client secret has at least 16 (Entra ID's have 40): copy the secret's whole Value",
		},
		{name: "XDRPROXY_CLIENT_SECRET of 16 characters", set: map[string]string{"XDRPROXY_CLIENT_SECRET": exact}},
		{name: "a secret file of 16 characters", set: map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": exactFile}, unset: []string{"XDRPROXY_CLIENT_SECRET"}},
		{name: "16 characters, not 16 bytes", set: map[string]string{"XDRPROXY_CLIENT_SECRET": "ünïcödé-sëcrét-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, caseEnv(tt.set, tt.unset))
			cfg, err := Load()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n := len([]rune(cfg.Credential.Secret.Reveal())); n != 16 {
					t.Errorf("secret of %d characters loaded, want 16", n)
				}
				return
			}
			if err == nil {
				t.Fatal("Load() succeeded, want an error")
			}
			if got := strings.TrimPrefix(err.Error(), "invalid configuration:\n  "); got != tt.want {
				t.Errorf("error\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

// TestShortSecretNotShownInOtherProblems: a short secret pasted into
// another variable is still hidden there, and does not mangle the words
// of other problems that happen to contain it.
func TestShortSecretNotShownInOtherProblems(t *testing.T) {
	setEnv(t, caseEnv(map[string]string{
		"XDRPROXY_CLIENT_SECRET": "valid",
		"XDRPROXY_TENANTS":       "valid",
		"XDRPROXY_CLOUD":         "invalid",
	}, nil))
	_, err := Load()
	want := strings.Join([]string{
		"invalid configuration:",
		`  XDRPROXY_CLOUD: "invalid" is not a known cloud (want public, usgov, usgovhigh or dod)`,
		"  XDRPROXY_CLIENT_SECRET: is 5 characters long; a client secret has at least 16 (Entra ID's have 40): copy the secret's whole Value",
		`  XDRPROXY_TENANTS: "[redacted]" is not a tenant GUID (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestSecretRedact(t *testing.T) {
	const s16 = "k7Q~x2.Lm_9vR-pT" // 16 characters, as Entra ID's secrets use them
	tests := []struct {
		name, secret, text, want string
	}{
		{"alone", s16, s16, "[redacted]"},
		{"a word of its own", s16, "secret " + s16 + " refused", "secret [redacted] refused"},
		{"inside a longer word", s16, "abc" + s16 + "xyz", "abc[redacted]xyz"},
		{"twice, back to back", s16, s16 + s16, "[redacted][redacted]"},
		{"in a form value", s16, "client_id=x&client_secret=" + s16 + "&scope=y", "client_id=x&client_secret=[redacted]&scope=y"},
		{"unrelated text sharing its characters", s16, "k7Q x2 Lm_9 vR-pT k7Q~x2.Lm_9vR-p", "k7Q x2 Lm_9 vR-pT k7Q~x2.Lm_9vR-p"},
		{"empty secret", "", "anything at all", "anything at all"},
		{"short secret alone", "abc", "abc", "[redacted]"},
		{"short secret as a quoted word", "abc", `tenant "abc" unknown`, `tenant "[redacted]" unknown`},
		{"short secret inside words is left", "abc", "abcd xabc _abc abc_ 1abc", "abcd xabc _abc abc_ 1abc"},
		{"short secret, a word after a non-word", "abc", "abcabc abc", "abcabc [redacted]"},
		{"one-letter secret", "e", "the secret e is refused", "the secret [redacted] is refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Secret(tt.secret).Redact(tt.text); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
