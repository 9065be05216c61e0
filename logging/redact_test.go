package logging

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

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
			zap.Error(errors.New("post failed: client_secret="+secret+"&client_assertion="+jwt)),
			zap.Stringer("s", stringer("secret is "+secret)),
			zap.String("fine", "tenant contoso, status 200"))
		log.With(zap.String("ctx", jwt)).Warn("with fields")
	}
	out := buf.String()
	for _, leak := range []string{secret, jwt, "some-client-key-123", "eyJ0aWQi"} {
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

type stringer string

func (s stringer) String() string { return string(s) }

func BenchmarkRedactAccessLine(b *testing.B) {
	c := &redactingCore{secrets: []string{"s3cr3t"}}
	fields := []string{"contoso", "GET", "/api/incidents", "f00dfeed", "3.1ms"}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range fields {
			_ = c.redact(f)
		}
	}
}
