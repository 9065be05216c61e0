package pagelinks

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReaderStreams(t *testing.T) {
	src := &chunkReader{chunks: [][]byte{
		[]byte(`{"value":[{"id":1}],`),
		[]byte(`"@odata.nextLink":"https://graph.microsoft.com/v1.`),
		[]byte(`0/users?$skip=1"}`),
	}}
	r := NewReader(src, graph)
	steps := []struct {
		want  string // what one Read returns
		reads int    // how many times the source has been read by then
	}{
		{`{"value":[{"id":1}],`, 1},
		{`"@odata.nextLink":"`, 2}, // the link is held until its quote
		{graphTo + `v1.0/users?$skip=1"}`, 3},
	}
	p := make([]byte, 4096)
	for i, step := range steps {
		n, err := r.Read(p)
		if err != nil || string(p[:n]) != step.want || src.reads != step.reads {
			t.Fatalf("Read %d = %q, %v after %d source reads, want %q after %d",
				i+1, p[:n], err, src.reads, step.want, step.reads)
		}
	}
	if n, err := r.Read(p); n != 0 || err != io.EOF {
		t.Fatalf("last Read = %d, %v, want 0, EOF", n, err)
	}
}

func TestReaderSmallReads(t *testing.T) {
	in := []byte(rewriteCases[0].in)
	r := NewReader(bytes.NewReader(in), defender)
	var got []byte
	p := make([]byte, 3)
	for {
		n, err := r.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != rewriteCases[0].want {
		t.Fatalf("got %s\nwant %s", got, rewriteCases[0].want)
	}
}

func TestLinkLength(t *testing.T) {
	link := func(rawLen int) string {
		from := "https://graph.microsoft.com/"
		return from + strings.Repeat("a", rawLen-len(from))
	}
	for _, tc := range []struct {
		name    string
		rawLen  int
		changed int
	}{
		{"MaxLink bytes rewritten", MaxLink, 1},
		{"one more passed through", MaxLink + 1, 0},
		{"a megabyte passed through", 1 << 20, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := link(tc.rawLen)
			in := []byte(`{"@odata.nextLink":"` + l + `","x@odata.nextLink":"https://graph.microsoft.com/b"}`)
			want := []byte(`{"@odata.nextLink":"` + l + `","x@odata.nextLink":"` + graphTo + `b"}`)
			if tc.changed == 1 {
				want = bytes.Replace(want, []byte(graph.From+"a"), []byte(graph.To+"a"), 1)
			}
			if got := Rewrite(nil, in, graph); !bytes.Equal(got, want) {
				t.Fatalf("Rewrite: got %d bytes, want %d", len(got), len(want))
			}
			for _, src := range []io.Reader{bytes.NewReader(in), iotest.OneByteReader(bytes.NewReader(in))} {
				r := NewReader(src, graph)
				got, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("Reader: got %d bytes, %v, want %d", len(got), err, len(want))
				}
				if r.Rewritten() != tc.changed+1 {
					t.Fatalf("Rewritten() = %d, want %d", r.Rewritten(), tc.changed+1)
				}
				if c := cap(r.s.link); c > 2*MaxLink {
					t.Fatalf("link buffer grew to %d bytes", c)
				}
			}
		})
	}
}

func TestDepthCap(t *testing.T) {
	const obj = `{"@odata.nextLink":"https://graph.microsoft.com/a"}`
	nest := func(depth int, inner string) string {
		return strings.Repeat("[", depth) + inner + strings.Repeat("]", depth)
	}
	rewritten := `{"@odata.nextLink":"` + graphTo + `a"}`
	for _, tc := range []struct{ name, in, want string }{
		{"at MaxDepth", nest(MaxDepth-1, obj), nest(MaxDepth-1, rewritten)},
		{"past MaxDepth", nest(MaxDepth, obj), nest(MaxDepth, obj)},
		{"the rest passes", nest(MaxDepth+1, "") + obj, nest(MaxDepth+1, "") + obj},
		{"closed in time", nest(MaxDepth, "") + obj, nest(MaxDepth, "") + rewritten},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Rewrite(nil, []byte(tc.in), graph)); got != tc.want {
				t.Fatalf("Rewrite changed %d bytes into %d, want %d", len(tc.in), len(got), len(tc.want))
			}
			got, err := io.ReadAll(NewReader(iotest.HalfReader(strings.NewReader(tc.in)), graph))
			if err != nil || string(got) != tc.want {
				t.Fatalf("Reader: %d bytes, %v, want %d", len(got), err, len(tc.want))
			}
		})
	}
}

// repeatReader returns its unit over and over, n times (forever if n < 0).
type repeatReader struct {
	unit []byte
	off  int
	n    int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 && r.n != 0 {
		k := copy(p, r.unit[r.off:])
		p, total, r.off = p[k:], total+k, r.off+k
		if r.off == len(r.unit) {
			r.off, r.n = 0, r.n-1
		}
	}
	if total == 0 && r.n == 0 {
		return 0, io.EOF
	}
	return total, nil
}

func TestReaderBoundedMemory(t *testing.T) {
	unit := []byte(`{"id":12345,"title":"Suspicious sign-in","@odata.nextLink":"https://graph.microsoft.com/v1.0/x?$skip=1"}` + "\n")
	const units = 200_000 // 21 MB
	r := NewReader(&repeatReader{unit: unit, n: units}, graph)
	n, err := io.Copy(io.Discard, struct{ io.Reader }{r})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(units * (len(unit) + len(graph.To) - len(graph.From))); n != want {
		t.Fatalf("read %d bytes, want %d", n, want)
	}
	if r.Rewritten() != units {
		t.Fatalf("Rewritten() = %d, want %d", r.Rewritten(), units)
	}
	if c := cap(r.out); c > 4*chunkSize {
		t.Fatalf("output buffer grew to %d bytes for %d-byte chunks", c, chunkSize)
	}
}

func TestReaderAllocatesNothingPerRead(t *testing.T) {
	unit := []byte(`{"value":[{"id":"a\"b","n":[1,2.5e3,true,null]}],"@odata.deltaLink":"https://graph.microsoft.com/v1.0/d?t=1"}`)
	r := NewReader(&repeatReader{unit: unit, n: -1}, graph)
	p := make([]byte, 1000)
	for range 1000 { // grow the buffers once
		if _, err := r.Read(p); err != nil {
			t.Fatal(err)
		}
	}
	if a := testing.AllocsPerRun(1000, func() { _, _ = r.Read(p) }); a != 0 {
		t.Fatalf("%v allocations per Read, want 0", a)
	}
}

var errBoom = errors.New("boom")

// stuckReader returns nothing, and no error, forever.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

// badReader returns a count no io.Reader may return.
type badReader struct{}

func (badReader) Read([]byte) (int, error) { return -1, nil }

func TestReaderErrors(t *testing.T) {
	const open = `{"@odata.nextLink":"https://graph.microsoft.com/v1`
	for _, tc := range []struct {
		name    string
		src     io.Reader
		want    string
		wantErr error
	}{
		{"source error keeps the open link", io.MultiReader(strings.NewReader(open), iotest.ErrReader(errBoom)), open, errBoom},
		{"a source that never progresses", stuckReader{}, "", io.ErrNoProgress},
		{"an invalid count", badReader{}, "", errInvalidRead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := io.ReadAll(NewReader(tc.src, graph))
			if string(got) != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %q, %v, want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestEscapeHeavyStrings feeds megabyte names and values made of escapes:
// a scan that searched the rest of the chunk at every escape would take
// minutes here, not milliseconds.
func TestEscapeHeavyStrings(t *testing.T) {
	const n = 1 << 19
	for _, tc := range []struct{ name, in string }{
		{"name of escapes", `{"` + strings.Repeat(`\n`, n) + `@odata.nextLink":"https://graph.microsoft.com/a"}`},
		{"name of escaped quotes", `{"` + strings.Repeat(`\"`, n) + `@odata.nextLink":"https://graph.microsoft.com/a"}`},
		{"name of \\u escapes", `{"` + strings.Repeat(`\u0041`, n) + `@odata.nextLink":"https://graph.microsoft.com/a"}`},
		{"value of escaped quotes", `{"a":"` + strings.Repeat(`\"`, n) + `","@odata.nextLink":"https://graph.microsoft.com/a"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := strings.Replace(tc.in, graph.From, graph.To, 1)
			if got := string(Rewrite(nil, []byte(tc.in), graph)); got != want {
				t.Fatalf("Rewrite: %d bytes, want %d", len(got), len(want))
			}
			got, err := io.ReadAll(NewReader(strings.NewReader(tc.in), graph))
			if err != nil || string(got) != want {
				t.Fatalf("Reader: %d bytes, %v, want %d", len(got), err, len(want))
			}
		})
	}
}
