// Package placeholder mints and verifies the placeholder tokens that
// xdrproxy's token emulation gives legacy tools: JWTs signed with the
// proxy's own key that carry a real token's tid, aud, roles and exp, so a
// tool that decodes one sees the truth, but that no API accepts. Only the
// proxy that holds the key (or a replica sharing it) takes them, and swaps
// them for the real token.
package placeholder

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss claim of every placeholder token. No Entra ID issuer
// looks like it, so an API handed a placeholder by mistake refuses it.
const Issuer = "urn:xdrproxy:placeholder"

// ErrNotPlaceholder is returned by Verify for a token that does not carry
// the placeholder issuer: some other bearer credential.
var ErrNotPlaceholder = errors.New("not a placeholder token")

// Claims are what a placeholder says.
type Claims struct {
	// TenantID is the tenant GUID (tid) the placeholder stands for.
	TenantID string
	// Audience is the real token's aud.
	Audience []string
	// Roles is the real token's roles claim.
	Roles []string
	// AppID is the real token's appid: the application's client ID.
	AppID string
	// ExpiresAt is when the placeholder expires, never later than the
	// real token it mirrors.
	ExpiresAt time.Time
	// IssuedAt is when it was minted; set by Mint.
	IssuedAt time.Time
	// ClientKey binds the placeholder to the client key it was obtained
	// with: Signer.Bind of the key's SHA-256, so that removing the key
	// revokes it while the token reveals nothing a key could be guessed
	// from. Meaningful when HasClientKey.
	ClientKey [sha256.Size]byte
	// HasClientKey is false when the proxy authenticates no clients.
	HasClientKey bool
}

// Signer mints placeholders with one key and verifies them. It is safe
// for concurrent use.
type Signer struct {
	key    crypto.Signer
	public crypto.PublicKey
	method jwt.SigningMethod
	keyID  string
	jwk    map[string]string
	now    func() time.Time
	bind   []byte // the HMAC key of Bind, derived from the private key

	// verified maps a token to its claims once its signature verified;
	// lock-free reads, as every request with a placeholder looks here.
	verified sync.Map
	count    atomic.Int64 // entries in verified, about
	evicting atomic.Bool  // one eviction at a time
}

// maxVerified bounds the verified-token cache; it is emptied when full.
const maxVerified = 8192

// NewSigner returns a Signer for key: an EC P-256 (ES256), RSA (RS256) or
// Ed25519 (EdDSA) private key. A nil key means a new P-256 key, which
// lasts as long as the process. now is the clock; nil means time.Now.
func NewSigner(key crypto.Signer, now func() time.Time) (*Signer, error) {
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("placeholder: generating a key: %w", err)
		}
		key = k
	}
	if now == nil {
		now = time.Now
	}
	s := &Signer{key: key, public: key.Public(), now: now}
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("placeholder: an EC key must be on P-256")
		}
		s.method = jwt.SigningMethodES256
		pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			return nil, fmt.Errorf("placeholder: %w", err)
		}
		s.jwk = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(pub[1:33]), "y": b64(pub[33:])}
	case *rsa.PrivateKey:
		s.method = jwt.SigningMethodRS256
		s.jwk = map[string]string{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case ed25519.PrivateKey:
		s.method = jwt.SigningMethodEdDSA
		s.jwk = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(k.Public().(ed25519.PublicKey))}
	default:
		return nil, fmt.Errorf("placeholder: a %T is not an EC P-256, RSA or Ed25519 key", key)
	}
	// RFC 7638 thumbprint: the required members, sorted, no spaces;
	// encoding/json sorts map keys.
	canonical, err := json.Marshal(s.jwk)
	if err != nil {
		return nil, fmt.Errorf("placeholder: %w", err)
	}
	sum := sha256.Sum256(canonical)
	s.keyID = b64(sum[:])
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("placeholder: %w", err)
	}
	bind := sha256.Sum256(append([]byte("xdrproxy placeholder client-key binding v1\x00"), der...))
	s.bind = bind[:]
	return s, nil
}

// Bind returns what a placeholder carries for the client key whose
// SHA-256 is keyHash: an HMAC under a secret derived from the signing
// key, so replicas sharing the key agree, and a tool that logs its token
// leaks nothing a weak key could be guessed from.
func (s *Signer) Bind(keyHash [sha256.Size]byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, s.bind)
	m.Write(keyHash[:])
	var out [sha256.Size]byte
	copy(out[:], m.Sum(nil))
	return out
}

// KeyID is the key's RFC 7638 thumbprint, the kid of its tokens. Replicas
// sharing XDRPROXY_PLACEHOLDER_KEY_FILE report the same.
func (s *Signer) KeyID() string { return s.keyID }

// Algorithm is the JWS algorithm of the key: ES256, RS256 or EdDSA.
func (s *Signer) Algorithm() string { return s.method.Alg() }

// JWKS returns the public key as a JSON Web Key Set, for tools that verify
// what they are given.
func (s *Signer) JWKS() map[string]any {
	key := map[string]string{"use": "sig", "alg": s.method.Alg(), "kid": s.keyID}
	for k, v := range s.jwk {
		key[k] = v
	}
	return map[string]any{"keys": []map[string]string{key}}
}

// wireClaims is a placeholder's payload. aud is a string when there is
// one audience, as in Entra ID's tokens.
type wireClaims struct {
	jwt.RegisteredClaims
	Aud       any      `json:"aud,omitempty"`
	TenantID  string   `json:"tid"`
	Roles     []string `json:"roles,omitempty"`
	AppID     string   `json:"appid,omitempty"`
	ClientKey string   `json:"xdrproxy_client_key,omitempty"`
}

// Mint returns a placeholder for c, issued now. Its exp is c.ExpiresAt
// rounded down to the second, and it must lie in the future.
func (s *Signer) Mint(c Claims) (string, error) {
	now := s.now()
	exp := c.ExpiresAt.Truncate(time.Second)
	if !exp.After(now) {
		return "", errors.New("placeholder: the real token has expired")
	}
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	w := wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   c.AppID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        hex.EncodeToString(jti[:]),
		},
		TenantID: c.TenantID,
		Roles:    c.Roles,
		AppID:    c.AppID,
	}
	switch len(c.Audience) {
	case 0:
	case 1:
		w.Aud = c.Audience[0]
	default:
		w.Aud = c.Audience
	}
	if c.HasClientKey {
		w.ClientKey = hex.EncodeToString(c.ClientKey[:])
	}
	tok := jwt.NewWithClaims(s.method, w)
	tok.Header["kid"] = s.keyID
	return tok.SignedString(s.key)
}

// Verify checks a bearer token. It returns ErrNotPlaceholder when the
// token does not carry the placeholder issuer, and another error when it
// does but was not signed with this key, is malformed, or has expired —
// with no clock-skew leeway.
func (s *Signer) Verify(token string) (Claims, error) {
	now := s.now()
	if v, ok := s.verified.Load(token); ok {
		c := v.(Claims)
		if !now.Before(c.ExpiresAt) {
			return Claims{}, errors.New("the placeholder token has expired")
		}
		return c, nil
	}
	if !hasIssuer(token) {
		return Claims{}, ErrNotPlaceholder
	}
	var w wireClaims
	_, err := jwt.ParseWithClaims(token, &w,
		func(t *jwt.Token) (any, error) {
			if kid, _ := t.Header["kid"].(string); kid != s.keyID {
				return nil, errors.New("signed by another key")
			}
			return s.public, nil
		},
		jwt.WithValidMethods([]string{s.method.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(0),
		jwt.WithStrictDecoding(), // one spelling per token: no base64 variants
	)
	if err != nil {
		return Claims{}, fmt.Errorf("the placeholder token is not valid: %w", err)
	}
	c := Claims{TenantID: w.TenantID, Audience: audience(w.Aud), Roles: w.Roles, AppID: w.AppID, ExpiresAt: w.ExpiresAt.Time}
	if w.IssuedAt != nil {
		c.IssuedAt = w.IssuedAt.Time
	}
	if w.ClientKey != "" {
		raw, err := hex.DecodeString(w.ClientKey)
		if err != nil || len(raw) != sha256.Size {
			return Claims{}, errors.New("the placeholder token's client key claim is malformed")
		}
		copy(c.ClientKey[:], raw)
		c.HasClientKey = true
	}
	if c.TenantID == "" {
		return Claims{}, errors.New("the placeholder token names no tenant")
	}
	if s.count.Add(1) > maxVerified && s.evicting.CompareAndSwap(false, true) {
		s.evict(now)
		s.evicting.Store(false)
	}
	s.verified.Store(token, c)
	return c, nil
}

// evict drops expired tokens from the verified cache, and everything
// when that is not enough: whoever mints many placeholders can cost the
// others one signature check each, never more.
func (s *Signer) evict(now time.Time) {
	var kept int64
	s.verified.Range(func(k, v any) bool {
		if !now.Before(v.(Claims).ExpiresAt) {
			s.verified.Delete(k)
		} else {
			kept++
		}
		return true
	})
	if kept > maxVerified/2 {
		s.verified.Clear()
		kept = 0
	}
	s.count.Store(kept + 1)
}

// hasIssuer reports whether token's payload carries the placeholder
// issuer, without verifying anything.
func hasIssuer(token string) bool {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok || len(payload) > 16<<10 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	var iss struct {
		Iss string `json:"iss"`
	}
	return json.Unmarshal(raw, &iss) == nil && iss.Iss == Issuer
}

// audience reads an aud claim: one string or a list of them.
func audience(aud any) []string {
	switch a := aud.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, v := range a {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
