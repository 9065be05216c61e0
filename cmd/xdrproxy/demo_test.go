package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestDemoRefusesListenersOffLoopback(t *testing.T) {
	for _, tc := range []struct{ variable, value string }{
		{"XDRPROXY_LISTEN_ADDR", "0.0.0.0:8080"},
		{"XDRPROXY_ADMIN_ADDR", "10.0.0.1:9090"},
		{"XDRPROXY_TENANT_LISTENERS", "0.0.0.0:8081=fabrikam"},
		{"XDRPROXY_TENANT_LISTENERS", "127.0.0.1:8081=contoso"},
		{"XDRPROXY_TENANT_LISTENERS", "127.0.0.1:8081"},
	} {
		t.Run(tc.variable+"="+tc.value, func(t *testing.T) {
			for _, v := range []string{"XDRPROXY_LISTEN_ADDR", "XDRPROXY_ADMIN_ADDR", "XDRPROXY_TENANT_LISTENERS"} {
				t.Setenv(v, "")
			}
			t.Setenv(tc.variable, tc.value)
			var stdout, stderr bytes.Buffer
			err := execute([]string{"demo"}, &stdout, &stderr)
			var ee *exitError
			if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("xdrproxy demo = %v, want exit 2 naming %s", err, tc.variable)
			}
		})
	}
}
