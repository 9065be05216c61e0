package seal

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// sealVersion is the first byte of every sealed value: the layout below.
// A new layout takes a new version, and Open refuses versions it does not know.
const sealVersion = 1

// headerSize is the version byte and the key identifier. A sealed value is
//
//	version (1) | key id (4) | nonce (12) | ciphertext | GCM tag (16)
//
// and the header is authenticated with the caller's associated data, so a
// value cannot be relabelled with another version or key.
const headerSize = 1 + keyIDSize

// ErrUnsealable is the error of a value that does not open: sealed with a key
// not in the file, tampered with, truncated, or sealed for other associated
// data. Errors from [Keys.Open] wrap it with the detail; the value is to be
// ignored and replaced, never served.
var ErrUnsealable = errors.New("sealed value does not open")

// Seal encrypts and authenticates plaintext with the first key, bound to
// associated (see [AssociatedData]): only Open with a key of the same file
// (or a later one that still lists it) and the same associated data returns
// plaintext. Each call draws a fresh random nonce.
func (k *Keys) Seal(plaintext, associated []byte) []byte {
	key := k.keys[0]
	header := [headerSize]byte{sealVersion}
	copy(header[1:], key.id[:])
	ad := authenticated(header[:], associated)
	out := make([]byte, headerSize, headerSize+len(plaintext)+key.aead.Overhead())
	copy(out, header[:])
	return key.aead.Seal(out, nil, plaintext, ad)
}

// Open checks and decrypts a value made by Seal with associated. It tries the
// key the value names first, then every other key of the file, so a value
// still opens if two keys share an identifier. Any failure is an error
// wrapping [ErrUnsealable]; Open never panics, whatever sealed holds.
func (k *Keys) Open(sealed, associated []byte) ([]byte, error) {
	if len(sealed) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrUnsealable, len(sealed))
	}
	if v := sealed[0]; v != sealVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrUnsealable, v)
	}
	id := [keyIDSize]byte(sealed[1:headerSize])
	body := sealed[headerSize:]
	if len(body) < k.keys[0].aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes, shorter than nonce and tag", ErrUnsealable, len(sealed))
	}
	ad := authenticated(sealed[:headerSize], associated)
	known := false
	for _, matching := range []bool{true, false} {
		for _, key := range k.keys {
			if (key.id == id) != matching {
				continue
			}
			known = known || matching
			if plain, err := key.aead.Open(nil, nil, body, ad); err == nil {
				return plain, nil
			}
		}
	}
	if !known {
		return nil, fmt.Errorf("%w: sealed with key %x, which is not in the key file", ErrUnsealable, id)
	}
	return nil, fmt.Errorf("%w: authentication failed (tampered, or other associated data)", ErrUnsealable)
}

// authenticated is what GCM authenticates besides the ciphertext: the
// header, then the caller's associated data.
func authenticated(header, associated []byte) []byte {
	ad := make([]byte, 0, len(header)+len(associated))
	ad = append(ad, header...)
	return append(ad, associated...)
}

// tokenPurpose is the first field of the associated data of a token, so that
// a value sealed for another purpose under the same keys never opens as one.
const tokenPurpose = "xdrproxy access token"

// AssociatedData returns the associated data binding a sealed access token to
// the application, tenant and scope it was issued for. Each field is written
// with its length in front, so ("ab", "c") and ("a", "bc") differ.
func AssociatedData(clientID, tenant, scope string) []byte {
	fields := []string{tokenPurpose, clientID, tenant, scope}
	size := 0
	for _, f := range fields {
		size += 4 + len(f)
	}
	ad := make([]byte, 0, size)
	for _, f := range fields {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(f)))
		ad = append(ad, f...)
	}
	return ad
}
