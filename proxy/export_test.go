package proxy

import "time"

// SetTokenFormTimeout replaces how long a token form may take to arrive,
// until the returned function restores it.
func SetTokenFormTimeout(d time.Duration) (restore func()) {
	old := tokenFormTimeout
	tokenFormTimeout = d
	return func() { tokenFormTimeout = old }
}
