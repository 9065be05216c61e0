package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/server"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// checkResult is one (tenant, scope) line of `xdrproxy check`. It never
// holds the token.
type checkResult struct {
	TenantID     string      `json:"tenant_id"`
	Alias        string      `json:"alias,omitempty"`
	Scope        string      `json:"scope"`
	OK           bool        `json:"ok"`
	Audience     string      `json:"audience,omitempty"`
	Expires      *time.Time  `json:"expires,omitempty"`
	Roles        []string    `json:"roles,omitempty"`
	MissingRoles []string    `json:"missing_roles,omitempty"`
	Error        *checkError `json:"error,omitempty"`
}

// checkError is the diagnosis of a failed acquisition.
type checkError struct {
	Class           string `json:"class"`
	Code            int    `json:"aadsts,omitempty"`
	OAuthError      string `json:"oauth_error,omitempty"`
	Message         string `json:"message"`
	Hint            string `json:"hint,omitempty"`
	AdminConsentURL string `json:"admin_consent_url,omitempty"`
}

// runCheck is `xdrproxy check [--tenant T] [--json]`. roots, if not nil,
// replace the system's CAs (tests).
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer, roots *x509.CertPool) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("tenant", "", "check only this tenant (GUID or alias)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return &exitError{Code: 2}
	}
	if fs.NArg() > 0 {
		return &exitError{Code: 2, Err: fmt.Errorf("check takes no arguments, got %q", fs.Args())}
	}
	cfg, err := config.Load()
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	tenants := cfg.Tenants.All()
	if *only != "" {
		t, ok := cfg.Tenants.Lookup(*only)
		if !ok {
			return &exitError{Code: 2, Err: fmt.Errorf("--tenant %q is not one of the configured tenants (XDRPROXY_TENANTS)", *only)}
		}
		tenants = []config.Tenant{t}
	}
	src, err := server.NewTokenSource(cfg, roots)
	if err != nil {
		return err
	}

	results := checkTenants(ctx, cfg, src, tenants)
	failed := false
	for _, r := range results {
		failed = failed || !r.OK
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		printCheckTable(stdout, results, cfg.RequiredRoles)
	}
	if failed {
		return &exitError{Code: 1}
	}
	return nil
}

// checkTenants acquires a token for every tenant and scope, a few at a
// time, and reports on each in the order given.
func checkTenants(ctx context.Context, cfg *config.Config, src tokencache.Source, tenants []config.Tenant) []checkResult {
	scopes := cfg.Scopes()
	results := make([]checkResult, len(tenants)*len(scopes))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, t := range tenants {
		for j, scope := range scopes {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				results[i*len(scopes)+j] = checkOne(ctx, cfg, src, t, scope)
			}()
		}
	}
	wg.Wait()
	// A required role may come from any of the tenant's APIs.
	for i := 0; i < len(results); i += len(scopes) {
		var roles []string
		allOK := true
		for _, r := range results[i : i+len(scopes)] {
			roles = append(roles, r.Roles...)
			allOK = allOK && r.OK
		}
		if !allOK {
			continue
		}
		var missing []string
		for _, want := range cfg.RequiredRoles {
			if !slices.Contains(roles, want) {
				missing = append(missing, want)
			}
		}
		if len(missing) > 0 {
			results[i].MissingRoles, results[i].OK = missing, false
		}
	}
	return results
}

func checkOne(ctx context.Context, cfg *config.Config, src tokencache.Source, t config.Tenant, scope string) checkResult {
	r := checkResult{TenantID: t.ID, Alias: t.Alias, Scope: scope}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tok, err := src.Token(ctx, t.ID, scope)
	if err != nil {
		ce := &checkError{Class: string(tokencache.ClassUnknown), Message: err.Error()}
		var ae *tokencache.AcquisitionError
		if errors.As(err, &ae) {
			ce.Class, ce.Code, ce.OAuthError, ce.Hint = string(ae.Class()), ae.Code(), ae.OAuthError, ae.Hint()
			ce.Message = ae.Description
			if ae.ConsentRequired() {
				ce.AdminConsentURL = tokencache.AdminConsentURL(cfg.AuthorityHost, cfg.ClientID, t.ID)
			}
		}
		r.Error = ce
		return r
	}
	claims, err := tokencache.DecodeClaims(tok.Value)
	if err != nil {
		r.Error = &checkError{Class: string(tokencache.ClassUnknown), Message: "the token's claims could not be read: " + err.Error()}
		return r
	}
	r.OK = true
	r.Audience = strings.Join(claims.Audience, ",")
	exp := tok.ExpiresOn.UTC().Truncate(time.Second)
	r.Expires = &exp
	r.Roles = slices.Sorted(slices.Values(claims.Roles))
	if claims.TenantID != "" && !strings.EqualFold(claims.TenantID, t.ID) {
		r.OK = false
		r.Error = &checkError{Class: string(tokencache.ClassUnknown), Message: fmt.Sprintf("Entra ID issued a token for tenant %s, not %s", claims.TenantID, t.ID)}
	}
	return r
}

func printCheckTable(w io.Writer, results []checkResult, required []string) {
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
