// Package logging builds xdrproxy's zap logger, whose every line passes
// through a core that redacts credentials before it is written.
package logging

import (
	"io"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/config"
)

// New builds the process logger: JSON lines to w, or console lines when
// format is "console", at level and above, never sampled (an access log
// must not drop lines), with every credential-shaped string and each of
// secrets redacted. A secret is replaced whole, wherever it appears, as
// config.Secret.Redact does: never a part of it, and a secret shorter
// than config.MinSecretLength (which the configuration refuses) only
// where it is a word of its own, so that it cannot mangle other text.
func New(w io.Writer, level zapcore.Level, format string, secrets ...string) *zap.Logger {
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.TimeKey = "ts"
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	encCfg.EncodeDuration = zapcore.StringDurationEncoder
	var enc zapcore.Encoder
	if format == "console" {
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	} else {
		enc = zapcore.NewJSONEncoder(encCfg)
	}
	out := zapcore.AddSync(w)
	if _, safe := w.(*BufferedWriter); !safe {
		out = zapcore.Lock(out) // a BufferedWriter takes its own lock
	}
	core := &redactingCore{Core: zapcore.NewCore(enc, out, level)}
	for _, s := range secrets {
		if s != "" {
			core.secrets = append(core.secrets, config.Secret(s))
		}
	}
	return zap.New(core, zap.ErrorOutput(out))
}
