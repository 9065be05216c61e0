package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// runFunc runs a subcommand until it ends or ctx is done.
type runFunc func(ctx context.Context, stdout, stderr io.Writer) error

// command is one subcommand: how it is invoked, what it does, its flags,
// and the function that runs it. The usage and each subcommand's -h are
// rendered from these, so a subcommand is described in one place.
type command struct {
	// name invokes it; so do its aliases.
	name    string
	aliases []string
	// synopsis is how the usage shows the invocation after "xdrproxy".
	synopsis string
	// summary says what it does; each line break is kept in the usage.
	summary string
	// setup defines the command's flags on fs, if it has any, and returns
	// the function that runs it with their values. A command without
	// flags takes no arguments.
	setup func(fs *flag.FlagSet) runFunc
	// ignoresArgs makes it run whatever arguments follow.
	ignoresArgs bool
}

// commands are xdrproxy's subcommands, in the order the usage lists them.
var commands = []command{
	{
		name:     "serve",
		synopsis: "[serve]",
		summary:  "run the proxy, configured from XDRPROXY_* environment variables",
		setup:    func(*flag.FlagSet) runFunc { return runServe },
	},
	{
		name:     "demo",
		synopsis: "demo [--tls-addr ADDR]",
		summary: "run a simulated Entra ID + Defender XDR and a proxy wired to it\n" +
			"(no Azure account, no network); prints curl commands to try",
		setup: func(fs *flag.FlagSet) runFunc {
			tlsAddr := fs.String("tls-addr", "", "loopback host:port of the proxy's TLS listener for MSAL-based tools (default 127.0.0.1:8443, a free port when taken)")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				return runDemo(ctx, *tlsAddr, stdout, stderr)
			}
		},
	},
	{
		name:     "consent-url",
		synopsis: "consent-url [--tenant T] [--redirect-uri URI]",
		summary:  "print the admin-consent links a customer's admin opens",
		setup: func(fs *flag.FlagSet) runFunc {
			tenant := fs.String("tenant", "", "the customer's tenant: a GUID, a verified domain, or an alias from XDRPROXY_TENANTS")
			redirect := fs.String("redirect-uri", "https://portal.azure.com", "a redirect URI registered on the application, for the v2 link")
			return func(_ context.Context, stdout, _ io.Writer) error { return runConsentURL(*tenant, *redirect, stdout) }
		},
	},
	{
		name:     "check",
		synopsis: "check [--tenant T] [--json]",
		summary: "acquire a token for each tenant and show its audience, expiry and\n" +
			"roles, or why it failed; exits 1 if any fails or lacks a required role",
		setup: func(fs *flag.FlagSet) runFunc {
			tenant := fs.String("tenant", "", "check only this tenant (GUID or alias)")
			asJSON := fs.Bool("json", false, "print JSON instead of a table")
			return func(ctx context.Context, stdout, _ io.Writer) error { return runCheck(ctx, *tenant, *asJSON, stdout) }
		},
	},
	{
		name:        "version",
		aliases:     []string{"--version"},
		synopsis:    "version",
		summary:     "print the version",
		setup:       func(*flag.FlagSet) runFunc { return runVersion },
		ignoresArgs: true,
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

// isHelp reports whether name asks for the usage.
func isHelp(name string) bool {
	return slices.Contains([]string{"help", "-h", "-help", "--help"}, name)
}

// summaryColumn is where the usage's summaries start.
const summaryColumn = 21

// usage is the text `xdrproxy --help` prints: every command's synopsis and
// summary.
func usage() string {
	var b strings.Builder
	b.WriteString("xdrproxy — authenticating reverse proxy for the Microsoft Defender XDR API\n\nUsage:\n")
	indent := strings.Repeat(" ", summaryColumn)
	for _, c := range commands {
		line := "  xdrproxy " + c.synopsis
		if len(line) < summaryColumn-1 {
			b.WriteString(line + indent[len(line):])
		} else {
			b.WriteString(line + "\n" + indent)
		}
		b.WriteString(strings.ReplaceAll(c.summary, "\n", "\n"+indent) + "\n")
	}
	b.WriteString("\nThe configuration variables are listed in README.md.\n")
	return b.String()
}

// runVersion is `xdrproxy version`.
func runVersion(_ context.Context, stdout, _ io.Writer) error {
	fmt.Fprintln(stdout, versionString())
	return nil
}
