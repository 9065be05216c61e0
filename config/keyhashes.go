package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
)

// keyHashes are the SHA-256 hashes of bearer keys, as a keys file lists
// them: the client keys' and the admin keys' alike.
type keyHashes [][sha256.Size]byte

// find returns the index of the hash of presented, or -1. Every entry is
// compared, in constant time, so the time taken says nothing about which
// entry, if any, matched.
func (hs keyHashes) find(presented string) int {
	if presented == "" {
		return -1
	}
	sum := sha256.Sum256([]byte(presented))
	found := -1
	for i := range hs {
		if subtle.ConstantTimeCompare(sum[:], hs[i][:]) == 1 {
			found = i
		}
	}
	return found
}

// hashReader reads the hash field of each line of a keys file,
// remembering the line each hash was on so that a key listed twice is
// refused.
type hashReader map[[sha256.Size]byte]int

// read returns the hash in field, on line n, or what is wrong with it.
// The field is never quoted: a key pasted instead of its hash must not
// be printed.
func (seen hashReader) read(n int, field string) ([sha256.Size]byte, string) {
	var h [sha256.Size]byte
	raw, err := hex.DecodeString(field)
	if err != nil || len(raw) != sha256.Size {
		return h, fmt.Sprintf("line %d: the first field is not a SHA-256 in hex (64 hex digits); store the hash of the key (printf %%s KEY | sha256sum), never the key", n)
	}
	copy(h[:], raw)
	if prev, dup := seen[h]; dup {
		return h, fmt.Sprintf("line %d: the same key is listed on line %d", n, prev)
	}
	seen[h] = n
	return h, ""
}
