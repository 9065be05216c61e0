package simulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// FederatedIssuer is an outside token issuer for tests of workload
// identity federation, modelled on a Kubernetes cluster's service-account
// token issuer: it signs short-lived RS256 tokens about a subject (such as
// "system:serviceaccount:NAMESPACE:NAME") that the application presents
// as its client assertion. Register it with Server.FederatedCredentials.
type FederatedIssuer struct {
	// Now is the issuer's clock. Nil means time.Now.
	Now func() time.Time

	url   string
	key   *rsa.PrivateKey
	keyID string
}

// NewFederatedIssuer returns an issuer whose tokens carry issuerURL (an
// https URL, as Entra ID requires) as their iss claim, signed with a new
// RSA key.
func NewFederatedIssuer(issuerURL string) (*FederatedIssuer, error) {
	u, err := url.Parse(issuerURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("simulator: federated issuer %q is not an https URL", issuerURL)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("simulator: generating federated issuer key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &FederatedIssuer{url: issuerURL, key: key, keyID: base64.RawURLEncoding.EncodeToString(sum[:])}, nil
}

// URL returns the issuer URL, the tokens' iss claim.
func (i *FederatedIssuer) URL() string { return i.url }

// Credential returns the federated identity credential that trusts this
// issuer's tokens about subject with the default audience
// (DefaultFederatedAudience). Set Audience on the result to trust another.
func (i *FederatedIssuer) Credential(subject string) FederatedCredential {
	return FederatedCredential{Issuer: i.url, Subject: subject, Key: &i.key.PublicKey}
}

// Sign returns an RS256 token about subject for audience (empty means
// DefaultFederatedAudience), with iss, sub, aud, iat, nbf, exp and jti,
// valid for lifetime from now. A lifetime of zero or less gives a token
// that has already expired (issued an hour before its expiry), for tests
// of expiry.
func (i *FederatedIssuer) Sign(subject, audience string, lifetime time.Duration) (string, error) {
	if audience == "" {
		audience = DefaultFederatedAudience
	}
	now := time.Now()
	if i.Now != nil {
		now = i.Now()
	}
	exp := now.Add(lifetime)
	issued := now
	if lifetime <= 0 {
		issued = exp.Add(-time.Hour)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer:    i.url,
		Subject:   subject,
		Audience:  jwt.ClaimStrings{audience},
		IssuedAt:  jwt.NewNumericDate(issued),
		NotBefore: jwt.NewNumericDate(issued),
		ExpiresAt: jwt.NewNumericDate(exp),
		ID:        uuid.NewString(),
	})
	tok.Header["kid"] = i.keyID
	return tok.SignedString(i.key)
}

// NewClientCertificate makes a self-signed certificate for commonName with
// a new RSA-2048 key, valid from an hour ago for a year, as an application
// certificate credential for tests. It returns the certificate in PEM
// ("CERTIFICATE"), the unencrypted PKCS#8 private key in PEM ("PRIVATE
// KEY"), and the parsed certificate to set as Server.ClientCertificate.
func NewClientCertificate(commonName string) (certPEM, keyPEM []byte, cert *x509.Certificate, err error) {
	if commonName == "" {
		return nil, nil, nil, errors.New("simulator: client certificate needs a common name")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("simulator: generating client certificate key: %w", err)
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("simulator: creating client certificate: %w", err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	return certPEM, keyPEM, cert, nil
}
