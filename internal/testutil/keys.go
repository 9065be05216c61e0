package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"testing"
)

// KeyHash is how client keys and admin keys files name a key: the hex
// SHA-256 of the key.
func KeyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// KeyLine is one line of a client keys file: key's hash, then the tenants
// it may use ("contoso,fabrikam" or "*").
func KeyLine(key, tenants string) string {
	return KeyHash(key) + " " + tenants + "\n"
}

// PlaceholderKeyPEM returns a fresh EC P-256 private key in PKCS#8 PEM, a
// key XDRPROXY_PLACEHOLDER_KEY_FILE accepts.
func PlaceholderKeyPEM(t testing.TB) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
