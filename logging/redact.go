package logging

import (
	"regexp"
	"slices"
	"strings"

	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/config"
)

// redactingCore is the last line of secret hygiene: whatever a log line
// says, bearer credentials, JWTs (access tokens, federated assertions),
// client_secret/client_assertion form values and the configured secrets
// are replaced before the line is written. The code never logs them on
// purpose; this catches what a future change might.
type redactingCore struct {
	zapcore.Core
	secrets []config.Secret
}

var (
	jwtShape    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	bearerShape = regexp.MustCompile(`(?i)\b(bearer)\s+[^\s",;]+`)
	formShape   = regexp.MustCompile(`(?i)\b(client_secret|client_assertion)=[^&\s",]+`)
)

// redact returns s with every credential-shaped part replaced.
func (c *redactingCore) redact(s string) string {
	for _, secret := range c.secrets {
		s = secret.Redact(s) // the whole value only, never a part of it
	}
	if strings.Contains(s, "eyJ") {
		s = jwtShape.ReplaceAllString(s, "[redacted-token]")
	}
	if containsFoldASCII(s, "bearer") {
		s = bearerShape.ReplaceAllString(s, "$1 [redacted]")
	}
	if strings.Contains(s, "client_") {
		s = formShape.ReplaceAllString(s, "$1=[redacted]")
	}
	return s
}

// With returns a core that adds fields, redacted, to every line.
func (c *redactingCore) With(fields []zapcore.Field) zapcore.Core {
	return &redactingCore{Core: c.Core.With(c.clean(fields)), secrets: c.secrets}
}

// Check adds c to ce when e's level is enabled.
func (c *redactingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write writes e and fields with every credential-shaped part replaced.
func (c *redactingCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	e.Message = c.redact(e.Message)
	return c.Core.Write(e, c.clean(fields))
}

// clean redacts string and error fields; other kinds carry no text. It
// returns fields itself when nothing changes, as on most lines: a copy
// is made only for a field that does.
func (c *redactingCore) clean(fields []zapcore.Field) []zapcore.Field {
	var out []zapcore.Field
	for i, f := range fields {
		g, changed := c.cleanField(f)
		if !changed {
			continue
		}
		if out == nil {
			out = slices.Clone(fields)
		}
		out[i] = g
	}
	if out == nil {
		return fields
	}
	return out
}

// cleanField returns f redacted, and whether that is another field.
func (c *redactingCore) cleanField(f zapcore.Field) (zapcore.Field, bool) {
	switch f.Type {
	case zapcore.StringType:
		if r := c.redact(f.String); r != f.String {
			f.String = r
			return f, true
		}
	case zapcore.ErrorType:
		if err, ok := f.Interface.(error); ok && err != nil {
			return zapcore.Field{Key: f.Key, Type: zapcore.StringType, String: c.redact(err.Error())}, true
		}
	case zapcore.StringerType:
		if s, ok := f.Interface.(interface{ String() string }); ok {
			return zapcore.Field{Key: f.Key, Type: zapcore.StringType, String: c.redact(s.String())}, true
		}
	case zapcore.ArrayMarshalerType, zapcore.ObjectMarshalerType, zapcore.ReflectType:
		// Structured values (such as zap.Strings) are not scanned;
		// the code logs no secrets in them.
	}
	return f, false
}

var _ zapcore.Core = (*redactingCore)(nil)

// containsFoldASCII reports whether s contains lower, an ASCII lower-case
// word, in any mix of cases ("BeArEr" too): the cheap test that spares
// most lines bearerShape's case-insensitive regular expression.
func containsFoldASCII(s, lower string) bool {
	for i := 0; i+len(lower) <= len(s); i++ {
		if s[i]|0x20 == lower[0] && strings.EqualFold(s[i:i+len(lower)], lower) {
			return true
		}
	}
	return false
}
