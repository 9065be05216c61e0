package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xdrproxy/xdrproxy/config"
)

// isHelpFlag reports whether arg asks for the usage.
func isHelpFlag(arg string) bool {
	return slices.Contains([]string{"-h", "-help", "--help"}, arg)
}

// runHelp is `xdrproxy help [command]`: the usage, or one command's help.
func runHelp(args []string, stdout io.Writer) error {
	switch {
	case len(args) == 0 || len(args) == 1 && (isHelpFlag(args[0]) || args[0] == "help"):
		fmt.Fprint(stdout, usage())
		return nil
	case len(args) > 1:
		return usageError(fmt.Errorf("help takes one command, got %q; run 'xdrproxy help'", args))
	}
	c := lookup(args[0])
	if c == nil {
		return unknownCommand(args[0])
	}
	fmt.Fprint(stdout, c.help())
	return nil
}

// unknownCommand is the usage error for a command xdrproxy does not have.
func unknownCommand(name string) error {
	return usageError(fmt.Errorf("unknown command %q; run 'xdrproxy help'", name))
}

// summaryColumn is where the usage's summaries start.
const summaryColumn = 21

// usage is the text `xdrproxy --help` prints: every command's synopsis and
// summary.
func usage() string {
	var b strings.Builder
	b.WriteString("xdrproxy — authenticating reverse proxy for the Microsoft Defender XDR API\n\nUsage:\n")
	indent := strings.Repeat(" ", summaryColumn)
	lines := append(slices.Clone(commands), command{synopsis: "help [command]", summary: "print this, or a command's flags and the variables it reads"})
	for _, c := range lines {
		line := "  xdrproxy " + c.synopsis
		if len(line) < summaryColumn-1 {
			b.WriteString(line + indent[len(line):])
		} else {
			b.WriteString(line + "\n" + indent)
		}
		b.WriteString(strings.ReplaceAll(c.summary, "\n", "\n"+indent) + "\n")
	}
	b.WriteString("\nEvery command takes -h or --help. The configuration is described in README.md.\n")
	return b.String()
}

// help is the text `xdrproxy help c` and `xdrproxy c --help` print: the
// synopsis, the summary, the flags and the variables c reads.
func (c *command) help() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: xdrproxy %s\n\n%s.\n", c.synopsis, strings.ToUpper(c.summary[:1])+c.summary[1:])
	b.WriteString("\nFlags:\n  -h, --help\n        print this help\n")
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	fs.VisitAll(func(f *flag.Flag) {
		placeholder, meaning := flag.UnquoteUsage(f)
		if placeholder != "" {
			placeholder = " " + placeholder
		}
		fmt.Fprintf(&b, "  --%s%s\n        %s", f.Name, placeholder, meaning)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	writeEnv(&b, c.env)
	return b.String()
}

// writeEnv lists the XDRPROXY_ variables of names under Known's groups,
// each with its default and meaning.
func writeEnv(b *strings.Builder, names []string) {
	if len(names) == 0 {
		b.WriteString("\nIt reads no environment variables.\n")
		return
	}
	b.WriteString("\nEnvironment (a set XDRPROXY_* variable not read by xdrproxy is refused):\n")
	group := ""
	for _, v := range config.Known {
		if !slices.Contains(names, v.Name) {
			continue
		}
		if v.Group != group {
			group = v.Group
			fmt.Fprintf(b, "  %s:\n", group)
		}
		b.WriteString("    " + v.Name)
		if v.Default != "" {
			fmt.Fprintf(b, " (default %s)", v.Default)
		}
		b.WriteString("\n        " + v.Meaning + "\n")
	}
}
