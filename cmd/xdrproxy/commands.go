package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/demo"
)

// runFunc runs a subcommand until it ends or ctx is done.
type runFunc func(ctx context.Context, stdout, stderr io.Writer) error

// command is one subcommand: how it is invoked, what it does, its flags,
// the variables it reads and the function that runs it. The usage and
// each subcommand's help are rendered from these, so a subcommand is
// described in one place.
type command struct {
	// name invokes it; so do its aliases.
	name    string
	aliases []string
	// synopsis is how the usage shows the invocation after "xdrproxy".
	synopsis string
	// summary says what it does; each line break is kept in the usage.
	summary string
	// env lists the variables it reads, in full; nil means none.
	env []string
	// setup defines the command's flags on fs, if it has any, and returns
	// the function that runs it with their values. No command takes
	// positional arguments.
	setup func(fs *flag.FlagSet) runFunc
}

// commands are xdrproxy's subcommands, in the order the usage lists them.
// `help` is not one: execute answers it from this table.
var commands = []command{
	{
		name:     "serve",
		synopsis: "[serve]",
		summary:  "run the proxy, configured from XDRPROXY_* environment variables",
		env:      config.Variables,
		setup:    func(*flag.FlagSet) runFunc { return runServe },
	},
	{
		name:     "demo",
		synopsis: "demo [--tls-addr ADDR]",
		summary: "run a simulated Entra ID + Defender XDR and a proxy wired to it\n" +
			"(no Azure account, no network); prints curl commands to try",
		env: demo.Variables,
		setup: func(fs *flag.FlagSet) runFunc {
			tlsAddr := fs.String("tls-addr", "", "loopback host:port (`ADDR`) of the proxy's TLS listener for MSAL-based tools (default 127.0.0.1:8443, a free port when taken)")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				return runDemo(ctx, *tlsAddr, stdout, stderr)
			}
		},
	},
	{
		name:     "consent-url",
		synopsis: "consent-url [--tenant T] [--redirect-uri URI]",
		summary:  "print the admin-consent links a customer's admin opens",
		env:      append(slices.Clone(config.ApplicationVariables), "XDRPROXY_TENANTS", "XDRPROXY_TENANTS_FILE"),
		setup: func(fs *flag.FlagSet) runFunc {
			tenant := fs.String("tenant", "", "the customer's tenant `T`: a GUID, a verified domain, or an alias from XDRPROXY_TENANTS or XDRPROXY_TENANTS_FILE")
			redirect := fs.String("redirect-uri", "https://portal.azure.com", "a redirect `URI` registered on the application, for the v2 link")
			return func(_ context.Context, stdout, _ io.Writer) error { return runConsentURL(*tenant, *redirect, stdout) }
		},
	},
	{
		name:     "check",
		synopsis: "check [--tenant T] [--json]",
		summary: "acquire a token for each tenant and show its audience, expiry and\n" +
			"roles, or why it failed; exits 1 if any fails or lacks a required role",
		env: config.Variables,
		setup: func(fs *flag.FlagSet) runFunc {
			tenant := fs.String("tenant", "", "check only tenant `T` (GUID or alias)")
			asJSON := fs.Bool("json", false, "print JSON instead of a table")
			return func(ctx context.Context, stdout, _ io.Writer) error { return runCheck(ctx, *tenant, *asJSON, stdout) }
		},
	},
	{
		name:     "version",
		aliases:  []string{"--version"},
		synopsis: "version",
		summary:  "print the version",
		setup:    func(*flag.FlagSet) runFunc { return runVersion },
	},
}

// lookup returns the command name invokes, or nil.
func lookup(name string) *command {
	for i, c := range commands {
		if c.name == name || slices.Contains(c.aliases, name) {
			return &commands[i]
		}
	}
	return nil
}

// runVersion is `xdrproxy version`.
func runVersion(_ context.Context, stdout, _ io.Writer) error {
	fmt.Fprintln(stdout, versionString())
	return nil
}
