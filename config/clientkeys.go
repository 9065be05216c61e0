package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// ClientKey is one line of the client keys file: the SHA-256 of a key and
// the tenants it may use.
type ClientKey struct {
	// Hash is the SHA-256 of the key.
	Hash [sha256.Size]byte
	// AllTenants is true for "*": every configured tenant.
	AllTenants bool
	// Tenants are GUIDs or aliases, in lower case.
	Tenants []string
}

// Fingerprint names the key in logs without revealing it: the first 8 hex
// digits of its hash, as they appear in the keys file.
func (k ClientKey) Fingerprint() string { return hex.EncodeToString(k.Hash[:4]) }

// Allows reports whether the key may use tenant t.
func (k ClientKey) Allows(t Tenant) bool {
	if k.AllTenants {
		return true
	}
	for _, name := range k.Tenants {
		if name == t.ID || (t.Alias != "" && name == t.Alias) {
			return true
		}
	}
	return false
}

// ClientKeys are the inbound keys of XDRPROXY_CLIENT_KEYS_FILE.
type ClientKeys struct {
	keys   []ClientKey
	hashes keyHashes // keys[i].Hash, index for index
}

// Len returns the number of keys.
func (ks *ClientKeys) Len() int {
	if ks == nil {
		return 0
	}
	return len(ks.keys)
}

// Match returns the key whose hash is SHA-256(presented). Every entry is
// compared, in constant time, so the time taken says nothing about which
// entry, if any, matched.
func (ks *ClientKeys) Match(presented string) (ClientKey, bool) {
	if ks == nil {
		return ClientKey{}, false
	}
	found := ks.hashes.find(presented)
	if found < 0 {
		return ClientKey{}, false
	}
	return ks.keys[found], true
}

// All returns the keys, in file order.
func (ks *ClientKeys) All() []ClientKey {
	if ks == nil {
		return nil
	}
	return append([]ClientKey(nil), ks.keys...)
}

// ParseClientKeys parses a client keys file: one client a line,
// `<sha256 hex of the key> <tenant>[,<tenant>…]` or `*` for every
// configured tenant; `#` starts a comment. name is used in errors. The
// file holds hashes only, never keys.
func ParseClientKeys(name string, data []byte) (*ClientKeys, error) {
	ks := &ClientKeys{}
	var bad []string
	hashes := hashReader{}
	for n, line := range entryLines(data) {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			bad = append(bad, fmt.Sprintf("line %d: want \"<sha256 hex> <tenant>[,<tenant>…]\" or \"<sha256 hex> *\"", n))
			continue
		}
		var k ClientKey
		var problem string
		if k.Hash, problem = hashes.read(n, fields[0]); problem != "" {
			bad = append(bad, problem)
			continue
		}
		if fields[1] == "*" {
			k.AllTenants = true
		} else {
			for _, t := range commaList(fields[1]) {
				if t = strings.ToLower(t); IsGUID(t) || IsAlias(t) {
					k.Tenants = append(k.Tenants, t)
				} else {
					bad = append(bad, fmt.Sprintf("line %d: %q is not a tenant GUID or alias", n, t))
				}
			}
			if len(k.Tenants) == 0 && !k.AllTenants {
				bad = append(bad, fmt.Sprintf("line %d: no tenant named", n))
				continue
			}
		}
		ks.keys = append(ks.keys, k)
		ks.hashes = append(ks.hashes, k.Hash)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: %s", name, strings.Join(bad, "; "))
	}
	return ks, nil
}
