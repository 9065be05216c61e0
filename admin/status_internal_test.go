package admin

import (
	"testing"
	"time"
)

func TestFromNow(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "in 0s"},
		{42 * time.Second, "in 42s"},
		{59*time.Second + 600*time.Millisecond, "in 1m"},
		{42*time.Minute + 59*time.Second, "in 42m"},
		{65 * time.Minute, "in 1h05m"},
		{23*time.Hour + 59*time.Minute, "in 23h59m"},
		{51 * time.Hour, "in 2d03h"},
		{-7 * time.Second, "7s ago"},
		{-90 * time.Minute, "1h30m ago"},
	}
	for _, tt := range tests {
		if got := fromNow(now.Add(tt.d), now); got != tt.want {
			t.Errorf("fromNow(now%+v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
