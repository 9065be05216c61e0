package server

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// A certificate renewed for the same key while the key file cannot be
// read (Kubernetes swaps the files one after the other) must still be
// picked up once the key file reads again unchanged.
func TestInboundTLSKeepsAChangeSeenDuringAReadError(t *testing.T) {
	dir := t.TempDir()
	ca := testutil.NewCA(t)
	certPEM, keyPEM, first := ca.Issue(t, "xdrproxy", true)
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	for path, data := range map[string][]byte{certPath: certPEM, keyPath: keyPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	in, err := newInboundTLS(&config.Config{TLSCertFile: certPath, TLSKeyFile: keyPath}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 {
		leaf, err := x509.ParseCertificate(in.current.Load().Certificates[0].Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.SerialNumber.Int64()
	}
	if serial() != first {
		t.Fatalf("serving serial %d, want %d", serial(), first)
	}

	// The same key, re-certified.
	renewed, renewedSerial := ca.Recertify(t, keyPEM)
	if err := os.WriteFile(certPath, renewed, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(keyPath, keyPath+".aside"); err != nil {
		t.Fatal(err)
	}
	if _, err := in.poll(); err == nil || !strings.Contains(err.Error(), "XDRPROXY_TLS_KEY_FILE") {
		t.Fatalf("key file unreadable: poll error %v", err)
	}
	if err := os.Rename(keyPath+".aside", keyPath); err != nil {
		t.Fatal(err)
	}
	changed, err := in.poll()
	if err != nil || !changed || serial() != renewedSerial {
		t.Errorf("after the key file came back: changed=%v err=%v serial %d, want %d", changed, err, serial(), renewedSerial)
	}
	if changed, err := in.poll(); changed || err != nil {
		t.Errorf("nothing changed, yet poll = %v, %v", changed, err)
	}
}
