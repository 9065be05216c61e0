package config

import (
	"testing"
)

func TestClash(t *testing.T) {
	for _, tc := range []struct {
		addr, taken string
		clash       bool
	}{
		{"127.0.0.1:8080", "127.0.0.1:8080", true},
		{"localhost:8080", "127.0.0.1:8080", true},
		{"[::ffff:127.0.0.1]:8080", "127.0.0.1:8080", true},
		{"[0:0:0:0:0:0:0:1]:8080", "[::1]:8080", true},
		{"127.0.0.1:018080", "127.0.0.1:18080", true},
		{":http", "127.0.0.1:80", true},
		{"0.0.0.0:8080", "127.0.0.1:8080", true},
		{"[::]:8080", "[::1]:8080", true},
		{"[::ffff:0.0.0.0]:8080", "10.0.0.1:8080", true},
		{":8080", "[::1]:8080", true},
		{"[::1]:8080", "127.0.0.1:8080", false}, // two families: both bind
		{"127.0.0.2:8080", "127.0.0.1:8080", false},
		{"127.0.0.1:8081", "127.0.0.1:8080", false},
		{"127.0.0.1:0", "127.0.0.1:0", false},
	} {
		if got := clash(tc.addr, []string{tc.taken}) != ""; got != tc.clash {
			t.Errorf("clash(%s, %s) = %v, want %v", tc.addr, tc.taken, got, tc.clash)
		}
	}
}
