package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitError carries the process's exit status with the error that caused
// it. A nil Err means the cause was already reported.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

const usage = `xdrproxy — authenticating reverse proxy for the Microsoft Defender XDR API

Usage:
  xdrproxy [serve]   run the proxy, configured from XDRPROXY_* environment variables
  xdrproxy demo      run a simulated Entra ID + Defender XDR and a proxy wired to it
                     (no Azure account, no network); prints curl commands to try
  xdrproxy consent-url [--tenant T] [--redirect-uri URI]
                     print the admin-consent links a customer's admin opens
  xdrproxy check [--tenant T] [--json]
                     acquire a token for each tenant and show its audience, expiry and
                     roles, or why it failed; exits 1 if any fails or lacks a required role
  xdrproxy version   print the version

The configuration variables are listed in README.md.
`

// execute runs the subcommand named by args[0] (serve by default).
func execute(args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
		return nil
	}
	switch cmd {
	case "consent-url":
		return runConsentURL(args, stdout, stderr)
	case "check":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runCheck(ctx, args, stdout, stderr, nil)
	}
	if len(args) > 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{Code: 2, Err: fmt.Errorf("%s takes no arguments, got %q", cmd, args)}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		return runServe(ctx, stderr)
	case "demo":
		return runDemo(ctx, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return &exitError{Code: 2, Err: fmt.Errorf("unknown command %q", cmd)}
}
