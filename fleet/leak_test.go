package fleet

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// limiter's batch workers, a token store's waits, go-redis's pool.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
