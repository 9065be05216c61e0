package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestExecuteCommands(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int // 0 means success
		stdout   string
		errorMsg string
	}{
		{name: "version", args: []string{"version"}, stdout: "xdrproxy "},
		{name: "help", args: []string{"--help"}, stdout: "Usage:"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, errorMsg: `unknown command "frobnicate"`},
		{name: "stray argument", args: []string{"serve", "now"}, code: 2, errorMsg: "takes no arguments"},
		{name: "check with a stray argument", args: []string{"check", "now"}, code: 2, errorMsg: "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := execute(tt.args, &stdout, &stderr)
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if !strings.Contains(stdout.String(), tt.stdout) {
					t.Errorf("stdout %q lacks %q", stdout.String(), tt.stdout)
				}
				return
			}
			var ee *exitError
			if !errors.As(err, &ee) || ee.Code != tt.code || !strings.Contains(err.Error(), tt.errorMsg) {
				t.Fatalf("err = %v, want exit %d with %q", err, tt.code, tt.errorMsg)
			}
		})
	}
}

func TestServeRefusesBadConfigurationNamingVariables(t *testing.T) {
	for _, v := range []string{"XDRPROXY_CLIENT_ID", "XDRPROXY_CLIENT_SECRET", "XDRPROXY_CLIENT_SECRET_FILE", "XDRPROXY_TENANTS", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"} {
		t.Setenv(v, "")
	}
	t.Setenv("XDRPROXY_CLIENT_ID", "not-a-guid")
	t.Setenv("XDRPROXY_UPSTREAM_TIMEOUT", "soon")
	var stdout, stderr bytes.Buffer
	err := execute([]string{"serve"}, &stdout, &stderr)
	var ee *exitError
	if !errors.As(err, &ee) || ee.Code != 2 {
		t.Fatalf("err = %v, want exit status 2", err)
	}
	for _, name := range []string{"XDRPROXY_CLIENT_ID", "XDRPROXY_UPSTREAM_TIMEOUT", "XDRPROXY_TENANTS", "XDRPROXY_CLIENT_SECRET"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}
