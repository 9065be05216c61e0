package config

import (
	"fmt"
	"os"
	"strings"
)

// CredentialKind says how the application proves its identity to Entra ID.
type CredentialKind int

// The credential kinds of the contract. This version implements the client
// secret, given directly or in a file; the others are recognised so that
// configuring one is a clear start-up error.
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

// Secret is a string that never prints: fmt, zap and JSON all see
// "[redacted]". Use Reveal where the value itself is needed.
type Secret string

// String returns "[redacted]".
func (Secret) String() string { return "[redacted]" }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return "[redacted]" }

// MarshalText returns "[redacted]", for JSON and text encoders.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Format prints "[redacted]" for every verb, so that even a wrong verb
// (%d, %x) cannot print the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[redacted]")) }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// Credential is the application's one configured credential.
type Credential struct {
	// Kind says which variable configured it.
	Kind CredentialKind
	// Secret holds the client secret for ClientSecret and ClientSecretFile.
	Secret Secret
	// File is the path of the file the credential came from, if any.
	File string
	// From names the variable that configured it when that is not the
	// usual one (AZURE_FEDERATED_TOKEN_FILE). Empty means Variable's
	// default.
	From string
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

// credential picks the one credential configured. Its error names every
// variable involved.
func (e env) credential() (Credential, error) {
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
	switch len(set) {
	case 0:
		return Credential{}, fmt.Errorf("%s_CLIENT_SECRET: no credential is configured: set %[1]s_CLIENT_SECRET or %[1]s_CLIENT_SECRET_FILE (this version supports client secrets only)", Prefix)
	case 1:
	default:
		names := make([]string, len(set))
		for i, c := range set {
			names[i] = c.Variable()
		}
		return Credential{}, fmt.Errorf("%s: several credentials are configured; set exactly one", strings.Join(names, ", "))
	}
	c := set[0]
	switch c.Kind {
	case ClientSecretFile:
		data, err := os.ReadFile(c.File)
		if err != nil {
			return Credential{}, fmt.Errorf("%s: %v", c.Variable(), err)
		}
		secret := strings.TrimSpace(string(data))
		if secret == "" {
			return Credential{}, fmt.Errorf("%s: %s is empty", c.Variable(), c.File)
		}
		c.Secret = Secret(secret)
	case ClientCertificate, FederatedToken:
		return Credential{}, fmt.Errorf("%s: this version of xdrproxy supports client secrets only (%s_CLIENT_SECRET or %[2]s_CLIENT_SECRET_FILE)", c.Variable(), Prefix)
	}
	return c, nil
}
