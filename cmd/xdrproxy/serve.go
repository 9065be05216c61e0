package main

import (
	"context"
	"io"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/logging"
	"github.com/xdrproxy/xdrproxy/server"
)

// runServe is `xdrproxy serve`: configuration from the environment.
func runServe(ctx context.Context, stderr io.Writer) error {
	cfg, err := config.Load()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	log := logging.New(stderr, cfg.LogLevel, cfg.LogFormat, cfg.Credential.Secret.Reveal())
	defer func() { _ = log.Sync() }()
	return server.Run(ctx, cfg, log, server.Options{Version: versionString()})
}
