package config

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// CredentialKind says how the application proves its identity to Entra ID.
type CredentialKind int

// The credential kinds of the contract.
const (
	// NoCredential is the zero value: nothing configured.
	NoCredential CredentialKind = iota
	// ClientSecret is XDRPROXY_CLIENT_SECRET.
	ClientSecret
	// ClientSecretFile is XDRPROXY_CLIENT_SECRET_FILE.
	ClientSecretFile
	// ClientCertificate is XDRPROXY_CLIENT_CERTIFICATE_FILE.
	ClientCertificate
	// FederatedToken is XDRPROXY_FEDERATED_TOKEN_FILE.
	FederatedToken
)

// Credential is the application's one configured credential.
type Credential struct {
	// Kind says which variable configured it.
	Kind CredentialKind
	// Secret holds the client secret for ClientSecret and ClientSecretFile,
	// and the PEM (certificate and private key) for ClientCertificate.
	Secret Secret
	// File is the path of the file the credential came from, if any.
	File string
	// From names the variable that configured it when that is not the
	// usual one (AZURE_FEDERATED_TOKEN_FILE). Empty means Variable's
	// default.
	From string
	// SendX5C sends the certificate chain with each assertion (subject
	// name and issuer authentication); certificate credentials only.
	SendX5C bool
}

// Variable returns the name of the variable that configured the credential.
func (c Credential) Variable() string {
	if c.From != "" {
		return c.From
	}
	switch c.Kind {
	case ClientSecret:
		return Prefix + "_CLIENT_SECRET"
	case ClientSecretFile:
		return Prefix + "_CLIENT_SECRET_FILE"
	case ClientCertificate:
		return Prefix + "_CLIENT_CERTIFICATE_FILE"
	case FederatedToken:
		return Prefix + "_FEDERATED_TOKEN_FILE"
	}
	return ""
}

// credential picks the one credential configured and reads its file. Its
// error names every variable involved.
func (e env) credential() (Credential, error) {
	set := e.credentials()
	switch len(set) {
	case 0:
		return Credential{}, fmt.Errorf("%s_CLIENT_SECRET: no credential is configured: set exactly one of %[1]s_CLIENT_SECRET, %[1]s_CLIENT_SECRET_FILE, %[1]s_CLIENT_CERTIFICATE_FILE or %[1]s_FEDERATED_TOKEN_FILE", Prefix)
	case 1:
		return set[0].load()
	}
	names := make([]string, len(set))
	for i, c := range set {
		names[i] = c.Variable()
	}
	return Credential{}, fmt.Errorf("%s: several credentials are configured; set exactly one", strings.Join(names, ", "))
}

// credentials lists every credential the variables configure, files not
// yet read.
func (e env) credentials() []Credential {
	var set []Credential
	e.ClientSecret = strings.TrimSpace(e.ClientSecret) // a secret never has surrounding white space
	if e.ClientSecret != "" {
		set = append(set, Credential{Kind: ClientSecret, Secret: Secret(e.ClientSecret)})
	}
	if e.ClientSecretFile != "" {
		set = append(set, Credential{Kind: ClientSecretFile, File: e.ClientSecretFile})
	}
	if e.ClientCertificateFile != "" {
		set = append(set, Credential{Kind: ClientCertificate, File: e.ClientCertificateFile})
	}
	fromAzure := e.federatedVar != Prefix+"_FEDERATED_TOKEN_FILE"
	// The workload-identity webhook sets AZURE_FEDERATED_TOKEN_FILE in
	// every labelled pod; it only counts when no XDRPROXY_ credential is set.
	if e.FederatedTokenFile != "" && !(fromAzure && len(set) > 0) {
		cred := Credential{Kind: FederatedToken, File: e.FederatedTokenFile}
		if fromAzure {
			cred.From = e.federatedVar
		}
		set = append(set, cred)
	}
	return set
}

// load reads the credential's file, if it has one, and checks its
// content.
func (c Credential) load() (Credential, error) {
	switch c.Kind {
	case ClientSecret:
		if err := checkSecret(c.Secret.Reveal()); err != nil {
			return Credential{}, fmt.Errorf("%s: %v", c.Variable(), err)
		}
	case ClientSecretFile:
		data, err := readFile(c.File)
		if err != nil {
			return Credential{}, fmt.Errorf("%s: %v", c.Variable(), err)
		}
		secret, err := SecretFromFile(data)
		if err != nil {
			// The refused value is kept for redactSecrets to remove from
			// the other problems.
			refused := Credential{Secret: Secret(strings.TrimSpace(string(data)))}
			return refused, fmt.Errorf("%s: %s %v", c.Variable(), c.File, err)
		}
		c.Secret = secret
	case ClientCertificate:
		data, err := readChecked(c.File, CheckCertificatePEM)
		if err != nil {
			return Credential{}, fmt.Errorf("%s: %v", c.Variable(), err)
		}
		c.Secret = Secret(data) // the PEM holds the private key
		if c.SendX5C, err = sendX5C(); err != nil {
			return Credential{}, err
		}
	case FederatedToken:
		data, err := readFile(c.File)
		if err != nil {
			return Credential{}, fmt.Errorf("%s: %v (the Kubernetes service-account token projected for workload identity)", c.Variable(), err)
		}
		if strings.TrimSpace(string(data)) == "" {
			return Credential{}, fmt.Errorf("%s: %s is empty", c.Variable(), c.File)
		}
	}
	return c, nil
}

// sendX5C reads XDRPROXY_CLIENT_CERTIFICATE_SEND_X5C, false when unset.
// Not in the contract's table: the option to send the x5c chain for
// subject-name/issuer authentication. The error names the variable.
func sendX5C() (bool, error) {
	v := os.Getenv(Prefix + "_CLIENT_CERTIFICATE_SEND_X5C")
	if strings.TrimSpace(v) == "" {
		return false, nil
	}
	send, err := parseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s_CLIENT_CERTIFICATE_SEND_X5C: %v", Prefix, err)
	}
	return send, nil
}

// checkSendX5C reports a bad XDRPROXY_CLIENT_CERTIFICATE_SEND_X5C whatever
// the credential, so that a typo is never silently kept.
func checkSendX5C(c *Config, p *problems) {
	if _, err := sendX5C(); err != nil && c.Credential.Kind != ClientCertificate {
		p.addErr(err)
	}
}

// CheckCertificatePEM checks that a certificate credential file holds at
// least one certificate and an unencrypted RSA private key that belongs
// to one of them, as Entra ID and MSAL Go require.
func CheckCertificatePEM(data []byte) error {
	var certs []*x509.Certificate
	var key any
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if _, legacy := block.Headers["DEK-Info"]; legacy || block.Type == "ENCRYPTED PRIVATE KEY" {
			return errors.New("the private key is encrypted; MSAL Go takes unencrypted keys only: decrypt the key (openssl pkey -in encrypted-key.pem -out key.pem), put it in one file with the certificate (cat cert.pem key.pem > xdrproxy.pem), and protect that file with permissions or a Kubernetes Secret")
		}
		switch block.Type {
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return fmt.Errorf("a CERTIFICATE block does not parse: %v", err)
			}
			certs = append(certs, cert)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return fmt.Errorf("the PRIVATE KEY block does not parse: %v", err)
			}
			key = k
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return fmt.Errorf("the RSA PRIVATE KEY block does not parse: %v", err)
			}
			key = k
		case "EC PRIVATE KEY":
			return errors.New("the private key is an EC key; Entra ID certificate credentials need an RSA key")
		}
	}
	if len(certs) == 0 {
		return errors.New("no CERTIFICATE block found (want PEM with the certificate and its private key)")
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if key == nil {
		return errors.New("no private key found (want a PRIVATE KEY or RSA PRIVATE KEY block with the certificate)")
	}
	if !ok {
		return errors.New("the private key is not RSA; Entra ID certificate credentials need an RSA key")
	}
	for _, cert := range certs {
		if pub, ok := cert.PublicKey.(*rsa.PublicKey); ok && pub.N.Cmp(rsaKey.N) == 0 && pub.E == rsaKey.E {
			return nil
		}
	}
	return errors.New("the private key belongs to none of the certificates in the file")
}
