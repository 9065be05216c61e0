package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCertPEM makes a self-signed certificate for key, in PEM.
func testCertPEM(t *testing.T, key any, pub any) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "xdrproxy"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestCertificateCredential(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := testCertPEM(t, rsaKey, &rsaKey.PublicKey)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	otherPKCS8, _ := x509.MarshalPKCS8PrivateKey(otherKey)
	ecDER, _ := x509.MarshalECPrivateKey(ecKey)

	tests := []struct {
		name    string
		pem     []byte
		x5c     string
		wantErr string
	}{
		{name: "PKCS#8 key", pem: append(append([]byte{}, cert...), keyPEM...)},
		{name: "PKCS#1 key first, with x5c", pem: append(append([]byte{}, pkcs1PEM...), cert...), x5c: "true"},
		{name: "encrypted PKCS#8", pem: append(append([]byte{}, cert...), pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2}})...), wantErr: "encrypted"},
		{name: "legacy encrypted PEM", pem: append(append([]byte{}, cert...), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "DES-EDE3-CBC,00"}, Bytes: []byte{1}})...), wantErr: "encrypted"},
		{name: "EC key", pem: append(append([]byte{}, cert...), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})...), wantErr: "RSA"},
		{name: "key of another certificate", pem: append(append([]byte{}, cert...), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: otherPKCS8})...), wantErr: "belongs to none"},
		{name: "no key", pem: cert, wantErr: "no private key"},
		{name: "no certificate", pem: keyPEM, wantErr: "no CERTIFICATE"},
		{name: "bad x5c flag", pem: append(append([]byte{}, cert...), keyPEM...), x5c: "maybe", wantErr: "XDRPROXY_CLIENT_CERTIFICATE_SEND_X5C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "cert.pem", string(tt.pem))
			env := minimalEnv()
			delete(env, "XDRPROXY_CLIENT_SECRET")
			env["XDRPROXY_CLIENT_CERTIFICATE_FILE"] = path
			env["XDRPROXY_CLIENT_CERTIFICATE_SEND_X5C"] = tt.x5c
			setEnv(t, env)
			t.Setenv("XDRPROXY_CLIENT_SECRET", "")
			cfg, err := Load()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "PRIVATE KEY-----") {
					t.Error("the error quotes the key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := cfg.Credential
			if c.Kind != ClientCertificate || c.File != path || c.Secret.Reveal() != string(tt.pem) || c.SendX5C != (tt.x5c == "true") {
				t.Errorf("credential = kind %v file %q x5c %v", c.Kind, c.File, c.SendX5C)
			}
		})
	}
}

func TestFederatedCredential(t *testing.T) {
	dir := t.TempDir()
	token := writeFile(t, dir, "token", "eyJhbGciOiJSUzI1NiJ9.e30.sig\n")
	empty := writeFile(t, dir, "empty", "")
	for _, tt := range []struct {
		name, variable, path, wantErr string
	}{
		{"XDRPROXY_ variable", "XDRPROXY_FEDERATED_TOKEN_FILE", token, ""},
		{"webhook's AZURE_ variable", "AZURE_FEDERATED_TOKEN_FILE", token, ""},
		{"empty file", "XDRPROXY_FEDERATED_TOKEN_FILE", empty, "is empty"},
		{"missing file", "AZURE_FEDERATED_TOKEN_FILE", filepath.Join(dir, "none"), "AZURE_FEDERATED_TOKEN_FILE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := minimalEnv()
			delete(env, "XDRPROXY_CLIENT_SECRET")
			env[tt.variable] = tt.path
			setEnv(t, env)
			cfg, err := Load()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Credential.Kind != FederatedToken || cfg.Credential.File != tt.path || cfg.Credential.Variable() != tt.variable {
				t.Errorf("credential = %+v (variable %s)", cfg.Credential, cfg.Credential.Variable())
			}
		})
	}
}

func TestSendX5CIsValidatedWithAnyCredential(t *testing.T) {
	env := minimalEnv()
	env["XDRPROXY_CLIENT_CERTIFICATE_SEND_X5C"] = "banana"
	setEnv(t, env)
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "XDRPROXY_CLIENT_CERTIFICATE_SEND_X5C") {
		t.Fatalf("err = %v", err)
	}
}

func TestCredentialVariable(t *testing.T) {
	tests := []struct {
		kind CredentialKind
		want string
	}{
		{NoCredential, ""},
		{ClientSecret, "XDRPROXY_CLIENT_SECRET"},
		{ClientSecretFile, "XDRPROXY_CLIENT_SECRET_FILE"},
		{ClientCertificate, "XDRPROXY_CLIENT_CERTIFICATE_FILE"},
		{FederatedToken, "XDRPROXY_FEDERATED_TOKEN_FILE"},
		{CredentialKind(99), ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.kind), func(t *testing.T) {
			if got := (Credential{Kind: tt.kind}).Variable(); got != tt.want {
				t.Errorf("Credential{Kind: %d}.Variable() = %q, want %q", tt.kind, got, tt.want)
			}
		})
	}
}

func TestWorkloadIdentityTokenFileDoesNotClashWithASecret(t *testing.T) {
	env := minimalEnv()
	env["AZURE_FEDERATED_TOKEN_FILE"] = "/var/run/secrets/azure/tokens/azure-identity-token"
	setEnv(t, env)
	cfg, err := Load()
	if err != nil {
		t.Fatalf("the webhook's AZURE_FEDERATED_TOKEN_FILE beside XDRPROXY_CLIENT_SECRET: %v", err)
	}
	if cfg.Credential.Kind != ClientSecret {
		t.Errorf("credential kind = %v, want the client secret", cfg.Credential.Kind)
	}
}

func TestClientSecretIsTrimmed(t *testing.T) {
	env := minimalEnv()
	env["XDRPROXY_CLIENT_SECRET"] = "  " + testSecret + "\n"
	setEnv(t, env)
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Credential.Secret.Reveal(); got != testSecret {
		t.Errorf("secret = %q, want it trimmed", got)
	}
	env["XDRPROXY_CLIENT_SECRET"] = "   "
	setEnv(t, env)
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "no credential") {
		t.Errorf("a blank secret: err = %v, want no credential", err)
	}
}
