package main

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// TestHelp pins what each way of asking for help prints, and what wrong
// usage answers, all rendered from the one table of commands. Help goes to
// stdout with exit status 0; wrong usage is one line and exit status 2.
func TestHelp(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		stdout   string // golden file; empty means nothing printed
		errorMsg string
	}{
		{args: []string{"--help"}, stdout: "usage.txt"},
		{args: []string{"-h"}, stdout: "usage.txt"},
		{args: []string{"help"}, stdout: "usage.txt"},
		{args: []string{"help", "help"}, stdout: "usage.txt"},
		{args: []string{"help", "--help"}, stdout: "usage.txt"},
		{args: []string{"serve", "-h"}, stdout: "serve-help.txt"},
		{args: []string{"serve", "--help"}, stdout: "serve-help.txt"},
		{args: []string{"help", "serve"}, stdout: "serve-help.txt"},
		{args: []string{"check", "-h"}, stdout: "check-help.txt"},
		{args: []string{"check", "--tenant", "acme", "--help"}, stdout: "check-help.txt"},
		{args: []string{"help", "check"}, stdout: "check-help.txt"},
		{args: []string{"consent-url", "--help"}, stdout: "consent-url-help.txt"},
		{args: []string{"demo", "-h"}, stdout: "demo-help.txt"},
		{args: []string{"version", "--help"}, stdout: "version-help.txt"},
		{args: []string{"--version", "-h"}, stdout: "version-help.txt"},
		{args: []string{"frob", "x"}, code: 2, errorMsg: `unknown command "frob"; run 'xdrproxy help'`},
		{args: []string{"help", "frob"}, code: 2, errorMsg: `unknown command "frob"; run 'xdrproxy help'`},
		{args: []string{"help", "check", "serve"}, code: 2, errorMsg: `help takes one command, got ["check" "serve"]; run 'xdrproxy help'`},
		{args: []string{"serve", "now"}, code: 2, errorMsg: `serve takes no arguments, got ["now"]; run 'xdrproxy help serve'`},
		{args: []string{"serve", "--tenant", "acme"}, code: 2, errorMsg: `serve: flag provided but not defined: -tenant; run 'xdrproxy help serve'`},
		{args: []string{"check", "--frob"}, code: 2, errorMsg: `check: flag provided but not defined: -frob; run 'xdrproxy help check'`},
		{args: []string{"check", "--tenant"}, code: 2, errorMsg: `check: flag needs an argument: -tenant; run 'xdrproxy help check'`},
		{args: []string{"check", "now", "-h"}, code: 2, errorMsg: `check takes no arguments, got ["now" "-h"]; run 'xdrproxy help check'`},
		{args: []string{"version", "x"}, code: 2, errorMsg: `version takes no arguments, got ["x"]; run 'xdrproxy help version'`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := execute(tt.args, &stdout, &stderr)
			code := 0
			var ee *exitError
			if errors.As(err, &ee) {
				code = ee.Code
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if code != tt.code || (tt.errorMsg != "" && err.Error() != tt.errorMsg) || (tt.errorMsg == "" && err != nil) {
				t.Errorf("exit %d (%v), want %d (%q)", code, err, tt.code, tt.errorMsg)
			}
			if stderr.Len() > 0 {
				t.Errorf("printed %q on stderr", stderr.String())
			}
			if tt.stdout == "" {
				if stdout.Len() > 0 {
					t.Errorf("printed %q where nothing was expected", stdout.String())
				}
				return
			}
			testutil.Golden(t, tt.stdout, stdout.Bytes())
		})
	}
}

// TestCommandsReadKnownVariables: every variable a command's help lists is
// one config knows, so none is silently left out of the help.
func TestCommandsReadKnownVariables(t *testing.T) {
	for _, c := range commands {
		for _, name := range c.env {
			if !slices.Contains(config.Variables, name) && !strings.HasPrefix(name, "AZURE_") {
				t.Errorf("%s lists %s, which config does not know", c.name, name)
			}
		}
		help := c.help()
		for _, name := range c.env {
			if strings.HasPrefix(name, config.Prefix+"_") && !strings.Contains(help, "    "+name+"\n") && !strings.Contains(help, "    "+name+" (default") {
				t.Errorf("the help of %s does not list %s", c.name, name)
			}
		}
	}
}
