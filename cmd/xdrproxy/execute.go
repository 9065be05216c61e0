package main

import (
	"context"
	"flag"
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

// Error is the cause's message, or the exit status when it was reported.
func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *exitError) Unwrap() error { return e.Err }

// usageError is exit status 2 for err: the command line or the
// environment is wrong.
func usageError(err error) error {
	return &exitError{Code: 2, Err: err}
}

// execute runs the subcommand named by args[0] (serve by default) with
// the rest of args, until it ends or SIGINT or SIGTERM asks it to stop.
func execute(args []string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	if isHelp(name) {
		fmt.Fprint(stdout, usage())
		return nil
	}
	c := lookup(name)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var run runFunc
	if c != nil {
		run = c.setup(fs)
	}
	if err := parseArgs(c, fs, args, stderr); err != nil {
		return err
	}
	if c == nil {
		fmt.Fprint(stderr, usage())
		return usageError(fmt.Errorf("unknown command %q", name))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, stdout, stderr)
}

// parseArgs parses args into fs, the flags of c (nil for an unknown
// command). A command without flags takes no arguments: it shows the
// usage when given some. Arguments are checked before the command name.
func parseArgs(c *command, fs *flag.FlagSet, args []string, stderr io.Writer) error {
	switch {
	case c != nil && c.ignoresArgs:
		return nil
	case c == nil || !hasFlags(fs):
		if len(args) > 0 {
			fmt.Fprint(stderr, usage())
			return usageError(fmt.Errorf("%s takes no arguments, got %q", fs.Name(), args))
		}
		return nil
	}
	if err := fs.Parse(args); err != nil {
		return &exitError{Code: 2} // the flag package has said what is wrong
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Errorf("%s takes no arguments, got %q", fs.Name(), fs.Args()))
	}
	return nil
}

// hasFlags reports whether any flag is defined on fs.
func hasFlags(fs *flag.FlagSet) bool {
	found := false
	fs.VisitAll(func(*flag.Flag) { found = true })
	return found
}
