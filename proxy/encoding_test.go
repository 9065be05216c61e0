package proxy

import "testing"

func TestDecodableEncodings(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"gzip", "gzip", true},
		{"gzip, deflate", "gzip, deflate", true},
		{"GZIP;q=0.5", "GZIP;q=0.5", true},
		{"br, gzip;q=0.8, zstd", "gzip;q=0.8", true},
		{"br", "", false},
		{"identity", "", false},
		{"", "", false},
		{" , ", "", false},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := decodableEncodings(tt.in)
			if ok != tt.ok || ok && got != tt.want { // not ok: the header is dropped
				t.Errorf("decodableEncodings(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
	// Go clients send "gzip" on every request: it costs nothing.
	if n := testing.AllocsPerRun(100, func() { decodableEncodings("gzip, deflate") }); n != 0 {
		t.Errorf("%v allocations for a header that needs no narrowing", n)
	}
}
