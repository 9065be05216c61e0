package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MinSecretLength is the fewest characters a client secret may have.
// Entra ID's client secrets have 40; a short value is a mistake (a part
// of the secret, or another value), and a secret of a few characters
// would be found inside unrelated log text, which redacting it would
// mangle.
const MinSecretLength = 16

// redacted replaces a secret wherever one is removed from text.
const redacted = "[redacted]"

// Secret is a string that never prints: fmt, zap and JSON all see
// "[redacted]". Use Reveal where the value itself is needed.
type Secret string

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return redacted }

// MarshalText returns "[redacted]", for JSON and text encoders.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Format prints "[redacted]" for every verb, so that even a wrong verb
// (%d, %x) cannot print the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// Redact returns text with each occurrence of the whole secret replaced
// by "[redacted]", inside a longer word too; the text around it is kept
// as it was, and no part of the secret is ever left showing. A secret
// shorter than MinSecretLength, which only a start-up error can meet, is
// replaced only where it stands as a word of its own: replacing it
// inside other words would mangle unrelated text and, by what it
// mangled, show the secret's characters.
func (s Secret) Redact(text string) string {
	v := string(s)
	if v == "" || !strings.Contains(text, v) {
		return text
	}
	if utf8.RuneCountInString(v) >= MinSecretLength {
		return strings.ReplaceAll(text, v, redacted)
	}
	var b strings.Builder
	last := 0
	for i := 0; i <= len(text)-len(v); {
		j := strings.Index(text[i:], v)
		if j < 0 {
			break
		}
		j += i
		end := j + len(v)
		if !wordBefore(text[:j]) && !wordAfter(text[end:]) {
			b.WriteString(text[last:j])
			b.WriteString(redacted)
			last, i = end, end
		} else {
			i = j + 1
		}
	}
	b.WriteString(text[last:])
	return b.String()
}

// wordBefore reports whether s ends with a letter, digit or underscore.
func wordBefore(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isWordRune(r)
}

// wordAfter reports whether s starts with a letter, digit or underscore.
func wordAfter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isWordRune(r)
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// checkSecret refuses a client secret shorter than MinSecretLength. The
// error gives the length, never a character of the value.
func checkSecret(s string) error {
	if n := utf8.RuneCountInString(s); n < MinSecretLength {
		return fmt.Errorf("is %d characters long; a client secret has at least %d (Entra ID's have 40): copy the secret's whole Value", n, MinSecretLength)
	}
	return nil
}

// SecretFromFile returns a secret file's content, trimmed; an empty file,
// or a secret shorter than MinSecretLength, is an error.
func SecretFromFile(data []byte) (Secret, error) {
	secret := strings.TrimSpace(string(data))
	if secret == "" {
		return "", errors.New("is empty")
	}
	if err := checkSecret(secret); err != nil {
		return "", err
	}
	return Secret(secret), nil
}
