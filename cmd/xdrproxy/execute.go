package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
// -h or --help, anywhere a flag may be, prints help and starts nothing.
func execute(args []string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch {
	case name == "help":
		return runHelp(args, stdout)
	case isHelpFlag(name):
		fmt.Fprint(stdout, usage())
		return nil
	}
	c := lookup(name)
	if c == nil {
		return unknownCommand(name)
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the error says what is wrong, in one line
	fs.Usage = func() {}
	run := c.setup(fs)
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, c.help())
		return nil
	case err != nil:
		return c.wrongUsage(err)
	case fs.NArg() > 0:
		return c.wrongUsage(fmt.Errorf("%s takes no arguments, got %q", c.name, fs.Args()))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, stdout, stderr)
}

// wrongUsage is exit status 2 for a command line c cannot take, pointing
// at its help.
func (c *command) wrongUsage(err error) error {
	if !strings.HasPrefix(err.Error(), c.name+" ") {
		err = fmt.Errorf("%s: %w", c.name, err)
	}
	return usageError(fmt.Errorf("%w; run 'xdrproxy help %s'", err, c.name))
}
