package pagelinks

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// fuzzRules are the rules FuzzRewrite picks from: the table's, and short
// ones the fuzzer can stumble on.
var fuzzRules = []Rule{
	graph,
	defender,
	{From: "https://g/", To: "http://p/t/x/"},
	{From: "http://G:80/a", To: ""},
}

// absent is a rule whose host FuzzRewrite's inputs are checked not to hold.
var absent = Rule{From: "https://absent.invalid/", To: "http://p/"}

func FuzzRewrite(f *testing.F) {
	for _, tc := range rewriteCases {
		for i, r := range fuzzRules {
			if r == tc.rule {
				f.Add([]byte(tc.in), uint8(i), uint64(len(tc.in)))
			}
		}
	}
	f.Add([]byte(`[{"a@odata.nextLink":"https://g/?x"},{"@odata.deltaLink":"HTTPS://G:443"}]`), uint8(2), uint64(7))
	f.Fuzz(func(t *testing.T, in []byte, ruleIndex uint8, seed uint64) {
		rule := fuzzRules[int(ruleIndex)%len(fuzzRules)]
		s := newScanner([]Rule{rule})
		want := s.finish(s.process(nil, in))

		r := NewReader(randomChunks(in, seed), rule)
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) || r.Rewritten() != s.rewritten {
			t.Fatalf("Reader gave %q (%v, %d links), Rewrite %q (%d links)", got, err, r.Rewritten(), want, s.rewritten)
		}
		if !bytes.Equal(Rewrite(nil, in, rule), want) {
			t.Fatal("Rewrite differs from the scanner")
		}
		if json.Valid(in) {
			if !json.Valid(want) {
				t.Fatalf("valid %q became invalid %q", in, want)
			}
			if n := checkTokens(t, in, want, rule); n != s.rewritten {
				t.Fatalf("%d links differ, %d counted", n, s.rewritten)
			}
		}
		if !bytes.Contains(bytes.ToLower(in), []byte("absent.invalid")) && !bytes.Contains(in, []byte(`\u`)) {
			if out := Rewrite(nil, in, absent); !bytes.Equal(out, in) {
				t.Fatalf("a rule for an absent host changed %q into %q", in, out)
			}
		}
	})
}

// randomChunks returns a reader that hands out in in pieces of random
// sizes drawn from seed.
func randomChunks(in []byte, seed uint64) io.Reader {
	rng := rand.New(rand.NewPCG(seed, seed>>32))
	c := &chunkReader{}
	for len(in) > 0 {
		n := 1 + rng.IntN(min(len(in), 1+int(seed%97)))
		c.chunks, in = append(c.chunks, in[:n]), in[n:]
	}
	return c
}

// checkTokens walks the JSON texts in and out token by token and checks
// that they hold the same bytes, between and in tokens, except paging
// links whose value oracle rewrites: there out holds To and the exact raw
// rest of the link. It returns how many links differ.
func checkTokens(t *testing.T, in, out []byte, rule Rule) int {
	t.Helper()
	din, dout := newTokenWalker(in), newTokenWalker(out)
	changed := 0
	for {
		tin, link, errIn := din.next()
		tout, _, errOut := dout.next()
		if errIn != nil || errOut != nil {
			if !errors.Is(errIn, io.EOF) || !errors.Is(errOut, io.EOF) {
				t.Fatalf("token errors %v and %v", errIn, errOut)
			}
			break
		}
		if !bytes.Equal(din.gap, dout.gap) {
			t.Fatalf("bytes between tokens changed from %q to %q", din.gap, dout.gap)
		}
		if !link || bytes.Equal(din.raw, dout.raw) {
			if !bytes.Equal(din.raw, dout.raw) {
				t.Fatalf("token changed from %s to %s", din.raw, dout.raw)
			}
			if s, ok := tin.(string); ok && len(din.raw)-2 <= MaxLink {
				if _, rewrite := oracle(s, rule); rewrite && link {
					t.Fatalf("link %s not rewritten", din.raw)
				}
			}
			continue
		}
		changed++
		wantValue, rewrite := oracle(tin.(string), rule)
		if !rewrite || tout != wantValue {
			t.Fatalf("link %s became %s, want %q (%v)", din.raw, dout.raw, wantValue, rewrite)
		}
		head := `"` + string(escapeJSON(rule.To))
		if !bytes.HasPrefix(dout.raw, []byte(head)) || !bytes.HasSuffix(din.raw, dout.raw[len(head):]) {
			t.Fatalf("link %s became %s: not To and the raw rest", din.raw, dout.raw)
		}
	}
	if !bytes.Equal(in[din.end:], out[dout.end:]) {
		t.Fatalf("trailing bytes changed from %q to %q", in[din.end:], out[dout.end:])
	}
	return changed
}

// oracle says, from a link's decoded value, what the rewriter should make
// of it: an implementation of the package's rule on strings, to compare
// with the scanner's on raw bytes.
func oracle(link string, r Rule) (string, bool) {
	fromScheme, fromRest, ok := strings.Cut(r.From, "://")
	scheme, rest, ok2 := strings.Cut(link, "://")
	if !ok || !ok2 || fromScheme == "" || lowerASCII(scheme) != lowerASCII(fromScheme) {
		return "", false
	}
	fromAuth, fromPath := splitAuthority(fromRest)
	auth, path := splitAuthority(rest)
	norm := func(a string) string {
		a = lowerASCII(a)
		switch s := lowerASCII(scheme); {
		case s == "https":
			return strings.TrimSuffix(a, ":443")
		case s == "http":
			return strings.TrimSuffix(a, ":80")
		}
		return a
	}
	if fromAuth == "" || norm(auth) != norm(fromAuth) || !strings.HasPrefix(path, fromPath) {
		return "", false
	}
	after := path[len(fromPath):]
	if !strings.HasSuffix(fromPath, "/") && after != "" && !strings.ContainsAny(after[:1], "/?#") {
		return "", false
	}
	return r.To + after, true
}

func splitAuthority(s string) (authority, path string) {
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// tokenWalker reads a JSON text's tokens with encoding/json, noting each
// one's raw bytes, the bytes before it, and whether it is the value of a
// member whose name ends in a paging link's suffix.
type tokenWalker struct {
	text  []byte
	dec   *json.Decoder
	end   int    // offset just past the last token
	gap   []byte // bytes between the previous token and this one
	raw   []byte // this token's bytes
	stack []walkFrame
}

type walkFrame struct {
	object  bool
	wantKey bool
	key     string
}

func newTokenWalker(text []byte) *tokenWalker {
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	return &tokenWalker{text: text, dec: d}
}

func (w *tokenWalker) next() (tok json.Token, link bool, err error) {
	tok, err = w.dec.Token()
	if err != nil {
		return nil, false, err
	}
	end := int(w.dec.InputOffset())
	start := w.end
	for start < end && strings.IndexByte(" \t\r\n,:", w.text[start]) >= 0 {
		start++
	}
	w.gap, w.raw, w.end = w.text[w.end:start], w.text[start:end], end
	top := len(w.stack) - 1
	if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
		w.stack = w.stack[:top]
		return tok, false, nil
	}
	if top >= 0 && w.stack[top].object && w.stack[top].wantKey {
		w.stack[top].key, w.stack[top].wantKey = tok.(string), false
		return tok, false, nil
	}
	if top >= 0 && w.stack[top].object {
		key := w.stack[top].key
		_, isString := tok.(string)
		link = isString && (strings.HasSuffix(key, nextLink) || strings.HasSuffix(key, deltaLink))
		w.stack[top].wantKey = true
	}
	if d, ok := tok.(json.Delim); ok {
		w.stack = append(w.stack, walkFrame{object: d == '{', wantKey: d == '{'})
	}
	return tok, link, nil
}
