package placeholder

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

const tenant = "aaaaaaaa-0000-4000-8000-000000000001"

// newClock returns a test clock set to a fixed time.
func newClock() *testutil.Clock {
	return testutil.NewClock(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
}

func keys(t *testing.T) map[string]crypto.Signer {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.Signer{"ES256": ec, "RS256": rsaKey, "EdDSA": ed}
}

func sampleClaims(clk *testutil.Clock) Claims {
	return Claims{
		TenantID:     tenant,
		Audience:     []string{"https://api.security.microsoft.com"},
		Roles:        []string{"Incident.Read.All", "AdvancedHunting.Read.All"},
		AppID:        "11111111-2222-3333-4444-555555555555",
		ExpiresAt:    clk.Now().Add(59*time.Minute + 500*time.Millisecond),
		ClientKey:    sha256.Sum256([]byte("client-key")),
		HasClientKey: true,
	}
}

func TestMintAndVerifyEachKeyType(t *testing.T) {
	for alg, key := range keys(t) {
		t.Run(alg, func(t *testing.T) {
			clk := newClock()
			s, err := NewSigner(key, clk.Now)
			if err != nil {
				t.Fatal(err)
			}
			if s.Algorithm() != alg {
				t.Errorf("Algorithm() = %s, want %s", s.Algorithm(), alg)
			}
			in := sampleClaims(clk)
			tok, err := s.Mint(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			want := in
			want.ExpiresAt = in.ExpiresAt.Truncate(time.Second) // never later than the real token
			want.IssuedAt = clk.Now()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}

			// What a tool decoding it sees: Entra ID's claim names, aud a
			// string, the placeholder issuer, the key's kid.
			header, payload := testutil.DecodeJWT(t, tok)
			if header["alg"] != alg || header["kid"] != s.KeyID() {
				t.Errorf("header = %v", header)
			}
			if payload["iss"] != Issuer || payload["tid"] != tenant || payload["aud"] != "https://api.security.microsoft.com" ||
				payload["exp"] != float64(want.ExpiresAt.Unix()) || fmt.Sprint(payload["roles"]) != "[Incident.Read.All AdvancedHunting.Read.All]" {
				t.Errorf("payload = %v", payload)
			}

			// The published key set verifies it.
			if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return publicFromJWKS(t, s.JWKS()), nil }, jwt.WithTimeFunc(clk.Now)); err != nil {
				t.Errorf("the JWKS does not verify the token: %v", err)
			}
		})
	}
}

func TestExpiryHasNoLeeway(t *testing.T) {
	clk := newClock()
	s, err := NewSigner(nil, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	in := sampleClaims(clk)
	in.ExpiresAt = clk.Now().Add(10 * time.Second)
	tok, err := s.Mint(in)
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(in.ExpiresAt.Add(-time.Nanosecond))
	if _, err := s.Verify(tok); err != nil {
		t.Fatalf("a nanosecond before exp: %v", err)
	}
	// Now cached: the cache must not outlive exp either.
	clk.Set(in.ExpiresAt)
	if _, err := s.Verify(tok); err == nil || errors.Is(err, ErrNotPlaceholder) {
		t.Errorf("at exp (cached): err = %v, want expired", err)
	}
	// And uncached, on another replica sharing the key.
	s2, _ := NewSigner(s.key, clk.Now)
	if _, err := s2.Verify(tok); err == nil || errors.Is(err, ErrNotPlaceholder) {
		t.Errorf("at exp (uncached): err = %v, want expired", err)
	}

	clk.Set(newClock().Now())
	in.ExpiresAt = clk.Now().Add(999 * time.Millisecond) // rounds down to now
	if _, err := s.Mint(in); err == nil {
		t.Error("Mint of a token that expires within the second succeeded")
	}
}

func TestReplicasSharingAKeyAcceptEachOthersTokens(t *testing.T) {
	clk := newClock()
	key := keys(t)["ES256"]
	a, _ := NewSigner(key, clk.Now)
	b, _ := NewSigner(key, clk.Now)
	if a.KeyID() != b.KeyID() {
		t.Fatalf("kid differs: %s %s", a.KeyID(), b.KeyID())
	}
	tok, err := a.Mint(sampleClaims(clk))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(tok); err != nil {
		t.Errorf("replica refused: %v", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	clk := newClock()
	s, _ := NewSigner(nil, clk.Now)
	other, _ := NewSigner(nil, clk.Now)
	good, err := s.Mint(sampleClaims(clk))
	if err != nil {
		t.Fatal(err)
	}
	fromOther, _ := other.Mint(sampleClaims(clk))
	h, p, sig := split(good)

	// Same kid as ours, but signed by the other key.
	forgedClaims := wireClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: Issuer, ExpiresAt: jwt.NewNumericDate(clk.Now().Add(time.Hour))}, TenantID: tenant}
	forged := jwt.NewWithClaims(jwt.SigningMethodES256, forgedClaims)
	forged.Header["kid"] = s.KeyID()
	forgedTok, _ := forged.SignedString(other.key)
	// The public key as an HMAC secret: the classic algorithm confusion.
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, forgedClaims)
	hs.Header["kid"] = s.KeyID()
	pubJSON, _ := json.Marshal(s.JWKS())
	hsTok, _ := hs.SignedString(pubJSON)
	none := jwt.NewWithClaims(jwt.SigningMethodNone, forgedClaims)
	none.Header["kid"] = s.KeyID()
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	noExp := jwt.NewWithClaims(jwt.SigningMethodES256, wireClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: Issuer}, TenantID: tenant})
	noExp.Header["kid"] = s.KeyID()
	noExpTok, _ := noExp.SignedString(s.key)
	noTenant := jwt.NewWithClaims(jwt.SigningMethodES256, wireClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: Issuer, ExpiresAt: jwt.NewNumericDate(clk.Now().Add(time.Hour))}})
	noTenant.Header["kid"] = s.KeyID()
	noTenantTok, _ := noTenant.SignedString(s.key)

	tampered := sampleClaims(clk)
	tampered.TenantID = "bbbbbbbb-0000-4000-8000-000000000002"
	_, p2, _ := split(mustMint(t, s, tampered))

	for name, tok := range map[string]string{
		"another proxy's key":        fromOther,
		"our kid, another key":       forgedTok,
		"HS256 with the public key":  hsTok,
		"alg none":                   noneTok,
		"no exp":                     noExpTok,
		"no tenant":                  noTenantTok,
		"payload swapped":            h + "." + p2 + "." + sig,
		"signature cut":              h + "." + p + ".",
		"signature of another token": h + "." + p + "." + strings.Split(fromOther, ".")[2],
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Verify(tok); err == nil || errors.Is(err, ErrNotPlaceholder) {
				t.Errorf("err = %v, want the placeholder refused", err)
			}
		})
	}

	for name, tok := range map[string]string{
		"a client key":    "k3y-abcdef",
		"an Entra token":  entraLikeToken(),
		"empty":           "",
		"two parts":       "a.b",
		"payload not b64": "a.!!!.c",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Verify(tok); !errors.Is(err, ErrNotPlaceholder) {
				t.Errorf("err = %v, want ErrNotPlaceholder", err)
			}
		})
	}
}

func TestKeyIDIsTheRFC7638Thumbprint(t *testing.T) {
	key := keys(t)["ES256"].(*ecdsa.PrivateKey)
	s, _ := NewSigner(key, nil)
	pub, _ := key.PublicKey.Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	canonical := fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, b64(pub[1:33]), b64(pub[33:]))
	sum := sha256.Sum256([]byte(canonical))
	if want := b64(sum[:]); s.KeyID() != want {
		t.Errorf("KeyID() = %s, want %s", s.KeyID(), want)
	}
}

func FuzzVerify(f *testing.F) {
	clk := newClock()
	s, err := NewSigner(nil, clk.Now)
	if err != nil {
		f.Fatal(err)
	}
	want := sampleClaims(clk)
	good, err := s.Mint(want)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(entraLikeToken())
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok)
		if err != nil {
			return
		}
		// Only our own token, perhaps spelt differently, may verify.
		if c.TenantID != want.TenantID || c.ClientKey != want.ClientKey || !c.ExpiresAt.Equal(want.ExpiresAt.Truncate(time.Second)) {
			t.Fatalf("a token we never minted verified: %+v", c)
		}
	})
}

func mustMint(t *testing.T, s *Signer, c Claims) string {
	t.Helper()
	tok, err := s.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func split(tok string) (string, string, string) {
	p := strings.Split(tok, ".")
	return p[0], p[1], p[2]
}

// publicFromJWKS rebuilds the public key from the key set, as a tool would.
func publicFromJWKS(t *testing.T, set map[string]any) any {
	t.Helper()
	k := set["keys"].([]map[string]string)[0]
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	switch k["kty"] {
	case "EC":
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, dec(k["x"])...), dec(k["y"])...))
		if err != nil {
			t.Fatal(err)
		}
		return pub
	case "RSA":
		return &rsa.PublicKey{N: new(big.Int).SetBytes(dec(k["n"])), E: int(new(big.Int).SetBytes(dec(k["e"])).Int64())}
	case "OKP":
		return ed25519.PublicKey(dec(k["x"]))
	}
	t.Fatalf("unknown kty %s", k["kty"])
	return nil
}

func entraLikeToken() string {
	b64 := base64.RawURLEncoding.EncodeToString
	return b64([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + b64([]byte(`{"iss":"https://sts.windows.net/`+tenant+`/","tid":"`+tenant+`"}`)) + ".c2ln"
}

// BenchmarkVerify is the cost of checking a placeholder: the first time
// (a signature check per key type) and from the verified cache after.
func BenchmarkVerify(b *testing.B) {
	clk := newClock()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, key := range []crypto.Signer{ec, rsaKey, ed} {
		s, _ := NewSigner(key, clk.Now)
		tok, err := s.Mint(sampleClaims(clk))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.Algorithm()+"/first", func(b *testing.B) {
			for b.Loop() {
				s.verified.Clear()
				if _, err := s.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.Algorithm()+"/cached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestOneSpellingPerToken(t *testing.T) {
	clk := newClock()
	s, _ := NewSigner(nil, clk.Now)
	tok := mustMint(t, s, sampleClaims(clk))
	// The signature's last base64 character carries 4 unused bits: a
	// lenient decoder reads other spellings as the same token.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	variant := tok[:len(tok)-1] + string(alphabet[last^1])
	if _, err := s.Verify(variant); err == nil {
		t.Error("a second spelling of the token verified")
	}
	if _, err := s.Verify(tok); err != nil {
		t.Errorf("the token itself: %v", err)
	}
}

func TestEvictKeepsUnexpired(t *testing.T) {
	clk := newClock()
	s, _ := NewSigner(nil, clk.Now)
	s.verified.Store("expired", Claims{ExpiresAt: clk.Now()})
	s.verified.Store("valid", Claims{ExpiresAt: clk.Now().Add(time.Minute)})
	s.evict(clk.Now())
	if _, ok := s.verified.Load("expired"); ok {
		t.Error("an expired token was kept")
	}
	if _, ok := s.verified.Load("valid"); !ok {
		t.Error("a valid token was dropped while there was room")
	}
}

func TestBindDependsOnTheSigningKey(t *testing.T) {
	key := keys(t)["ES256"]
	a, _ := NewSigner(key, nil)
	b, _ := NewSigner(key, nil)
	other, _ := NewSigner(nil, nil)
	h := sha256.Sum256([]byte("client-key"))
	if a.Bind(h) != b.Bind(h) {
		t.Error("replicas sharing a key bind differently")
	}
	if a.Bind(h) == other.Bind(h) || a.Bind(h) == h {
		t.Error("the binding does not depend on the signing key")
	}
}
