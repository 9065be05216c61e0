package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

const (
	// keySize is the length of an AES-256 key.
	keySize = 32
	// keyIDSize is the length of the key identifier written in front of a
	// sealed value: enough to pick the right key among a handful, too short
	// to say anything useful about the key.
	keyIDSize = 4
	// maxKeys bounds a key file: rotation needs two or three keys, and every
	// extra key is one more attempt when a value does not open.
	maxKeys = 16
)

// Keys is a parsed key file: the first key seals, any key opens, so a new key
// is rolled out by prepending it and an old one retired by removing it once
// every value sealed with it has been replaced. Keys are built only by
// [ParseKeys]; a Keys is safe for concurrent use.
type Keys struct {
	keys []sealingKey // keys[0] seals
}

// sealingKey is one key of a file, ready to use.
type sealingKey struct {
	id   [keyIDSize]byte // first bytes of the key's SHA-256
	aead cipher.AEAD     // AES-256-GCM with a random nonce prepended
}

// base64Encodings are the spellings a key may be written in, tried in order:
// standard or URL-safe alphabet, padded or not.
var base64Encodings = []*base64.Encoding{
	base64.StdEncoding,
	base64.RawStdEncoding,
	base64.URLEncoding,
	base64.RawURLEncoding,
}

// ParseKeys reads a key file: one base64 key of 32 bytes a line (standard or
// URL-safe alphabet, padded or not); text from '#' to the end of a line is a
// comment, and blank lines are ignored. The first key seals, any key opens.
// Every problem is reported with its line number and what is wrong, never
// with the text of a key; a file with no key, a duplicate key or more than
// 16 keys is an error.
func ParseKeys(data []byte) (*Keys, error) {
	var (
		problems []string
		keys     []sealingKey
		accepted []acceptedKey // to find duplicates; wiped on return
	)
	defer func() {
		for _, a := range accepted {
			clear(a.raw)
		}
	}()
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(keys) == maxKeys {
			problems = append(problems, fmt.Sprintf("line %d: more than %d keys", n, maxKeys))
			break
		}
		raw, problem := decodeKey(line)
		if problem == "" {
			problem = duplicate(raw, accepted)
		}
		if problem != "" {
			clear(raw)
			problems = append(problems, fmt.Sprintf("line %d: %s", n, problem))
			continue
		}
		accepted = append(accepted, acceptedKey{raw: raw, line: n})
		keys = append(keys, newSealingKey(raw))
	}
	if len(keys) == 0 && len(problems) == 0 {
		problems = append(problems, "no key (one base64 key of 32 bytes a line)")
	}
	if len(problems) > 0 {
		return nil, errors.New("key file: " + strings.Join(problems, "; "))
	}
	return &Keys{keys: keys}, nil
}

// acceptedKey is a key already read from the file, with its line.
type acceptedKey struct {
	raw  []byte
	line int
}

// duplicate says which earlier line holds the same key as raw, or returns "".
func duplicate(raw []byte, accepted []acceptedKey) string {
	for _, a := range accepted {
		if subtle.ConstantTimeCompare(a.raw, raw) == 1 {
			return fmt.Sprintf("duplicate of the key on line %d", a.line)
		}
	}
	return ""
}

// decodeKey decodes one line of a key file, or says what is wrong with it
// without quoting it.
func decodeKey(line string) (raw []byte, problem string) {
	for _, enc := range base64Encodings {
		b, err := enc.DecodeString(line)
		if err != nil {
			continue
		}
		if len(b) != keySize {
			clear(b)
			return nil, fmt.Sprintf("decodes to %d bytes, not %d", len(b), keySize)
		}
		return b, ""
	}
	return nil, fmt.Sprintf("not base64 (%d characters)", len(line))
}

// newSealingKey prepares one key of keySize bytes; AES accepts every such
// key, so it cannot fail.
func newSealingKey(raw []byte) sealingKey {
	block, err := aes.NewCipher(raw)
	if err != nil {
		panic("fleet: AES-256 rejected a 32-byte key: " + err.Error())
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("fleet: GCM rejected AES: " + err.Error())
	}
	return sealingKey{id: keyID(raw), aead: aead}
}

// keyID identifies a key in sealed values: the first bytes of its SHA-256.
func keyID(raw []byte) [keyIDSize]byte {
	sum := sha256.Sum256(raw)
	return [keyIDSize]byte(sum[:keyIDSize])
}
