package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// newKey returns a fresh random 32-byte key.
func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, keySize)
	rand.Read(k)
	return k
}

// keyFile writes keys as a key file, standard base64, one a line.
func keyFile(keys ...[]byte) []byte {
	var b bytes.Buffer
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	}
	return b.Bytes()
}

// mustParse parses a key file that is expected to be valid.
func mustParse(t testing.TB, data []byte) *Keys {
	t.Helper()
	k, err := ParseKeys(data)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return k
}

func TestParseKeysAcceptsEveryBase64Spelling(t *testing.T) {
	// 0xfb bytes make '+' and '/' (or '-' and '_') appear, so the alphabets differ.
	raw := bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 11)[:keySize]
	first := newKey(t)
	for _, enc := range base64Encodings {
		file := fmt.Sprintf("# rotation: new key first\n%s  # in use since May\r\n\n  %s\n",
			base64.StdEncoding.EncodeToString(first), enc.EncodeToString(raw))
		keys := mustParse(t, []byte(file))
		if len(keys.keys) != 2 {
			t.Fatalf("%d keys, want 2", len(keys.keys))
		}
		if keys.keys[0].id != keyID(first) || keys.keys[1].id != keyID(raw) {
			t.Errorf("keys out of order or decoded wrongly")
		}
	}
}

func TestParseKeysRejects(t *testing.T) {
	key := newKey(t)
	good := base64.StdEncoding.EncodeToString(key)
	short := base64.StdEncoding.EncodeToString(key[:16])
	long := base64.RawURLEncoding.EncodeToString(append(bytes.Clone(key), key...))
	notBase64 := strings.Replace(good, good[3:4], "!", 1)
	var many strings.Builder
	for range maxKeys + 1 {
		many.WriteString(base64.StdEncoding.EncodeToString(newKey(t)) + "\n")
	}
	tests := []struct {
		name string
		file string
		want []string // substrings of the error
	}{
		{"empty", "", []string{"no key"}},
		{"only comments", "# no key yet\n\n   \n", []string{"no key"}},
		{"short key", "# c\n" + short + "\n", []string{"line 2", "decodes to 16 bytes, not 32"}},
		{"long key", long, []string{"line 1", "decodes to 64 bytes, not 32"}},
		{"not base64", good + "\n" + notBase64 + "\n", []string{"line 2", "not base64"}},
		{"two keys on a line", good + " " + good, []string{"line 1", "not base64"}},
		{"duplicate", good + "\n#\n" + base64.RawURLEncoding.EncodeToString(key), []string{"line 3", "duplicate of the key on line 1"}},
		{"too many", many.String(), []string{fmt.Sprintf("line %d", maxKeys+1), "more than 16 keys"}},
		{"every problem", short + "\n" + notBase64 + "\n", []string{"line 1: decodes", "line 2: not base64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseKeys([]byte(tt.file))
			if err == nil {
				t.Fatalf("ParseKeys accepted the file, %d keys", len(keys.keys))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			assertNoKeyText(t, err.Error(), tt.file)
		})
	}
}

// assertNoKeyText fails if msg contains 8 consecutive characters of any
// non-comment line of file: an error must never quote a key.
func assertNoKeyText(t *testing.T, msg, file string) {
	t.Helper()
	for _, line := range strings.Split(file, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for i := 0; i+8 <= len(line); i++ {
			if strings.Contains(msg, line[i:i+8]) {
				t.Fatalf("error quotes key text %q", line[i:i+8])
			}
		}
	}
}
