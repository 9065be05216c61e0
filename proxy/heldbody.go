package proxy

import (
	"bytes"
	"math/bits"
	"sync"
)

// A small answer is read whole to rewrite its paging links (paging.go).
// Its buffers are lent by a pool and given back when ReverseProxy closes
// the body, so that an answer costs no allocation for them.

// minHeldClass is the smallest held buffer's size, as a power of two
// (1 KiB); the largest holds smallBody.
const minHeldClass = 10

// heldClasses are the buffer sizes lent: 1 KiB to 32 KiB, by powers of
// two.
const heldClasses = 16 - minHeldClass

// heldBody is an answer held in memory: raw as the upstream sent it and,
// when its links were rewritten, out; the body read is one of them.
type heldBody struct {
	bytes.Reader
	raw, out []byte
	class    int // the pool it returns to
	returned bool
}

var heldBodies [heldClasses]sync.Pool

// borrowHeldBody returns a heldBody whose raw is n bytes long, n at most
// smallBody, and out empty with room for n bytes and a few links more.
func borrowHeldBody(n int) *heldBody {
	class := 0
	if n > 1<<minHeldClass {
		class = bits.Len(uint(n-1)) - minHeldClass
	}
	b, _ := heldBodies[class].Get().(*heldBody)
	if b == nil {
		size := 1 << (class + minHeldClass)
		b = &heldBody{raw: make([]byte, size), out: make([]byte, 0, size+256), class: class}
	}
	b.raw, b.out, b.returned = b.raw[:n], b.out[:0], false
	return b
}

// serve makes the body read p, which is raw or out.
func (b *heldBody) serve(p []byte) { b.Reset(p) }

// Close gives the buffers back; the body must not be read after it.
// ReverseProxy closes a response body once, which Close relies on: a
// second Close after another answer borrowed the buffers would give them
// back while in use.
func (b *heldBody) Close() error {
	if b.returned {
		return nil
	}
	b.returned = true
	b.Reset(nil)
	if cap(b.out) > 2<<(b.class+minHeldClass) {
		b.out = make([]byte, 0, cap(b.raw)+256) // grown by many links: not kept
	}
	heldBodies[b.class].Put(b)
	return nil
}
