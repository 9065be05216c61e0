package config

import (
	"fmt"
	"strings"
)

// AdminKeys are the admin listener's bearer keys, from
// XDRPROXY_ADMIN_KEYS_FILE, held as SHA-256 hashes. They are a set of
// their own: a client key is not an admin key unless the admin keys file
// lists it too.
type AdminKeys struct {
	hashes keyHashes
}

// Len returns the number of keys.
func (ks *AdminKeys) Len() int {
	if ks == nil {
		return 0
	}
	return len(ks.hashes)
}

// Match reports whether SHA-256(presented) is one of the keys, comparing
// every entry in constant time as ClientKeys.Match does.
func (ks *AdminKeys) Match(presented string) bool {
	return ks != nil && ks.hashes.find(presented) >= 0
}

// ParseAdminKeys parses an admin keys file: the SHA-256 of one key a line,
// in hex; `#` starts a comment. name is used in errors. The file holds
// hashes only, never keys.
func ParseAdminKeys(name string, data []byte) (*AdminKeys, error) {
	ks := &AdminKeys{}
	var bad []string
	hashes := hashReader{}
	for n, line := range entryLines(data) {
		fields := strings.Fields(line)
		if len(fields) != 1 {
			bad = append(bad, fmt.Sprintf("line %d: want one SHA-256 in hex a line and nothing after it (sha256sum prints the hash first: keep only that; admin keys name no tenants)", n))
			continue
		}
		h, problem := hashes.read(n, fields[0])
		if problem != "" {
			bad = append(bad, problem)
			continue
		}
		ks.hashes = append(ks.hashes, h)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: %s", name, strings.Join(bad, "; "))
	}
	return ks, nil
}
