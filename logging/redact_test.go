package logging

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

func TestLoggerRedactsCredentials(t *testing.T) {
	const secret = "s3cr3t-Value~with.chars"
	jwt := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl"
	var buf testutil.SyncBuffer
	for _, format := range []string{"json", "console"} {
		log := New(&buf, zapcore.DebugLevel, format, secret)
		log.Info("token "+jwt+" acquired",
			zap.String("authorization", "Bearer "+jwt),
			zap.String("client", "bearer some-client-key-123"),
			zap.String("mixed", "BeArEr mixed-case-key-456"),
			zap.Error(errors.New("post failed: client_secret="+secret+"&client_assertion="+jwt)),
			zap.Stringer("s", stringer("secret is "+secret)),
			zap.String("fine", "tenant contoso, status 200"))
		log.With(zap.String("ctx", jwt)).Warn("with fields")
	}
	out := buf.String()
	for _, leak := range []string{secret, jwt, "some-client-key-123", "mixed-case-key-456", "eyJ0aWQi"} {
		if strings.Contains(out, leak) {
			t.Errorf("log output contains %q:\n%s", leak, out)
		}
	}
	for _, kept := range []string{"tenant contoso, status 200", "[redacted-token]", "Bearer [redacted]", "client_secret=[redacted]"} {
		if !strings.Contains(out, kept) {
			t.Errorf("log output lacks %q:\n%s", kept, out)
		}
	}
}

// TestLoggerRedactsWholeSecretOnly: a secret of the shortest length
// accepted is replaced whole where it appears, inside a longer word too,
// and text that merely shares its characters is left exactly as it was.
func TestLoggerRedactsWholeSecretOnly(t *testing.T) {
	const secret = "Qx7~mP2.vL9_rT4-" // 16 characters, as Entra ID's secrets use them
	if len(secret) != config.MinSecretLength {
		t.Fatalf("the secret has %d characters, want %d", len(secret), config.MinSecretLength)
	}
	fields := map[string]struct{ in, want string }{
		"alone":       {secret, "[redacted]"},
		"inside":      {"prefix" + secret + "suffix", "prefix[redacted]suffix"},
		"sentence":    {"the secret " + secret + " was refused", "the secret [redacted] was refused"},
		"shared":      {"Qx7 mP2 vL9 rT4 Qx7~mP2.vL9_rT4 x7~mP2.vL9_rT4-", "Qx7 mP2 vL9 rT4 Qx7~mP2.vL9_rT4 x7~mP2.vL9_rT4-"},
		"unrelated":   {"tenant contoso, status 200, 3.1ms", "tenant contoso, status 200, 3.1ms"},
		"error":       {"post: client_id=x&client_secret=" + secret + "&scope=y", "post: client_id=x&client_secret=[redacted]&scope=y"},
		"almost":      {secret[:15], secret[:15]},
		"split":       {secret[:8] + " " + secret[8:], secret[:8] + " " + secret[8:]},
		"twice":       {secret + secret, "[redacted][redacted]"},
		"with spaces": {" " + secret + " ", " [redacted] "},
	}
	var buf testutil.SyncBuffer
	log := New(&buf, zapcore.InfoLevel, "json", secret)
	var zf []zap.Field
	for k, f := range fields {
		zf = append(zf, zap.String(k, f.in))
	}
	log.Info("message with "+secret+"!", zf...)
	var got map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &got); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if got["msg"] != "message with [redacted]!" {
		t.Errorf("msg = %q", got["msg"])
	}
	for k, f := range fields {
		if got[k] != f.want {
			t.Errorf("%s: %q, want %q", k, got[k], f.want)
		}
	}
}

// TestLoggerShortSecretManglesNothing: a secret shorter than the
// configuration accepts is redacted only as a word of its own; the
// words it is part of are left whole rather than masked piecemeal.
func TestLoggerShortSecretManglesNothing(t *testing.T) {
	var buf testutil.SyncBuffer
	New(&buf, zapcore.InfoLevel, "console", "e").Info("the tenant secret e was refused")
	_, line, _ := strings.Cut(strings.TrimSpace(buf.String()), "INFO\t")
	if want := "the tenant secret [redacted] was refused"; line != want {
		t.Errorf("logged %q, want %q", line, want)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func BenchmarkRedactAccessLine(b *testing.B) {
	c := &redactingCore{secrets: []config.Secret{"s3cr3t"}}
	fields := []string{"contoso", "GET", "/api/incidents", "f00dfeed", "3.1ms"}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range fields {
			_ = c.redact(f)
		}
	}
}

// TestCleanCopiesOnlyWhatChanges: an access line with nothing to redact
// is passed on as it is, without a copy of its fields; a line with
// something to redact is copied, and the caller's fields are left alone.
func TestCleanCopiesOnlyWhatChanges(t *testing.T) {
	c := &redactingCore{secrets: []config.Secret{"s3cr3t-Value~with.chars"}}
	fields := []zapcore.Field{zap.String("tenant", "contoso"), zap.String("path", "/api/incidents"), zap.Int("status", 200)}
	if n := testing.AllocsPerRun(100, func() { c.clean(fields) }); n != 0 {
		t.Errorf("%v allocations for a line with nothing to redact", n)
	}
	dirty := append(slices.Clone(fields), zap.String("error", "client_secret=s3cr3t-Value~with.chars refused"))
	got := c.clean(dirty)
	if got[3].String != "client_secret=[redacted] refused" || dirty[3].String == got[3].String || got[0] != fields[0] {
		t.Errorf("cleaned %v from %v", got, dirty)
	}
}
