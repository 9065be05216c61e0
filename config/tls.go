package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// inboundTLS fills the proxy listeners' certificate, key and client CA
// files, checking that each parses and that they go together.
func (e env) inboundTLS(c *Config, p *problems) {
	c.TLSCertFile, c.TLSKeyFile = strings.TrimSpace(e.TLSCertFile), strings.TrimSpace(e.TLSKeyFile)
	switch {
	case c.TLSCertFile == "" && c.TLSKeyFile != "":
		p.add("TLS_CERT_FILE", "is required with XDRPROXY_TLS_KEY_FILE (the certificate that goes with the key)")
	case c.TLSCertFile != "" && c.TLSKeyFile == "":
		p.add("TLS_KEY_FILE", "is required with XDRPROXY_TLS_CERT_FILE (the certificate's private key)")
	case c.TLSCertFile != "":
		if _, err := CheckTLSFiles(c.TLSCertFile, c.TLSKeyFile); err != nil {
			p.addErr(err) // names its variable
		}
	}
	if c.TLSClientCAFile = strings.TrimSpace(e.TLSClientCAFile); c.TLSClientCAFile == "" {
		return
	}
	_, err := readChecked(c.TLSClientCAFile, func(data []byte) error {
		_, err := ParseClientCAs(data)
		return err
	})
	if err != nil {
		p.add("TLS_CLIENT_CA_FILE", "%v", err)
	} else if c.TLSCertFile == "" {
		p.add("TLS_CLIENT_CA_FILE", "needs XDRPROXY_TLS_CERT_FILE and XDRPROXY_TLS_KEY_FILE: client certificates are asked for in the TLS handshake")
	}
}

// CheckTLSFiles loads the proxy listeners' certificate and key, as
// XDRPROXY_TLS_CERT_FILE and XDRPROXY_TLS_KEY_FILE name them.
// The error names the variable at fault.
func CheckTLSFiles(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := readFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("%s_TLS_CERT_FILE: %w", Prefix, err)
	}
	keyPEM, err := readFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s_TLS_KEY_FILE: %w", Prefix, err)
	}
	pair, err := ParseTLSPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s_TLS_CERT_FILE: %s with %s_TLS_KEY_FILE %s: %w", Prefix, certFile, Prefix, keyFile, err)
	}
	return pair, nil
}

// ParseTLSPair parses a PEM certificate chain and its private key. The
// error never quotes the key.
func ParseTLSPair(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	if block, _ := pem.Decode(keyPEM); block != nil && isEncryptedKey(block) {
		return nil, errors.New("the private key is encrypted; store it unencrypted (openssl pkey -in key.pem -out key-plain.pem) and protect the file instead")
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("not a matching PEM certificate and private key: %s", tlsPairProblem(err))
	}
	return &pair, nil
}

// isEncryptedKey reports whether a PEM key block is encrypted, as PKCS#8
// ("ENCRYPTED PRIVATE KEY") or with OpenSSL's legacy Proc-Type header.
func isEncryptedKey(block *pem.Block) bool {
	return strings.Contains(block.Type, "ENCRYPTED") || block.Headers["Proc-Type"] != ""
}

// tlsPairProblem keeps crypto/tls's reason, which names no key material.
func tlsPairProblem(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "tls: ")
	return msg
}

// ParseClientCAs parses the PEM certificates of XDRPROXY_TLS_CLIENT_CA_FILE.
func ParseClientCAs(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New("holds no PEM certificate (want the CA that signs the clients' certificates)")
	}
	return pool, nil
}
