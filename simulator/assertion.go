package simulator

import (
	"bytes"
	"crypto"
	"crypto/sha1" // #nosec G505 -- x5t is SHA-1 by definition (RFC 7515 §4.1.7)
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtBearer is the client_assertion_type of a JWT client assertion.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// DefaultFederatedAudience is the audience Entra ID expects in a federated
// assertion when the federated identity credential names none.
const DefaultFederatedAudience = "api://AzureADTokenExchange"

// FederatedCredential is one federated identity credential of the
// application: a trust in tokens that an outside issuer (a Kubernetes
// cluster, GitHub Actions) gives one subject, which the application may
// then present as its client assertion.
type FederatedCredential struct {
	// Issuer must equal the assertion's iss claim exactly.
	Issuer string
	// Subject must equal the assertion's sub claim exactly.
	Subject string
	// Audience must be one of the assertion's aud values. Empty means
	// DefaultFederatedAudience.
	Audience string
	// Key verifies the assertion's signature: an *rsa.PublicKey or an
	// *ecdsa.PublicKey. Nil means no assertion verifies.
	Key crypto.PublicKey
}

func (c FederatedCredential) audience() string {
	if c.Audience == "" {
		return DefaultFederatedAudience
	}
	return c.Audience
}

// checkClientAssertion authenticates the application by its
// client_assertion, as Entra ID does: an assertion whose header names a
// certificate (x5t, x5t#S256, x5c) is checked against ClientCertificate,
// any other against FederatedCredentials. It returns nil when the
// assertion is good.
func (s *Server) checkClientAssertion(r *http.Request, clientID, assertion string) *entraRefusal {
	unverified, _, err := jwt.NewParser().ParseUnverified(assertion, jwt.MapClaims{})
	if err != nil {
		return invalidClient(700027, "Client assertion failed signature validation.")
	}
	switch typ := r.PostForm.Get("client_assertion_type"); typ {
	case jwtBearer:
	case "":
		return missingParameter("client_assertion_type")
	default:
		return &entraRefusal{http.StatusBadRequest, "invalid_request", 900144, fmt.Sprintf("The value '%s' of 'client_assertion_type' is not supported; use '%s'.", typ, jwtBearer)}
	}
	h := unverified.Header
	if h["x5t"] != nil || h["x5t#S256"] != nil || h["x5c"] != nil {
		return s.checkCertificateAssertion(r, clientID, assertion, h)
	}
	return s.checkFederatedAssertion(assertion, unverified.Claims.(jwt.MapClaims))
}

// checkCertificateAssertion checks an assertion signed with the
// application's certificate: the certificate it names must be the
// registered one, the signature (RS256 or PS256) must verify, iss and sub
// must be the client ID, aud the tenant's token endpoint, and the time
// must be within nbf and exp.
func (s *Server) checkCertificateAssertion(r *http.Request, clientID, assertion string, h map[string]any) *entraRefusal {
	cert := s.ClientCertificate
	var sha1Print, sha256Print []byte
	var leaf *x509.Certificate
	unregistered := cert == nil
	if v, ok := h["x5t"]; ok {
		sha1Print = decodeB64(v)
		unregistered = unregistered || len(sha1Print) == 0 || !bytes.Equal(sha1Print, sha1Sum(cert))
	}
	if v, ok := h["x5t#S256"]; ok {
		sha256Print = decodeB64(v)
		unregistered = unregistered || len(sha256Print) == 0 || !bytes.Equal(sha256Print, sha256Sum(cert))
	}
	if v, ok := h["x5c"].([]any); ok && len(v) > 0 {
		if der := decodeB64(v[0]); der != nil {
			leaf, _ = x509.ParseCertificate(der)
		}
		unregistered = unregistered || leaf == nil || !bytes.Equal(leaf.Raw, cert.Raw)
	} else if _, ok := h["x5c"]; ok {
		unregistered = true
	}
	// The thumbprint Entra ID quotes back is the one the client used.
	var presented string
	switch {
	case sha1Print != nil:
		presented = fmt.Sprintf("%X", sha1Print)
	case sha256Print != nil:
		presented = fmt.Sprintf("%X", sha256Print)
	case leaf != nil:
		presented = fmt.Sprintf("%X", sha1Sum(leaf))
	}
	if unregistered {
		return invalidClient(700027, "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/%s']",
			presented, clientID, applicationObjectID(clientID))
	}
	const keyTime = "01/02/2006 15:04:05"
	found := fmt.Sprintf("Found key 'Start=%s, End=%s, Thumbprint=%X'", cert.NotBefore.UTC().Format(keyTime), cert.NotAfter.UTC().Format(keyTime), sha1Sum(cert))
	if now := s.now(); now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return invalidClient(700027, "Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '%s', %s]", presented, found)
	}
	claims, err := verifyAssertionSignature(assertion, cert.PublicKey, "RS256", "PS256")
	if err != nil {
		return invalidClient(700027, "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '%s', %s]", presented, found)
	}
	iss, _ := claims.GetIssuer()
	sub, _ := claims.GetSubject()
	if !strings.EqualFold(iss, clientID) || !strings.EqualFold(sub, clientID) {
		return invalidClient(700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	aud, _ := claims.GetAudience()
	if !slices.ContainsFunc(tokenEndpointAudiences(r), func(want string) bool {
		return slices.ContainsFunc(aud, func(a string) bool { return strings.EqualFold(strings.TrimRight(a, "/"), want) })
	}) {
		return invalidClient(700023, "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	return s.checkAssertionTime(claims)
}

// checkFederatedAssertion checks an assertion against the federated
// identity credentials: issuer and subject must match a credential, the
// audience that credential's, its key must verify the signature, and the
// time must be within nbf and exp.
func (s *Server) checkFederatedAssertion(assertion string, unverified jwt.MapClaims) *entraRefusal {
	iss, _ := unverified.GetIssuer()
	sub, _ := unverified.GetSubject()
	aud, _ := unverified.GetAudience()
	var candidates []FederatedCredential
	for _, c := range s.FederatedCredentials {
		if c.Issuer == iss && c.Subject == sub {
			candidates = append(candidates, c)
		}
	}
	if len(candidates) == 0 {
		return &entraRefusal{http.StatusBadRequest, "invalid_request", 70021, fmt.Sprintf(
			"No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation",
			iss, sub, strings.Join(aud, ","))}
	}
	candidates = slices.DeleteFunc(candidates, func(c FederatedCredential) bool { return !slices.Contains(aud, c.audience()) })
	if len(candidates) == 0 {
		return &entraRefusal{http.StatusBadRequest, "invalid_request", 700212, fmt.Sprintf(
			"No matching federated identity record found for presented assertion audience '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation",
			strings.Join(aud, ","))}
	}
	for _, c := range candidates {
		if c.Key == nil {
			continue
		}
		claims, err := verifyAssertionSignature(assertion, c.Key, "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
		if err == nil {
			return s.checkAssertionTime(claims)
		}
	}
	return invalidClient(700027, "Client assertion failed signature validation.")
}

// verifyAssertionSignature checks that key signed the assertion with one of
// methods and returns its claims, leaving their validation (times,
// issuer, audience) to the caller, who words each refusal as Entra ID does.
func verifyAssertionSignature(assertion string, key any, methods ...string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(assertion, claims,
		func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods(methods),
		jwt.WithoutClaimsValidation(),
	)
	return claims, err
}

// assertionLeeway is how far in the future an assertion's nbf may lie, for
// clocks a little ahead of the simulator's. exp gets none.
const assertionLeeway = 5 * time.Minute

// checkAssertionTime refuses an assertion that is expired, has no exp, or
// is not yet valid, by the simulator's clock.
func (s *Server) checkAssertionTime(claims jwt.MapClaims) *entraRefusal {
	now := s.now()
	exp, _ := claims.GetExpirationTime()
	from, _ := claims.GetNotBefore()
	if from == nil {
		from, _ = claims.GetIssuedAt()
	}
	if exp != nil && now.Before(exp.Time) && (from == nil || !now.Add(assertionLeeway).Before(from.Time)) {
		return nil
	}
	const stamp = "2006-01-02T15:04:05.0000000Z"
	at := func(d *jwt.NumericDate) string {
		if d == nil {
			return time.Unix(0, 0).UTC().Format(stamp)
		}
		return d.UTC().Format(stamp)
	}
	return invalidClient(700024, "Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
		now.UTC().Format(stamp), at(from), at(exp))
}

// tokenEndpointAudiences are the audiences Entra ID accepts in a
// certificate assertion sent to this request's tenant: its v2.0 and v1
// token endpoints and its v2.0 issuer.
func tokenEndpointAudiences(r *http.Request) []string {
	base := baseURL(r) + "/" + r.PathValue("tenant")
	return []string{base + "/oauth2/v2.0/token", base + "/oauth2/token", base + "/v2.0"}
}

// decodeB64 decodes a header value in any base64 alphabet, padded or not:
// RFC 7515 asks for base64url in x5t, MSAL Go sends standard base64.
func decodeB64(v any) []byte {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return nil
}

func sha1Sum(c *x509.Certificate) []byte {
	if c == nil {
		return nil
	}
	sum := sha1.Sum(c.Raw) // #nosec G401 -- the x5t thumbprint
	return sum[:]
}

func sha256Sum(c *x509.Certificate) []byte {
	if c == nil {
		return nil
	}
	sum := sha256.Sum256(c.Raw)
	return sum[:]
}

// applicationObjectID derives a stable object ID for the application
// registration, quoted in some of Entra ID's messages.
func applicationObjectID(clientID string) string {
	return servicePrincipalID("app:" + strings.ToLower(clientID))
}
