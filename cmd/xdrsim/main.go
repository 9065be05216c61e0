// Command xdrsim runs xdrproxy's simulator on its own: a fake Microsoft
// Entra ID and Defender XDR API over HTTPS on loopback, for users' own CI.
package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/xdrproxy/xdrproxy/simulator"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "xdrsim:", err)
		os.Exit(1)
	}
}

// firstCertificate returns the first CERTIFICATE block of a PEM file.
func firstCertificate(data []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("no CERTIFICATE block")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8443", "address to listen on (loopback only is recommended)")
	caFile := flag.String("ca-file", filepath.Join(os.TempDir(), "xdrsim-ca.pem"), "where to write the CA certificate clients must trust")
	certFile := flag.String("client-certificate", "", "a PEM file whose certificate is registered on the application, for certificate credentials")
	benchTenants := flag.Int("bench-tenants", 0, "also create this many consented tenants, GUIDs %08x-0000-4000-8000-000000000000 from 1 (scale benchmarks)")
	flag.Parse()

	sim := &simulator.Server{}
	if *benchTenants > 0 {
		sim.Tenants = append(simulator.DemoTenants(), simulator.BenchTenants(*benchTenants)...)
	}
	if *certFile != "" {
		data, err := os.ReadFile(*certFile)
		if err != nil {
			return err
		}
		cert, err := firstCertificate(data)
		if err != nil {
			return fmt.Errorf("-client-certificate %s: %w", *certFile, err)
		}
		sim.ClientCertificate = cert
	}
	if err := sim.Start(*addr); err != nil {
		return err
	}
	defer sim.Close()
	ca, err := sim.CACertPEM()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*caFile, ca, 0o644); err != nil {
		return fmt.Errorf("writing CA certificate: %w", err)
	}
	u := sim.URL()
	fmt.Printf(`xdrsim: simulated Entra ID and Defender XDR API at %s
CA certificate: %s

Point xdrproxy at it:
  SSL_CERT_FILE=%[2]s \
  XDRPROXY_AUTHORITY_HOST=%[1]s XDRPROXY_INSTANCE_DISCOVERY=false \
  XDRPROXY_UPSTREAM_URL=%[1]s \
  XDRPROXY_CLIENT_ID=%[3]s XDRPROXY_CLIENT_SECRET=%[4]s \
  XDRPROXY_TENANTS=contoso=%[5]s,fabrikam=%[6]s,northwind=%[7]s \
  go run ./cmd/xdrproxy

Or ask it for a token directly:
  curl --cacert %[2]s -d grant_type=client_credentials -d client_id=%[3]s \
       -d client_secret=%[4]s -d scope=https://api.security.microsoft.com/.default \
       %[1]s/%[5]s/oauth2/v2.0/token

Tenants %[5]s and %[6]s have consented; %[7]s has not
(grant it with: curl --cacert %[2]s '%[1]s/%[7]s/oauth2/authorize?client_id=%[3]s&prompt=consent').
Graph security API: %[1]s/v1.0/security/incidents (token scope https://graph.microsoft.com/.default).
Press Ctrl-C to stop.
`, u, *caFile, simulator.DefaultClientID, simulator.DefaultClientSecret,
		simulator.ContosoTenantID, simulator.FabrikamTenantID, simulator.UnconsentedTenantID)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
