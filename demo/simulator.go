package demo

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"

	"github.com/xdrproxy/xdrproxy/simulator"
)

// simulated is the running simulator and what clients need to trust it.
type simulated struct {
	sim    *simulator.Server
	url    *url.URL
	roots  *x509.CertPool // the simulator's CA, which the proxy trusts
	caFile string         // the same CA in a file, for curl
}

// startSimulator starts the simulator on a loopback port and writes its CA
// certificate to a temporary file: curl must trust it to open the consent
// page.
func startSimulator() (*simulated, error) {
	s := &simulated{sim: &simulator.Server{}}
	if err := s.sim.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	var err error
	if s.roots, err = s.sim.CertPool(); err == nil {
		s.url, _ = url.Parse(s.sim.URL())
		s.caFile, err = writeCAFile(s.sim)
	}
	if err != nil {
		s.sim.Close()
		return nil, err
	}
	return s, nil
}

// close removes the CA file and stops the simulator.
func (s *simulated) close() {
	os.Remove(s.caFile)
	s.sim.Close()
}

// writeCAFile writes the simulator's CA certificate to a temporary file and
// returns its path.
func writeCAFile(sim *simulator.Server) (string, error) {
	pem, err := sim.CACertPEM()
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "xdrproxy-demo-ca-*.pem")
	if err != nil {
		return "", fmt.Errorf("writing the simulator's CA certificate: %w", err)
	}
	if _, err := f.Write(pem); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the simulator's CA certificate: %w", err)
	}
	return f.Name(), f.Close()
}
