package proxy

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestForwardContextHidesToken: the context carrying a request's forward
// record, printed as contexts are in errors and debug output, does not
// show the tenant's token the record holds.
func TestForwardContextHidesToken(t *testing.T) {
	const token = "eyJ0eXAiOiJKV1QifQ.eyJ0aWQiOiJ0In0.c2lnbmF0dXJl"
	c := &forwardContext{Context: context.Background(), f: forward{token: token}}
	if f, ok := c.Value(forwardKey{}).(*forward); !ok || f.token != token {
		t.Fatal("the context does not carry its record")
	}
	for _, format := range []string{"%v", "%+v", "%s"} {
		if got := fmt.Sprintf(format, c); strings.Contains(got, "c2lnbmF0dXJl") {
			t.Errorf("Sprintf(%q) of the context shows the token: %s", format, got)
		}
	}
}
