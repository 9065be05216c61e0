package proxy

import (
	"fmt"
	"strings"
)

// A legacy tool asks the emulated token endpoint for a resource, by
// application ID URI or by application ID, the way Microsoft's samples
// and SDKs spell it. The proxy answers with a placeholder that mirrors
// the token of the route serving that API, so a resource is recognised by
// the API it names, whatever the spelling:
//
//   - Microsoft Graph: application ID 00000003-0000-0000-c000-000000000000
//     (Microsoft's list of first-party application IDs, "Verify first-party
//     Microsoft applications in sign-in reports"), and its national-cloud
//     hosts (Graph "National cloud deployments": graph.microsoft.us,
//     dod-graph.microsoft.us, microsoftgraph.chinacloudapi.cn).
//   - Microsoft Threat Protection, Defender XDR's resource application:
//     https://api.security.microsoft.com and its US Government hosts;
//     application ID 8ee8fdad-f234-4243-8f3b-15c294843740.
//   - WindowsDefenderATP, Defender for Endpoint's resource application:
//     https://api.securitycenter.microsoft.com (and its regional, older
//     and US Government hosts), https://securitycenter.onmicrosoft.com/windowsatpservice
//     (the scope of the partner-access page's curl sample); application ID
//     fc780465-2017-40d4-a0c5-307022471b92.
//
// The two application IDs of Defender are not in the Microsoft
// documentation we read: they are the ones public code (SOAR connectors,
// consent scripts) uses consistently. Microsoft's own
// examples use tokens for either Defender resource against
// api.security.microsoft.com, so a request for one is served by a route
// for the other when the proxy has no route for the one asked.

// apiFamily is an API a resource names.
type apiFamily int

const (
	unknownAPI apiFamily = iota
	graphAPI
	threatProtectionAPI
	defenderATPAPI
)

// apiOfResource names the API a resource (an application ID URI, with
// or without /.default, or an application ID) belongs to.
func apiOfResource(resource string) apiFamily {
	r := normResource(resource)
	if api, ok := resourceIDs[r]; ok {
		return api
	}
	if r == "https://securitycenter.onmicrosoft.com/windowsatpservice" {
		return defenderATPAPI
	}
	host, ok := strings.CutPrefix(r, "https://")
	if !ok || strings.Contains(host, "/") {
		return unknownAPI // a path under a host is another resource
	}
	switch {
	case graphHosts[host]:
		return graphAPI
	case strings.HasSuffix(host, ".security.microsoft.com") || strings.HasSuffix(host, ".security.microsoft.us"):
		return threatProtectionAPI
	case strings.HasSuffix(host, ".securitycenter.microsoft.com") || strings.HasSuffix(host, ".securitycenter.microsoft.us") ||
		host == "api.securitycenter.windows.com":
		return defenderATPAPI
	}
	return unknownAPI
}

// resourceIDs are the application IDs of the APIs the proxy knows.
var resourceIDs = map[string]apiFamily{
	"00000003-0000-0000-c000-000000000000": graphAPI,
	"8ee8fdad-f234-4243-8f3b-15c294843740": threatProtectionAPI,
	"fc780465-2017-40d4-a0c5-307022471b92": defenderATPAPI,
}

// graphHosts are Microsoft Graph's hosts in every cloud.
var graphHosts = map[string]bool{
	"graph.microsoft.com": true, "graph.microsoft.us": true,
	"dod-graph.microsoft.us": true, "microsoftgraph.chinacloudapi.cn": true,
}

// kin reports whether a token for one API's route may answer a request
// for the other: the two Defender resources serve each other's APIs.
func kin(a, b apiFamily) bool {
	return a == b || a == threatProtectionAPI && b == defenderATPAPI || a == defenderATPAPI && b == threatProtectionAPI
}

// scopeFor picks the scope of the route serving the resource a token
// request asked for: the route whose scope is that resource, else the
// first (default route, then longest prefix) whose scope names the same
// API, else one for its Defender kin. ok is false when no route serves
// it.
func (rt *routeTable) scopeFor(resource string) (scope string, ok bool) {
	want := normResource(resource)
	scopes := rt.scopes()
	for _, s := range scopes {
		if normResource(s) == want {
			return s, true
		}
	}
	api := apiOfResource(resource)
	if api == unknownAPI {
		return "", false
	}
	for _, s := range scopes {
		if apiOfResource(s) == api {
			return s, true
		}
	}
	for _, s := range scopes {
		if kin(apiOfResource(s), api) {
			return s, true
		}
	}
	return "", false
}

// scopes lists the default route's scope, then each route's.
func (rt *routeTable) scopes() []string {
	out := make([]string, 0, 1+len(rt.routes))
	out = append(out, rt.scope)
	for _, r := range rt.routes {
		out = append(out, r.scope)
	}
	return out
}

// servedResources describes, for a refused token request, the resources
// this proxy serves and through which paths.
func (rt *routeTable) servedResources() string {
	parts := []string{fmt.Sprintf("%s (every path not routed elsewhere)", strings.TrimSuffix(rt.scope, "/.default"))}
	for _, r := range rt.routes {
		parts = append(parts, fmt.Sprintf("%s (paths under %s)", strings.TrimSuffix(r.scope, "/.default"), r.prefix))
	}
	return strings.Join(parts, ", ")
}

// normResource lower-cases a resource and drops /.default and trailing
// slashes, so that a scope and a v1 resource compare equal.
func normResource(s string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSuffix(strings.TrimSpace(s), "/.default"), "/"))
}

// shownResource quotes a requested resource in an error, cut short and
// stripped of anything but printable ASCII: it is the client's input.
func shownResource(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
