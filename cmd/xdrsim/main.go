// Command xdrsim runs xdrproxy's simulator on its own: a fake Microsoft
// Entra ID and Defender XDR API over HTTPS on loopback, for users' own CI.
package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/xdrproxy/xdrproxy/simulator"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are xdrsim's flags.
type options struct {
	addr, caFile, certFile string
	benchTenants           int
}

// parseFlags parses args. flag.ErrHelp means -h or --help was given.
func parseFlags(args []string) (options, *flag.FlagSet, error) {
	var o options
	fs := flag.NewFlagSet("xdrsim", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the caller reports the error, in one line
	fs.Usage = func() {}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8443", "`host:port` to listen on (loopback only is recommended; its certificate names localhost, 127.0.0.1 and ::1)")
	fs.StringVar(&o.caFile, "ca-file", filepath.Join(os.TempDir(), "xdrsim-ca.pem"), "where to write the CA certificate clients must trust")
	fs.StringVar(&o.certFile, "client-certificate", "", "a PEM `file` whose certificate is registered on the application, for certificate credentials")
	fs.IntVar(&o.benchTenants, "bench-tenants", 0, "also create this many consented tenants, GUIDs %08x-0000-4000-8000-000000000000 from 1 (scale benchmarks)")
	if err := fs.Parse(args); err != nil {
		return o, fs, err
	}
	if fs.NArg() > 0 {
		return o, fs, fmt.Errorf("unexpected argument %q (xdrsim takes flags only)", fs.Arg(0))
	}
	return o, fs, nil
}

// run is xdrsim with args, until SIGINT or SIGTERM; it returns the exit
// status: 0, 1 for a start-up error, 2 for wrong usage.
func run(args []string, stdout, stderr io.Writer) int {
	o, fs, err := parseFlags(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, "Usage: xdrsim [flags]\n\n"+
			"Serve a simulated Microsoft Entra ID and Defender XDR API over HTTPS,\n"+
			"for trying xdrproxy or your own tools in CI. It reads no environment\n"+
			"variables.\n\nFlags:\n")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "xdrsim: %v; run 'xdrsim -h'\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, o, stdout); err != nil {
		fmt.Fprintln(stderr, "xdrsim:", err)
		return 1
	}
	return 0
}

// displayURL is the URL to show for a simulator listening at listenURL:
// on all interfaces (0.0.0.0 or ::) it is https://127.0.0.1:PORT, which
// can be pasted and which the simulator's certificate names, and all is
// true.
func displayURL(listenURL string) (shown string, all bool) {
	u, err := url.Parse(listenURL)
	if err != nil {
		return listenURL, false
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsUnspecified() {
		return listenURL, false
	}
	u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	return u.String(), true
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

// serve runs the simulator o describes until ctx is done, after
// printing how to use it on stdout.
func serve(ctx context.Context, o options, stdout io.Writer) error {
	sim := &simulator.Server{}
	if o.benchTenants > 0 {
		sim.Tenants = append(simulator.DemoTenants(), simulator.BenchTenants(o.benchTenants)...)
	}
	if o.certFile != "" {
		data, err := os.ReadFile(o.certFile)
		if err != nil {
			return err
		}
		cert, err := firstCertificate(data)
		if err != nil {
			return fmt.Errorf("-client-certificate %s: %w", o.certFile, err)
		}
		sim.ClientCertificate = cert
	}
	if err := sim.Start(o.addr); err != nil {
		return err
	}
	defer sim.Close()
	ca, err := sim.CACertPEM()
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.caFile, ca, 0o644); err != nil {
		return fmt.Errorf("writing CA certificate: %w", err)
	}
	u, all := displayURL(sim.URL())
	where := ""
	if all {
		where = " (listening on all interfaces)"
	}
	fmt.Fprintf(stdout, `xdrsim: simulated Entra ID and Defender XDR API at %[1]s%[8]s
CA certificate: %[2]s

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
`, u, o.caFile, simulator.DefaultClientID, simulator.DefaultClientSecret,
		simulator.ContosoTenantID, simulator.FabrikamTenantID, simulator.UnconsentedTenantID, where)
	<-ctx.Done()
	return nil
}
