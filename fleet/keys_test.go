package fleet

import (
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/xdrproxy/xdrproxy/fleet/seal"
)

// newKey returns a fresh random 32-byte key.
func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// keyFile writes keys as a key file, standard base64, one a line.
func keyFile(keys ...[]byte) []byte {
	var b []byte
	for _, k := range keys {
		b = append(b, base64.StdEncoding.EncodeToString(k)+"\n"...)
	}
	return b
}

// mustParse parses a key file that is expected to be valid.
func mustParse(t testing.TB, data []byte) *seal.Keys {
	t.Helper()
	k, err := seal.ParseKeys(data)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return k
}
