package check

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xdrproxy/xdrproxy/tokencache"
)

// printTable writes the results as a table, then what went wrong with
// each failed one and how to fix it.
func printTable(w io.Writer, results []Result, required []string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tALIAS\tAUDIENCE\tEXPIRES\tROLES\tSTATUS")
	for _, r := range results {
		alias := r.Alias
		if alias == "" {
			alias = "-"
		}
		status := "ok"
		switch {
		case r.Error != nil:
			status = "FAILED: " + r.Error.Class
		case len(r.MissingRoles) > 0:
			status = "MISSING ROLES: " + strings.Join(r.MissingRoles, ", ")
		}
		aud, exp, roles := r.Audience, "-", strings.Join(r.Roles, ",")
		if aud == "" {
			aud = strings.TrimSuffix(r.Scope, "/.default")
		}
		if r.Expires != nil {
			exp = r.Expires.Format(time.RFC3339)
		}
		if roles == "" {
			roles = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.TenantID, alias, aud, exp, roles, status)
	}
	tw.Flush()
	for _, r := range results {
		if r.Error == nil {
			continue
		}
		name := r.TenantID
		if r.Alias != "" {
			name = r.Alias + " (" + r.TenantID + ")"
		}
		fmt.Fprintf(w, "\n%s, %s:\n", name, strings.TrimSuffix(r.Scope, "/.default"))
		if r.Error.Code != 0 {
			fmt.Fprintf(w, "  AADSTS%d%s: %s\n", r.Error.Code, prefixed(" ", r.Error.OAuthError), tokencache.WithoutCode(r.Error.Message))
		} else {
			fmt.Fprintf(w, "  %s\n", r.Error.Message)
		}
		if r.Error.Hint != "" {
			fmt.Fprintf(w, "  fix: %s\n", r.Error.Hint)
		}
		if r.Error.AdminConsentURL != "" {
			fmt.Fprintf(w, "  admin-consent link: %s\n", r.Error.AdminConsentURL)
			fmt.Fprintf(w, "  once consented: run `xdrproxy check --tenant %s` again, and tell a running proxy to retry now:\n"+
				"    curl -X POST http://<admin address>/tenants/%s/retry   (or kill -HUP <pid>)\n", cmp.Or(r.Alias, r.TenantID), cmp.Or(r.Alias, r.TenantID))
		}
	}
	if len(required) > 0 {
		fmt.Fprintf(w, "\nrequired roles (XDRPROXY_REQUIRED_ROLES): %s\n", strings.Join(required, ", "))
	}
}

// prefixed returns sep+s, or "" for an empty s.
func prefixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}
