package proxy

import (
	"fmt"
	"testing"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

func TestScopeForResource(t *testing.T) {
	const (
		xdr   = "https://api.security.microsoft.com/.default"
		graph = "https://graph.microsoft.com/.default"
		mde   = "https://api.securitycenter.microsoft.com/.default"
	)
	upstream := testutil.ParseURL(t, "https://api.security.microsoft.com")
	graphRoute := config.Route{Prefix: "/graph/", URL: testutil.ParseURL(t, "https://graph.microsoft.com"), Scope: graph}
	mdeRoute := config.Route{Prefix: "/mde/", URL: testutil.ParseURL(t, "https://api.securitycenter.microsoft.com"), Scope: mde}
	withGraph, err := compileRoutes(upstream, xdr, []config.Route{graphRoute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	withBoth, err := compileRoutes(upstream, xdr, []config.Route{graphRoute, mdeRoute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defenderOnly, err := compileRoutes(upstream, xdr, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		table    *routeTable
		resource string
		want     string // "" when refused
	}{
		{withGraph, "https://api.security.microsoft.com", xdr},
		{withGraph, "https://API.security.microsoft.com/", xdr},
		{withGraph, "https://api.security.microsoft.com/.default", xdr},
		{withGraph, "8ee8fdad-f234-4243-8f3b-15c294843740", xdr},
		{withGraph, "8EE8FDAD-F234-4243-8F3B-15C294843740/.default", xdr},
		{withGraph, "https://graph.microsoft.com", graph},
		{withGraph, "00000003-0000-0000-c000-000000000000", graph},
		{withGraph, "00000003-0000-0000-c000-000000000000/.default", graph},
		// WindowsDefenderATP, with no route of its own: its kin serves it.
		{withGraph, "https://securitycenter.onmicrosoft.com/windowsatpservice", xdr},
		{withGraph, "https://api.securitycenter.microsoft.com", xdr},
		{withGraph, "fc780465-2017-40d4-a0c5-307022471b92", xdr},
		{withGraph, "https://api-eu.securitycenter.microsoft.com", xdr},
		// With a route of its own, it gets that route's token.
		{withBoth, "https://securitycenter.onmicrosoft.com/windowsatpservice", mde},
		{withBoth, "fc780465-2017-40d4-a0c5-307022471b92", mde},
		{withBoth, "8ee8fdad-f234-4243-8f3b-15c294843740", xdr},
		// Not served.
		{defenderOnly, "https://graph.microsoft.com", ""},
		{defenderOnly, "00000003-0000-0000-c000-000000000000", ""},
		{withGraph, "https://management.azure.com", ""},
		{withGraph, "https://graph.microsoft.com/evil", ""},
		{withGraph, "https://evil.example/api.security.microsoft.com", ""},
		{withGraph, "https://graph.microsoft.com.evil.example", ""},
		{withGraph, "00000002-0000-0000-c000-000000000000", ""},
		{withGraph, "api://xdrproxy", ""},
		{withGraph, "", ""},
		{withGraph, "https://graph.microsoft.com/.default/.default", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s with %d routes", tt.resource, len(tt.table.routes)), func(t *testing.T) {
			got, ok := tt.table.scopeFor(tt.resource)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("scopeFor(%q) = %q, %v; want %q", tt.resource, got, ok, tt.want)
			}
		})
	}
}
