package testutil

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// DecodeJWT returns the header and the payload of the compact JWT tok,
// without verifying its signature. The test fails if tok does not have
// three parts or a part does not decode to a JSON object.
func DecodeJWT(t testing.TB, tok string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	for _, part := range []struct {
		b64 string
		out *map[string]any
	}{{parts[0], &header}, {parts[1], &payload}} {
		raw, err := base64.RawURLEncoding.DecodeString(part.b64)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, part.out); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload
}
