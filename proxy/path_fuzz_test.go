package proxy

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestParsePathCanonicalForm(t *testing.T) {
	for escaped, want := range map[string]string{
		"/":                        "/",
		"/api/incidents":           "/api/incidents",
		"/API/Incidents":           "/api/incidents",
		"/api/%69ncidents":         "/api/incidents",
		"/api/%49NCIDENTS/":        "/api/incidents/",
		"/api/incident%C5%BF":      "/api/incidents", // ſ, long s
		"/api/%EF%BD%89ncidents":   "/api/incidents", // fullwidth i
		"/x/%E2%84%AA":             "/x/k",           // Kelvin sign
		"/x/%C4%B1d":               "/x/id",          // dotless i
		"//api//incidents":         "//api//incidents",
		"/files/50%25off":          "/files/50%off", // a lone %25 is no double encoding
		"/drive/root:/a%20b.txt:/": "/drive/root:/a b.txt:/",
		"/users/Jos%C3%A9":         "/users/josé",
		"/x/a.b/.c/...d":           "/x/a.b/.c/...d",
	} {
		p, err := parsePath(escaped)
		if err != nil {
			t.Errorf("%s refused: %v", escaped, err)
			continue
		}
		if p.canon != want || p.escaped != escaped {
			t.Errorf("%s: canon %q escaped %q, want %q", escaped, p.canon, p.escaped, want)
		}
	}
}

// fuzzTable has routes and limits in mixed case, nested and without a
// trailing slash.
func fuzzTable(t testing.TB) *routeTable {
	return table(t, "/graph/=https://graph.test/v1.0,/Graph/Beta/=https://beta.test,/mde=https://mde.test/api",
		"/api/incidents=50/m,/api/Advancedhunting=45/m,/graph/v1.0/security=10/s,/MDE/machines=1/s")
}

// routeAndLimit is what the handler decides for an admitted path: the
// route's name, the limit's key and the path forwarded.
func routeAndLimit(rt *routeTable, p requestPath) (route, limit, forwarded string) {
	t := target{req: p}
	pk := rt.pick(&t)
	return pk.name, pk.limitFor(p.canon).Key, t.rawPath
}

// FuzzCanonicalPath checks the canonicaliser against its promise. A path
// it accepts holds, once decoded, no \, ;, control character or encoded
// separator, and no dot segment; its canonical form, escaped again, is
// accepted with the same canonical form, route and limit. And any other
// spelling of the same path (letters in another case, unreserved
// characters escaped or unescaped, hex digits in another case) is
// accepted or refused alike, and when accepted picks the same route and
// limit and is forwarded in its own spelling.
func FuzzCanonicalPath(f *testing.F) {
	for _, s := range []string{
		"/api/incidents", "/API/Incidents", "/api/%69ncidents", "/graph/v1.0/security/alerts", "/GRAPH/beta/x",
		"/Graph/Beta", "/mde", "/MDE/machines/1", "/mdex", "//api//incidents", "/api/incidents/", "/files/50%25off",
		`/api\incidents`, "/api%5Cincidents", "/api/incidents;x", "/api/incidents.", "/api/incidents%20",
		"/api/%2e%2E/x", "/api/..%5C", "/api/a%252Fb", "/api/%C0%AF", "/api/%00", "/api/%0a", "/api/%7f",
		"/api/%zz", "/api%EF%BC%8Fincidents", "/api/incident%C5%BF", "/x/%E2%84%AA", "/users/Jos%C3%A9",
		"/drive/root:/a%20b.txt:/content", "/api/%EF%BD%89ncidents", "/a/\u0041\u0301/%61%CC%81",
	} {
		f.Add(s, uint64(len(s)))
	}
	rt := fuzzTable(f)
	f.Fuzz(func(t *testing.T, escaped string, seed uint64) {
		p, err := parsePath(escaped)
		variant := respell(escaped, seed)
		v, verr := parsePath(variant)
		if (err == nil) != (verr == nil) {
			t.Fatalf("%q and its respelling %q: refused %v and %v", escaped, variant, err, verr)
		}
		if err != nil {
			return
		}
		checkAdmitted(t, p)
		if v.canon != p.canon {
			t.Fatalf("%q and %q are one path but canonical %q and %q", escaped, variant, p.canon, v.canon)
		}
		r1, l1, fwd := routeAndLimit(rt, p)
		r2, l2, vfwd := routeAndLimit(rt, v)
		again, err := parsePath((&url.URL{Path: p.canon}).EscapedPath())
		if err != nil || again.canon != p.canon {
			t.Fatalf("canonical form %q of %q: %v, canonical %q", p.canon, escaped, err, again.canon)
		}
		r3, l3, _ := routeAndLimit(rt, again)
		if r1 != r2 || l1 != l2 || r1 != r3 || l1 != l3 {
			t.Fatalf("route, limit: %q %s %s; respelt %q %s %s; canonical %q %s %s", escaped, r1, l1, variant, r2, l2, p.canon, r3, l3)
		}
		// Forwarded in the client's spelling: what follows the route's
		// prefix is the path's own tail, byte for byte.
		if r1 == "default" && (fwd != escaped || vfwd != variant) {
			t.Fatalf("default route forwards %q as %q", escaped, fwd)
		}
		if _, tail := p.cut(strings.Count(strings.TrimSuffix(foldPath(r1), "/"), "/")); r1 != "default" && tail.escaped != "" && !strings.HasSuffix(fwd, tail.escaped) {
			t.Fatalf("%q forwarded on route %s as %q, not ending in its tail %q", escaped, r1, fwd, tail.escaped)
		}
		if dec, _ := url.PathUnescape(fwd); hasDotSegment(dec) {
			t.Fatalf("%q forwarded as %q, with a dot segment", escaped, fwd)
		}
	})
}

// checkAdmitted fails t when an admitted path holds what parsePath must
// refuse, after one decoding.
func checkAdmitted(t *testing.T, p requestPath) {
	t.Helper()
	decoded, err := url.PathUnescape(p.escaped)
	if err != nil {
		t.Fatalf("admitted %q, which does not decode: %v", p.escaped, err)
	}
	for _, s := range []string{decoded, p.canon} {
		if !utf8.ValidString(s) || strings.ContainsAny(s, `\;`) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
			t.Fatalf("admitted %q: %q holds \\, ;, a control character or bad UTF-8", p.escaped, s)
		}
		lower := strings.ToLower(s)
		if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || hasDotSegment(s) {
			t.Fatalf("admitted %q: %q holds an encoded separator or a dot segment", p.escaped, s)
		}
		for _, seg := range strings.Split(s, "/") {
			if strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") {
				t.Fatalf("admitted %q: segment %q of %q ends in . or a space", p.escaped, seg, s)
			}
		}
	}
	if strings.Count(p.canon, "/") != strings.Count(p.escaped, "/") {
		t.Fatalf("admitted %q: canonical %q has other segments", p.escaped, p.canon)
	}
}

// respell spells escaped another way that reads the same: ASCII letters
// in another case, unreserved characters escaped, escapes of unreserved
// characters unescaped, hex digits in another case. seed picks which.
func respell(escaped string, seed uint64) string {
	rnd := rand.New(rand.NewPCG(seed, seed>>32))
	var b strings.Builder
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' && i+2 < len(escaped) && isHex(escaped[i+1]) && isHex(escaped[i+2]) {
			d := unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			switch {
			case unreserved(d) && rnd.IntN(2) == 0:
				b.WriteByte(flipCase(d, rnd))
			default:
				b.WriteByte('%')
				b.WriteByte(flipCase(escaped[i+1], rnd))
				b.WriteByte(flipCase(escaped[i+2], rnd))
			}
			i += 2
			continue
		}
		if c == '%' { // a bare %: respelling what follows could mend it
			b.WriteString(escaped[i:])
			break
		}
		switch {
		case unreserved(c) && rnd.IntN(4) == 0:
			hex := "0123456789ABCDEF"
			if rnd.IntN(2) == 0 {
				hex = "0123456789abcdef"
			}
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(flipCase(c, rnd))
		}
	}
	return b.String()
}

// unreserved reports whether c is an RFC 3986 unreserved character, which
// reads the same escaped or not.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
}

// flipCase turns an ASCII letter to the other case half the time.
func flipCase(c byte, rnd *rand.Rand) byte {
	if ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') && rnd.IntN(2) == 0 {
		return c ^ 0x20
	}
	return c
}
