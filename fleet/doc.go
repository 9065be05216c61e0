// Package fleet holds the state shared by replicas through Redis: sealed
// tokens, fleet-wide limits.
//
// Replicas that share one Redis (same URL, key prefix and client ID) act as
// one against Microsoft's per (application, tenant) limits. Tokens are put in
// Redis only sealed with AES-256-GCM under keys from
// XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE (see package seal), so
// nothing stored there is a usable credential.
package fleet

import (
	"crypto/sha256"
	"encoding/hex"
)

// clientIDHash names an application in keys without spelling its client
// ID out: the first 8 bytes of its SHA-256, in hex.
func clientIDHash(clientID string) string {
	sum := sha256.Sum256([]byte(clientID))
	return hex.EncodeToString(sum[:8])
}
