package proxy

import (
	"bytes"
	"io"
	"testing"
)

// TestHeldBodySizes: every length up to smallBody gets a buffer of at
// least its size, from the smallest class that fits, and reads back what
// was written into it.
func TestHeldBodySizes(t *testing.T) {
	for _, n := range []int{0, 1, 1023, 1024, 1025, 4096, 20000, smallBody - 1, smallBody} {
		b := borrowHeldBody(n)
		if len(b.raw) != n || cap(b.raw) < n || cap(b.raw) >= 2*max(n, 1<<minHeldClass) || cap(b.out) < n {
			t.Errorf("length %d: raw %d (cap %d), out cap %d", n, len(b.raw), cap(b.raw), cap(b.out))
		}
		want := bytes.Repeat([]byte{'x'}, n)
		copy(b.raw, want)
		b.serve(b.raw)
		if got, _ := io.ReadAll(b); !bytes.Equal(got, want) {
			t.Errorf("length %d: read %d bytes", n, len(got))
		}
		b.Close()
	}
}
