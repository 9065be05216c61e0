package pagelinks

import (
	"errors"
	"io"
)

// chunkSize is how much a Reader reads from its source at a time.
const chunkSize = 32 << 10

// maxEmptyReads is how many reads in a row may return nothing and no error
// before a Reader gives up with io.ErrNoProgress, as bufio.Reader does.
const maxEmptyReads = 100

var errInvalidRead = errors.New("pagelinks: source returned an invalid count from Read")

// Reader rewrites the paging links of the JSON body it reads from its
// source, as the package comment says. It holds at most one chunk of the
// source's output, its rewritten form and one link of up to MaxLink bytes,
// whatever the size of the body, and returns a chunk's bytes as soon as
// the source delivered it, except a link value whose closing quote has not
// come yet. A Reader is not safe for concurrent use.
type Reader struct {
	src io.Reader
	s   *scanner
	buf []byte // the source's last chunk
	out []byte // its rewritten form; out[off:] is not yet returned
	off int
	err error // the source's error, returned once out is drained
}

// NewReader returns a Reader that reads src and rewrites its links
// following the first of rules that matches each.
func NewReader(src io.Reader, rules ...Rule) *Reader {
	return Compile(rules...).NewReader(src)
}

// NewReader returns a Reader that reads src and rewrites its links
// following the first of rs that matches each.
func (rs *Rules) NewReader(src io.Reader) *Reader {
	return &Reader{src: src, s: rs.newScanner(), buf: make([]byte, chunkSize)}
}

// Read reads the rewritten body into p. At the source's end, or at its
// error, a link value still open is written as it came, and then the
// source's error is returned.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for empty := 0; r.off == len(r.out); {
		if r.err != nil {
			return 0, r.err
		}
		if empty == maxEmptyReads {
			return 0, io.ErrNoProgress
		}
		if r.fill() == 0 {
			empty++
		} else {
			empty = 0
		}
	}
	n := copy(p, r.out[r.off:])
	r.off += n
	return n, nil
}

// fill reads the next chunk from the source and rewrites it into r.out,
// returning how many bytes it read.
func (r *Reader) fill() int {
	n, err := r.src.Read(r.buf)
	if n < 0 || n > len(r.buf) {
		n, err = 0, errInvalidRead
	}
	r.out, r.off = r.s.process(r.out[:0], r.buf[:n]), 0
	if err != nil {
		r.out = r.s.finish(r.out)
		r.err = err
	}
	return n
}

// Rewritten returns how many links the Reader has rewritten so far.
func (r *Reader) Rewritten() int {
	return r.s.rewritten
}

// Rewrite appends to dst the body src with its links rewritten following
// rules, exactly as a Reader would write it, and returns the extended
// buffer. dst and src must not overlap.
func Rewrite(dst, src []byte, rules ...Rule) []byte {
	return Compile(rules...).Rewrite(dst, src)
}

// Rewrite appends to dst the body src with its links rewritten following
// rs, exactly as a Reader would write it, and returns the extended
// buffer. dst and src must not overlap.
func (rs *Rules) Rewrite(dst, src []byte) []byte {
	s := borrowScanner(rs)
	defer returnScanner(s)
	return s.finish(s.process(dst, src))
}

var _ io.Reader = (*Reader)(nil)
