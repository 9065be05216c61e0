package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testPKI writes a self-signed certificate, its key, a second key that
// does not match, and returns their paths.
type testPKI struct {
	cert, key, otherKey, encryptedKey string
}

func newTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "xdrproxy test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
		IsCA:         true,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testPKI{
		cert:         writeFile(t, dir, "tls.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))),
		key:          writeFile(t, dir, "tls.key", pemKey(t, key, "PKCS8")),
		otherKey:     writeFile(t, dir, "other.key", pemKey(t, other, "PKCS8")),
		encryptedKey: writeFile(t, dir, "encrypted.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0w\n-----END ENCRYPTED PRIVATE KEY-----\n"),
	}
}

// pemKey encodes key as PKCS8, SEC1 or PKCS1.
func pemKey(t *testing.T, key crypto.Signer, form string) string {
	t.Helper()
	var block *pem.Block
	switch form {
	case "PKCS8":
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	case "SEC1":
		der, err := x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	case "PKCS1":
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey))}
	default:
		t.Fatalf("unknown form %s", form)
	}
	return string(pem.EncodeToMemory(block))
}

func TestParsePlaceholderKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name string
		pem  string
		want crypto.Signer
	}{
		{"EC P-256 in PKCS#8", pemKey(t, ec, "PKCS8"), ec},
		{"EC P-256 in SEC 1", pemKey(t, ec, "SEC1"), ec},
		{"RSA in PKCS#8", pemKey(t, rsaKey, "PKCS8"), rsaKey},
		{"RSA in PKCS#1", pemKey(t, rsaKey, "PKCS1"), rsaKey},
		{"Ed25519 in PKCS#8", pemKey(t, ed, "PKCS8"), ed},
		{"after a certificate block", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" + pemKey(t, ec, "SEC1"), ec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePlaceholderKey([]byte(tt.pem))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Public(), tt.want.Public()) {
				t.Errorf("parsed a different key")
			}
		})
	}
}

func TestLegacyToolSettings(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keyFile := writeFile(t, dir, "placeholder.pem", pemKey(t, ec, "SEC1"))
	env := minimalEnv()
	env["XDRPROXY_TENANTS"] = "contoso=" + tenantA + "," + tenantB
	env["XDRPROXY_TLS_CERT_FILE"] = pki.cert
	env["XDRPROXY_TLS_KEY_FILE"] = pki.key
	env["XDRPROXY_TLS_CLIENT_CA_FILE"] = pki.cert
	env["XDRPROXY_TENANT_LISTENERS"] = " 127.0.0.1:8081=Contoso, [::1]:8082=" + strings.ToUpper(tenantB) + " ,"
	env["XDRPROXY_TOKEN_EMULATION"] = "true"
	env["XDRPROXY_PLACEHOLDER_KEY_FILE"] = keyFile
	setEnv(t, env)

	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if !c.TLS() || c.TLSCertFile != pki.cert || c.TLSKeyFile != pki.key || c.TLSClientCAFile != pki.cert {
		t.Errorf("TLS files = %q %q %q", c.TLSCertFile, c.TLSKeyFile, c.TLSClientCAFile)
	}
	want := []TenantListener{{Addr: "127.0.0.1:8081", Tenant: "contoso"}, {Addr: "[::1]:8082", Tenant: tenantB}}
	if !reflect.DeepEqual(c.TenantListeners, want) {
		t.Errorf("TenantListeners = %+v, want %+v", c.TenantListeners, want)
	}
	if !c.TokenEmulation || c.PlaceholderKeyFile != keyFile {
		t.Errorf("TokenEmulation = %v, PlaceholderKeyFile = %q", c.TokenEmulation, c.PlaceholderKeyFile)
	}
	if c.PlaceholderKey == nil || !reflect.DeepEqual(c.PlaceholderKey.Public(), ec.Public()) {
		t.Errorf("PlaceholderKey is not the file's key")
	}
	if data, err := json.Marshal(c); err != nil || strings.Contains(string(data), ec.D.String()) {
		t.Errorf("the Config's JSON holds the placeholder key (%v)", err)
	}

	// The defaults: plain HTTP, no pinned listener, no emulation.
	setEnv(t, minimalEnv())
	if c, err = Load(); err != nil {
		t.Fatal(err)
	}
	if c.TLS() || c.TLSClientCAFile != "" || c.TenantListeners != nil || c.TokenEmulation || c.PlaceholderKey != nil {
		t.Errorf("defaults: %+v", c)
	}
}

func TestLegacyToolSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	keysFile := writeFile(t, dir, "keys", strings.Repeat("a", 64)+" *\n")
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPEM := pemKey(t, ec, "PKCS8")
	keyFiles := map[string]string{
		"p384":    writeFile(t, dir, "p384.pem", pemKey(t, p384, "PKCS8")),
		"rsa1024": writeFile(t, dir, "rsa1024.pem", pemKey(t, rsa1024, "PKCS1")),
		"ec":      writeFile(t, dir, "ec.pem", ecPEM),
		"garbage": writeFile(t, dir, "garbage.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
	}
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name string
		set  map[string]string
		want []string // the variable named first, then other text
	}{
		{"certificate without key", map[string]string{"XDRPROXY_TLS_CERT_FILE": pki.cert}, []string{"XDRPROXY_TLS_KEY_FILE", "is required"}},
		{"key without certificate", map[string]string{"XDRPROXY_TLS_KEY_FILE": pki.key}, []string{"XDRPROXY_TLS_CERT_FILE", "is required"}},
		{"certificate and another key", map[string]string{"XDRPROXY_TLS_CERT_FILE": pki.cert, "XDRPROXY_TLS_KEY_FILE": pki.otherKey}, []string{"XDRPROXY_TLS_CERT_FILE", "does not match"}},
		{"encrypted key", map[string]string{"XDRPROXY_TLS_CERT_FILE": pki.cert, "XDRPROXY_TLS_KEY_FILE": pki.encryptedKey}, []string{"XDRPROXY_TLS_CERT_FILE", "is encrypted;"}},
		{"missing certificate file", map[string]string{"XDRPROXY_TLS_CERT_FILE": missing, "XDRPROXY_TLS_KEY_FILE": pki.key}, []string{"XDRPROXY_TLS_CERT_FILE", "no such file"}},
		{"key as certificate", map[string]string{"XDRPROXY_TLS_CERT_FILE": pki.key, "XDRPROXY_TLS_KEY_FILE": pki.key}, []string{"XDRPROXY_TLS_CERT_FILE", "certificate"}},
		{"client CA without TLS", map[string]string{"XDRPROXY_TLS_CLIENT_CA_FILE": pki.cert}, []string{"XDRPROXY_TLS_CLIENT_CA_FILE", "XDRPROXY_TLS_CERT_FILE"}},
		{"client CA file with no certificate", map[string]string{"XDRPROXY_TLS_CERT_FILE": pki.cert, "XDRPROXY_TLS_KEY_FILE": pki.key, "XDRPROXY_TLS_CLIENT_CA_FILE": pki.key}, []string{"XDRPROXY_TLS_CLIENT_CA_FILE", "no PEM certificate"}},
		{"client CA file missing", map[string]string{"XDRPROXY_TLS_CERT_FILE": pki.cert, "XDRPROXY_TLS_KEY_FILE": pki.key, "XDRPROXY_TLS_CLIENT_CA_FILE": missing}, []string{"XDRPROXY_TLS_CLIENT_CA_FILE", "no such file"}},
		{"tenant listener without =", map[string]string{"XDRPROXY_TENANT_LISTENERS": "127.0.0.1:8081"}, []string{"XDRPROXY_TENANT_LISTENERS", "ADDR=TENANT"}},
		{"tenant listener without a port", map[string]string{"XDRPROXY_TENANT_LISTENERS": "127.0.0.1=" + tenantA}, []string{"XDRPROXY_TENANT_LISTENERS", "host:port"}},
		{"tenant listener for an unknown tenant", map[string]string{"XDRPROXY_TENANT_LISTENERS": "127.0.0.1:8081=fabrikam"}, []string{"XDRPROXY_TENANT_LISTENERS", `"fabrikam" is not one of the configured tenants`}},
		{"tenant listener on the proxy's address", map[string]string{"XDRPROXY_TENANT_LISTENERS": "127.0.0.1:8080=" + tenantA}, []string{"XDRPROXY_TENANT_LISTENERS", "clashes with"}},
		{"tenant listener on localhost, the proxy on 127.0.0.1", map[string]string{"XDRPROXY_TENANT_LISTENERS": "localhost:8080=" + tenantA}, []string{"XDRPROXY_TENANT_LISTENERS", "clashes with 127.0.0.1:8080"}},
		{"missing key file", map[string]string{"XDRPROXY_TLS_CERT_FILE": pki.cert, "XDRPROXY_TLS_KEY_FILE": missing}, []string{"XDRPROXY_TLS_KEY_FILE", "no such file"}},
		{"two tenant listeners on one address", map[string]string{"XDRPROXY_TENANT_LISTENERS": "127.0.0.1:8081=" + tenantA + ",127.0.0.1:8081=" + tenantA}, []string{"XDRPROXY_TENANT_LISTENERS", "clashes with"}},
		{"tenant listener names nothing", map[string]string{"XDRPROXY_TENANT_LISTENERS": " , "}, []string{"XDRPROXY_TENANT_LISTENERS", "names no listener"}},
		{"reachable tenant listener without client keys", map[string]string{"XDRPROXY_TENANT_LISTENERS": "0.0.0.0:8081=" + tenantA}, []string{"XDRPROXY_TENANT_LISTENERS", "reachable from other machines", "XDRPROXY_CLIENT_KEYS_FILE"}},
		{"token emulation not a boolean", map[string]string{"XDRPROXY_TOKEN_EMULATION": "maybe"}, []string{"XDRPROXY_TOKEN_EMULATION", "not a boolean"}},
		{"placeholder key without emulation", map[string]string{"XDRPROXY_PLACEHOLDER_KEY_FILE": keyFiles["ec"]}, []string{"XDRPROXY_PLACEHOLDER_KEY_FILE", "XDRPROXY_TOKEN_EMULATION=true"}},
		{"placeholder key on P-384", map[string]string{"XDRPROXY_TOKEN_EMULATION": "true", "XDRPROXY_PLACEHOLDER_KEY_FILE": keyFiles["p384"]}, []string{"XDRPROXY_PLACEHOLDER_KEY_FILE", "P-384", "P-256"}},
		{"placeholder key RSA 1024", map[string]string{"XDRPROXY_TOKEN_EMULATION": "true", "XDRPROXY_PLACEHOLDER_KEY_FILE": keyFiles["rsa1024"]}, []string{"XDRPROXY_PLACEHOLDER_KEY_FILE", "1024 bits"}},
		{"placeholder key not parsing", map[string]string{"XDRPROXY_TOKEN_EMULATION": "true", "XDRPROXY_PLACEHOLDER_KEY_FILE": keyFiles["garbage"]}, []string{"XDRPROXY_PLACEHOLDER_KEY_FILE", "does not parse"}},
		{"placeholder key is a certificate", map[string]string{"XDRPROXY_TOKEN_EMULATION": "true", "XDRPROXY_PLACEHOLDER_KEY_FILE": pki.cert}, []string{"XDRPROXY_PLACEHOLDER_KEY_FILE", "no PEM private key"}},
		{"placeholder key encrypted", map[string]string{"XDRPROXY_TOKEN_EMULATION": "true", "XDRPROXY_PLACEHOLDER_KEY_FILE": pki.encryptedKey}, []string{"XDRPROXY_PLACEHOLDER_KEY_FILE", "is encrypted;"}},
		{"placeholder key file missing", map[string]string{"XDRPROXY_TOKEN_EMULATION": "true", "XDRPROXY_PLACEHOLDER_KEY_FILE": missing}, []string{"XDRPROXY_PLACEHOLDER_KEY_FILE", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, caseEnv(tt.set, nil))
			_, err := Load()
			if err == nil {
				t.Fatal("Load() succeeded, want an error")
			}
			msg := err.Error()
			lines := strings.Split(msg, "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[1], "  "+tt.want[0]+":") {
				t.Fatalf("want one problem line naming %s, got:\n%s", tt.want[0], msg)
			}
			for _, w := range tt.want[1:] {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not mention %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "BEGIN") {
				t.Errorf("error quotes a PEM block:\n%s", msg)
			}
			for _, path := range tt.set {
				data, _ := os.ReadFile(path)
				for _, line := range strings.Split(string(data), "\n") {
					if len(line) > 16 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line) {
						t.Errorf("error quotes the content of %s:\n%s", path, msg)
					}
				}
			}
		})
	}

	// Bad tenants do not hide a bad tenant listener: both are reported.
	setEnv(t, caseEnv(map[string]string{"XDRPROXY_TENANTS": "not-a-tenant!", "XDRPROXY_TENANT_LISTENERS": "garbage"}, nil))
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "XDRPROXY_TENANTS:") || !strings.Contains(err.Error(), "XDRPROXY_TENANT_LISTENERS:") {
		t.Errorf("bad tenants and listeners: %v", err)
	}

	// With client keys, a reachable tenant listener is allowed.
	setEnv(t, caseEnv(map[string]string{"XDRPROXY_TENANT_LISTENERS": "0.0.0.0:8081=" + tenantA, "XDRPROXY_CLIENT_KEYS_FILE": keysFile}, nil))
	if _, err := Load(); err != nil {
		t.Errorf("reachable tenant listener with client keys: %v", err)
	}
}
