package interop

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: the
// demo, the front and every client's connections must be stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
