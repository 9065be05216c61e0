package seal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// tokenAD is the associated data of the tests' token.
var tokenAD = AssociatedData("11111111-2222-3333-4444-555555555555", "contoso.onmicrosoft.com", "https://api.security.microsoft.com/.default")

// token stands in for a 2 KB access token.
var token = bytes.Repeat([]byte("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9."), 2048/37+1)[:2048]

// assertUnsealable fails unless Open refuses sealed with ErrUnsealable.
func assertUnsealable(t *testing.T, keys *Keys, sealed, ad []byte) {
	t.Helper()
	plain, err := keys.Open(sealed, ad)
	if !errors.Is(err, ErrUnsealable) {
		t.Fatalf("Open = (%d bytes, %v), want ErrUnsealable", len(plain), err)
	}
	if plain != nil {
		t.Fatalf("Open returned %d bytes with its error", len(plain))
	}
}

func TestSealRoundTrip(t *testing.T) {
	keys := mustParse(t, keyFile(newKey(t)))
	for _, plain := range [][]byte{token, []byte("x"), {}} {
		sealed := keys.Seal(plain, tokenAD)
		// A short plaintext may occur in random bytes by chance ("x" in
		// about one seal in nine); a 2 KB token cannot.
		if len(plain) >= 16 && bytes.Contains(sealed, plain) {
			t.Fatal("sealed value contains the plaintext")
		}
		got, err := keys.Open(sealed, tokenAD)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("Open returned %d bytes, want the %d sealed", len(got), len(plain))
		}
	}
	if a, b := keys.Seal(token, tokenAD), keys.Seal(token, tokenAD); bytes.Equal(a, b) {
		t.Error("two seals of the same token are equal: the nonce is not fresh")
	}
}

func TestSealRotation(t *testing.T) {
	oldKey, newKeyBytes := newKey(t), newKey(t)
	before := mustParse(t, keyFile(oldKey))
	during := mustParse(t, keyFile(newKeyBytes, oldKey))
	after := mustParse(t, keyFile(newKeyBytes))

	sealedOld := before.Seal(token, tokenAD)
	if got, err := during.Open(sealedOld, tokenAD); err != nil || !bytes.Equal(got, token) {
		t.Fatalf("a value sealed with the old key does not open once a new key is prepended: %v", err)
	}
	sealedNew := during.Seal(token, tokenAD)
	if got, err := after.Open(sealedNew, tokenAD); err != nil || !bytes.Equal(got, token) {
		t.Fatalf("the new key does not seal during rotation: %v", err)
	}
	assertUnsealable(t, before, sealedNew, tokenAD)
	assertUnsealable(t, after, sealedOld, tokenAD)
	_, err := before.Open(sealedNew, tokenAD)
	assertNoKeyText(t, err.Error(), string(keyFile(oldKey, newKeyBytes)))
}

func TestOpenTriesEveryKeyWithTheNamedID(t *testing.T) {
	keys := mustParse(t, keyFile(newKey(t), newKey(t)))
	// Two different keys may share an identifier: make them do so.
	keys.keys[1].id = keys.keys[0].id
	sealed := (&Keys{keys: keys.keys[1:]}).Seal(token, tokenAD)
	if got, err := keys.Open(sealed, tokenAD); err != nil || !bytes.Equal(got, token) {
		t.Fatalf("Open stopped at the first key with the identifier: %v", err)
	}
}

func TestOpenRejectsRelabelledKeyID(t *testing.T) {
	first, second := newKey(t), newKey(t)
	keys := mustParse(t, keyFile(first, second))
	sealed := mustParse(t, keyFile(second)).Seal(token, tokenAD)
	copy(sealed[1:headerSize], keys.keys[0].id[:]) // claim the first key
	assertUnsealable(t, keys, sealed, tokenAD)
}

func TestOpenRejectsTamperingAtEveryByte(t *testing.T) {
	keys := mustParse(t, keyFile(newKey(t)))
	sealed := keys.Seal([]byte("a short token, so every byte is tried"), tokenAD)
	for i := range sealed {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			tampered := bytes.Clone(sealed)
			tampered[i] ^= flip
			assertUnsealable(t, keys, tampered, tokenAD)
		}
	}
	assertUnsealable(t, keys, append(bytes.Clone(sealed), 0), tokenAD)
}

func TestOpenRejectsOtherAssociatedData(t *testing.T) {
	keys := mustParse(t, keyFile(newKey(t)))
	const client, tenant, scope = "client", "tenant-a", "scope-x"
	sealed := keys.Seal(token, AssociatedData(client, tenant, scope))
	tests := map[string][]byte{
		"other tenant":       AssociatedData(client, "tenant-b", scope),
		"other client":       AssociatedData("client2", tenant, scope),
		"other scope":        AssociatedData(client, tenant, "scope-y"),
		"tenant/scope swap":  AssociatedData(client, scope, tenant),
		"client/tenant swap": AssociatedData(tenant, client, scope),
		"no associated data": nil,
	}
	for name, ad := range tests {
		t.Run(name, func(t *testing.T) { assertUnsealable(t, keys, sealed, ad) })
	}
	t.Run("concatenation", func(t *testing.T) {
		ab := keys.Seal(token, AssociatedData("client", "ab", "c"))
		assertUnsealable(t, keys, ab, AssociatedData("client", "a", "bc"))
		assertUnsealable(t, keys, ab, AssociatedData("clienta", "b", "c"))
		if bytes.Equal(AssociatedData("", "ab", "c"), AssociatedData("", "a", "bc")) {
			t.Error("AssociatedData is ambiguous")
		}
	})
}

func TestOpenRejectsEveryTruncation(t *testing.T) {
	keys := mustParse(t, keyFile(newKey(t)))
	sealed := keys.Seal(token, tokenAD)
	for n := range len(sealed) {
		assertUnsealable(t, keys, sealed[:n], tokenAD)
		assertUnsealable(t, keys, sealed[len(sealed)-n:], tokenAD)
	}
	assertUnsealable(t, keys, nil, tokenAD)
}

func TestOpenRejectsUnknownVersion(t *testing.T) {
	keys := mustParse(t, keyFile(newKey(t)))
	sealed := keys.Seal(token, tokenAD)
	sealed[0] = sealVersion + 1
	_, err := keys.Open(sealed, tokenAD)
	if !errors.Is(err, ErrUnsealable) || !bytes.Contains([]byte(err.Error()), []byte("version 2")) {
		t.Fatalf("Open = %v, want ErrUnsealable naming version 2", err)
	}
}

// fuzzSeeds are values sealed once with fuzzKey for their associated data.
// They are constants because every fuzzing process runs the target's setup
// itself, and Seal's random nonces would differ between processes.
var fuzzSeeds = []struct{ sealedHex, ad string }{
	{"014bb06f8e378a1fd019fdd973cd2f7871afad7e6abd317753bb6d98ec73d98ac42d9c44929a", string(tokenAD)},
	{"014bb06f8e19c72c967c2b91ba1d798bf700e51f2b984e8444096684b1422a26835c38f05c5f", ""},
	{"014bb06f8e2797990df7cbd59632455ac956882f6ef50a10dd8d93443449bf34ca2cfe65eea9", string(AssociatedData("a", "b", "c"))},
}

// fuzzKey is the key of fuzzSeeds.
var fuzzKey = bytes.Repeat([]byte{7}, keySize)

func FuzzOpen(f *testing.F) {
	keys := mustParse(f, keyFile(fuzzKey))
	valid := map[string]string{} // sealed → associated data it opens with
	for _, s := range fuzzSeeds {
		sealed, err := hex.DecodeString(s.sealedHex)
		if err != nil {
			f.Fatal(err)
		}
		if plain, err := keys.Open(sealed, []byte(s.ad)); err != nil || string(plain) != "token" {
			f.Fatalf("seed does not open: %v", err)
		}
		valid[string(sealed)] = s.ad
		f.Add(sealed, []byte(s.ad))
		f.Add(sealed[:len(sealed)-1], []byte(s.ad))
	}
	f.Add([]byte{}, []byte{})
	f.Add([]byte{sealVersion}, tokenAD)
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		plain, err := keys.Open(sealed, ad)
		if err != nil {
			if !errors.Is(err, ErrUnsealable) || plain != nil {
				t.Fatalf("Open = (%q, %v)", plain, err)
			}
			return
		}
		if want, ok := valid[string(sealed)]; !ok || want != string(ad) {
			t.Fatalf("Open opened a value Seal never made: %x", sealed)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	keys := mustParse(b, keyFile(newKey(b)))
	b.SetBytes(int64(len(token)))
	b.ReportAllocs()
	for b.Loop() {
		keys.Seal(token, tokenAD)
	}
}

func BenchmarkOpen(b *testing.B) {
	// The sealing key is second, as during a rotation: Open goes to it by its id.
	newest, older := newKey(b), newKey(b)
	keys := mustParse(b, keyFile(newest, older))
	sealed := mustParse(b, keyFile(older)).Seal(token, tokenAD)
	b.SetBytes(int64(len(token)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := keys.Open(sealed, tokenAD); err != nil {
			b.Fatal(err)
		}
	}
}
