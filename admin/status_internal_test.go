package admin

import (
	"fmt"
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

func TestStatusOrder(t *testing.T) {
	tests := []struct {
		n        int
		notReady []int
		shown    int
		want     []int
	}{
		{0, nil, 3, nil},
		{3, []int{1}, 3, []int{0, 1, 2}},          // all fit: in order
		{5, []int{1, 4}, 3, []int{1, 4, 0}},       // not ready first
		{6, []int{0, 2, 3, 5}, 3, []int{0, 2, 3}}, // more not ready than shown
		{6, nil, 2, []int{0, 1}},                  // all ready
		{6, []int{5}, 4, []int{5, 0, 1, 2}},       // skips the not-ready one
		{6, []int{0, 1, 2, 3, 4, 5}, 6, []int{0, 1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		var got []int
		for i := range statusOrder(tt.n, tt.notReady, tt.shown) {
			got = append(got, i)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("statusOrder(%d, %v, %d) = %v, want %v", tt.n, tt.notReady, tt.shown, got, tt.want)
		}
	}
}
