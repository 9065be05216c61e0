package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/xdrproxy/xdrproxy/check"
	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/consent"
	"github.com/xdrproxy/xdrproxy/demo"
	"github.com/xdrproxy/xdrproxy/logging"
	"github.com/xdrproxy/xdrproxy/server"
)

// runServe is `xdrproxy serve`: the proxy, configured from the
// environment.
func runServe(ctx context.Context, _, stderr io.Writer) error {
	cfg, err := config.Load()
	if err != nil {
		return usageError(err)
	}
	// Lines are written in batches by a goroutine of their own; Close
	// writes out the last ones before serve returns.
	out := logging.NewBufferedWriter(stderr)
	defer func() { _ = out.Close() }()
	log := logging.New(out, cfg.LogLevel, cfg.LogFormat, cfg.Secrets()...)
	hangup := make(chan os.Signal, 1)
	signal.Notify(hangup, syscall.SIGHUP)
	defer signal.Stop(hangup)
	return server.Run(ctx, cfg, log, server.Options{Version: versionString(), Hangup: hangup})
}

// runDemo is `xdrproxy demo [--tls-addr ADDR]`: the simulator on
// loopback and a proxy wired to it, until Ctrl-C.
// Unknown XDRPROXY_ variables are refused as by serve.
func runDemo(ctx context.Context, tlsAddr string, stdout, stderr io.Writer) error {
	if err := config.CheckVariables(os.Environ()); err != nil {
		return usageError(err)
	}
	o, err := demo.OptionsFromEnv()
	if err != nil {
		return usageError(err)
	}
	if tlsAddr != "" && !config.IsLoopbackAddr(tlsAddr) {
		return usageError(fmt.Errorf("--tls-addr %s: the demo serves loopback only (use 127.0.0.1:PORT)", tlsAddr))
	}
	o.TLSAddr = tlsAddr
	o.Version = versionString()
	return demo.Run(ctx, o, stdout, stderr)
}

// runCheck is `xdrproxy check [--tenant T] [--json]`: exit status 1 when
// a tenant fails, which the report explains.
func runCheck(ctx context.Context, tenant string, asJSON bool, stdout io.Writer) error {
	cfg, err := config.Load()
	if err != nil {
		return usageError(err)
	}
	tenants, err := check.Select(cfg, tenant)
	if err != nil {
		return usageError(err)
	}
	src, err := server.NewTokenSource(cfg, nil)
	if err != nil {
		return err
	}
	err = check.Run(ctx, cfg, src, stdout, check.Options{Tenants: tenants, JSON: asJSON})
	if errors.Is(err, check.ErrFailed) {
		return &exitError{Code: 1}
	}
	return err
}

// runConsentURL is `xdrproxy consent-url [--tenant T] [--redirect-uri
// U]`: the links a customer's admin opens to consent to the application.
func runConsentURL(tenant, redirectURI string, stdout io.Writer) error {
	app, err := config.LoadApplication()
	if err != nil {
		return usageError(err)
	}
	links, err := consent.NewLinks(app, tenant, redirectURI)
	if err != nil {
		return usageError(err)
	}
	links.Print(stdout)
	return nil
}
