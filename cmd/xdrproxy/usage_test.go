package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// TestHelp pins what each way of asking for help prints, where, and the
// exit status, all rendered from the one table of commands.
func TestHelp(t *testing.T) {
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string // golden files; empty means nothing printed
		errorMsg       string
	}{
		{args: []string{"--help"}, stdout: "usage.txt"},
		{args: []string{"-h"}, stdout: "usage.txt"},
		{args: []string{"help"}, stdout: "usage.txt"},
		{args: []string{"check", "-h"}, code: 2, stderr: "check-help.txt"},
		{args: []string{"consent-url", "--help"}, code: 2, stderr: "consent-url-help.txt"},
		{args: []string{"serve", "-h"}, code: 2, stderr: "usage.txt", errorMsg: `serve takes no arguments, got ["-h"]`},
		{args: []string{"demo", "-h"}, code: 2, stderr: "demo-help.txt"},
		{args: []string{"frob", "x"}, code: 2, stderr: "usage.txt", errorMsg: `frob takes no arguments, got ["x"]`},
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
			if code != tt.code || (tt.errorMsg != "" && err.Error() != tt.errorMsg) || (tt.errorMsg == "" && ee != nil && ee.Err != nil) {
				t.Errorf("exit %d (%v), want %d (%q)", code, err, tt.code, tt.errorMsg)
			}
			for _, out := range []struct {
				golden string
				got    *bytes.Buffer
			}{{tt.stdout, &stdout}, {tt.stderr, &stderr}} {
				if out.golden == "" {
					if out.got.Len() > 0 {
						t.Errorf("printed %q where nothing was expected", out.got)
					}
					continue
				}
				testutil.Golden(t, out.golden, out.got.Bytes())
			}
		})
	}
}
