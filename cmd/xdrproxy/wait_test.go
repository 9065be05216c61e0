package main

import "time"

// timeAfter waits ms milliseconds; used only to poll /readyz while the
// warm-up runs.
func timeAfter(ms int) <-chan time.Time { return time.After(time.Duration(ms) * time.Millisecond) }
