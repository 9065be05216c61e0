package tokencache_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// sourceWith returns real MSAL Go, pointed at sim, with cred.
func sourceWith(t *testing.T, sim *simulator.Server, cred config.Credential) *tokencache.MSALSource {
	t.Helper()
	transport := testutil.SimulatorTransport(t, sim)
	src, err := tokencache.NewMSALSource(tokencache.MSALOptions{
		AuthorityHost: testutil.ParseURL(t, sim.URL()), ClientID: simulator.DefaultClientID, Credential: cred,
		HTTPClient: &http.Client{Transport: transport},
	})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// acquire gets a token for Contoso and returns its claims, or the failure.
func acquire(t *testing.T, sim *simulator.Server, src tokencache.Source) (*simulator.Claims, *tokencache.AcquisitionError) {
	t.Helper()
	tok, err := src.Token(context.Background(), simulator.ContosoTenantID, scope)
	if err != nil {
		var ae *tokencache.AcquisitionError
		if !errors.As(err, &ae) {
			t.Fatalf("error %v is not an *AcquisitionError", err)
		}
		return nil, ae
	}
	claims, err := sim.ParseToken(tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	return claims, nil
}

func TestCertificateCredential(t *testing.T) {
	certPEM, keyPEM, cert, err := simulator.NewClientCertificate("xdrproxy")
	if err != nil {
		t.Fatal(err)
	}
	otherPEM, otherKey, _, err := simulator.NewClientCertificate("not-registered")
	if err != nil {
		t.Fatal(err)
	}
	sim := testutil.StartSimulator(t, &simulator.Server{ClientCertificate: cert})
	for _, tt := range []struct {
		name    string
		pem     []byte
		x5c     bool
		code    int
		appidcr string
	}{
		{"registered certificate", append(append([]byte{}, certPEM...), keyPEM...), false, 0, "2"},
		{"registered certificate with x5c", append(append([]byte{}, keyPEM...), certPEM...), true, 0, "2"},
		{"certificate not on the application", append(append([]byte{}, otherPEM...), otherKey...), false, 700027, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := config.CheckCertificatePEM(tt.pem); err != nil {
				t.Fatalf("config refuses the test PEM: %v", err)
			}
			src := sourceWith(t, sim, config.Credential{Kind: config.ClientCertificate, Secret: config.Secret(tt.pem), SendX5C: tt.x5c})
			claims, ae := acquire(t, sim, src)
			if tt.code != 0 {
				if ae == nil || ae.Code() != tt.code || ae.Class() != tokencache.ClassCredential {
					t.Fatalf("failure = %v, want AADSTS%d credential_rejected", ae, tt.code)
				}
				return
			}
			if ae != nil {
				t.Fatal(ae)
			}
			if claims.AppIDACR != tt.appidcr || claims.TenantID != simulator.ContosoTenantID {
				t.Errorf("appidacr %q tid %s", claims.AppIDACR, claims.TenantID)
			}
		})
	}
}

func TestFederatedTokenFileIsReadForEveryAcquisition(t *testing.T) {
	const subject = "system:serviceaccount:soc:xdrproxy"
	issuer, err := simulator.NewFederatedIssuer("https://oidc.cluster.example/abc")
	if err != nil {
		t.Fatal(err)
	}
	sim := testutil.StartSimulator(t, &simulator.Server{FederatedCredentials: []simulator.FederatedCredential{issuer.Credential(subject)}})
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	write := func(subject string, lifetime time.Duration) {
		t.Helper()
		tok, err := issuer.Sign(subject, "", lifetime)
		if err != nil {
			t.Fatal(err)
		}
		// The kubelet swaps the projected file atomically.
		if err := os.WriteFile(file+".tmp", []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".tmp", file); err != nil {
			t.Fatal(err)
		}
	}
	write(subject, time.Hour)
	src := sourceWith(t, sim, config.Credential{Kind: config.FederatedToken, File: file})

	if claims, ae := acquire(t, sim, src); ae != nil || claims.AppIDACR != "2" {
		t.Fatalf("first acquisition: %v %+v", ae, claims)
	}
	write("system:serviceaccount:soc:someone-else", time.Hour)
	if _, ae := acquire(t, sim, src); ae == nil || ae.Code() != 70021 || ae.Class() != tokencache.ClassCredential {
		t.Fatalf("after the file was rewritten for another subject: %v, want AADSTS70021", ae)
	}
	write(subject, 0) // expired
	if _, ae := acquire(t, sim, src); ae == nil || ae.Code() != 700024 {
		t.Fatalf("an expired service-account token: %v, want AADSTS700024", ae)
	}
	write(subject, time.Hour)
	if _, ae := acquire(t, sim, src); ae != nil {
		t.Fatalf("after the kubelet's next rotation: %v", ae)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if _, ae := acquire(t, sim, src); ae == nil {
		t.Fatal("a missing token file gave a token")
	}
}

func TestRotateSecret(t *testing.T) {
	sim := testutil.StartSimulator(t, &simulator.Server{})
	src := sourceWith(t, sim, config.Credential{Kind: config.ClientSecretFile, Secret: "expired-secret"})
	if _, ae := acquire(t, sim, src); ae == nil || ae.Code() != 7000215 {
		t.Fatalf("wrong secret: %v", ae)
	}
	if err := src.Rotate(config.Credential{Kind: config.ClientSecretFile, Secret: ""}); err == nil {
		t.Fatal("an empty secret was accepted")
	}
	if err := src.Rotate(config.Credential{Kind: config.ClientSecretFile, Secret: simulator.DefaultClientSecret}); err != nil {
		t.Fatal(err)
	}
	if _, ae := acquire(t, sim, src); ae != nil {
		t.Fatalf("after rotation: %v", ae)
	}
}
