package admin

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// statusHTML is the status page's template: plain HTML with inline CSS,
// no script, nothing loaded from elsewhere, reloaded by the browser every
// few seconds.
//
//go:embed status.html
var statusHTML string

// statusTemplate renders the status page in three parts: "head" (up to
// the table's header, given the statusView), "row" (one tenant, given its
// statusRow) and "foot" (given the statusView). html/template escapes
// every value for where it lands, so that a tenant alias or a message
// from Entra ID is shown as text, never run, and a consent link that is
// not http(s) never becomes a live href.
var statusTemplate = template.Must(template.New("status").Parse(statusHTML))

// statusRowLimit is the most tenants the status page shows. With more,
// it shows those not ready first and says that /tenants has them all: a
// page a person reads every 5 s cannot usefully hold 10,000 rows (8 MB).
const statusRowLimit = 500

// statusCSP is the status page's Content-Security-Policy: it has no
// script, image, font, frame or form, and its only style is inline.
const statusCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// statusView is what the status page shows: the same data as /readyz and
// /tenants, arranged for a person.
type statusView struct {
	Version string
	// Readiness is "" when /readyz answers ready, else why not, in its
	// words.
	Readiness string
	// Redis is "" without a fleet, else "up" or "down".
	Redis                          string
	Tenants, ReadyTenants, Failing int
	// Shown is how many tenants have a row: Tenants, or statusRowLimit.
	Shown     int
	Generated string
	// KeysRequired says the retry lines need an admin key.
	KeysRequired bool
}

// statusRow is one tenant on the status page.
type statusRow struct {
	ID, Alias string
	Ready     bool
	Scopes    []statusScope
	// Missing are the roles of XDRPROXY_REQUIRED_ROLES that none of the
	// tenant's tokens carries.
	Missing []string
	// ConsentURL is the admin-consent link when a token failed for want
	// of consent, else "".
	ConsentURL string
	// Retry is the curl command that retries the tenant, "" without a
	// retry endpoint.
	Retry string
}

// statusScope is one API of a tenant on the status page.
type statusScope struct {
	API, State string
	// Expires is the token's expiry in UTC and from now; "" without one.
	Expires string
	Roles   []string
	Error   *errorReport
	// RetryAt is when the next attempt is due, "" when it is not waiting.
	RetryAt string
}

// statusPage serves the status page: readiness at the top, then one row
// per tenant (at most statusRowLimit) with its tokens, roles, last error,
// consent link and retry command. It holds no token and no secret, only
// what /tenants shows. Rows are written as they are rendered, so the
// page costs one row's memory however many tenants there are.
func (e *endpoints) statusPage(w http.ResponseWriter, r *http.Request) {
	tenants := e.Tenants.Tenants().All()
	now := e.Now()
	v, notReady := e.statusView(tenants, now)
	var head bytes.Buffer
	if err := statusTemplate.ExecuteTemplate(&head, "head", v); err != nil {
		http.Error(w, "rendering the status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	setStatusHeaders(w.Header())
	bw := bufio.NewWriterSize(w, 32<<10)
	_, _ = bw.Write(head.Bytes())
	for i := range statusOrder(len(tenants), notReady, v.Shown) {
		// A row that fails to render is a bug the tests catch; the page
		// is already on its way, so it is cut short.
		if statusTemplate.ExecuteTemplate(bw, "row", e.statusRow(tenants[i], r.Host, now)) != nil {
			return
		}
	}
	if statusTemplate.ExecuteTemplate(bw, "foot", v) == nil {
		_ = bw.Flush()
	}
}

// setStatusHeaders sets the status page's headers.
func setStatusHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", statusCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// Following the consent link must not tell Entra ID where the admin
	// listener is.
	h.Set("Referrer-Policy", "no-referrer")
}

// statusView gathers the page's summary of tenants at now, and the
// indexes of those not ready, in order.
func (e *endpoints) statusView(tenants []config.Tenant, now time.Time) (statusView, []int) {
	v := statusView{Version: e.Version, Readiness: e.notReady(), Generated: now.UTC().Format(timeLayout), KeysRequired: e.RequireKeys,
		Tenants: len(tenants), Shown: min(len(tenants), statusRowLimit)}
	if e.RedisUp != nil {
		v.Redis = map[bool]string{true: "up", false: "down"}[e.RedisUp()]
	}
	var notReady []int
	for i, t := range tenants {
		if len(e.tenantProblems(t)) == 0 {
			v.ReadyTenants++
		} else {
			notReady = append(notReady, i)
		}
		if e.failing(t) {
			v.Failing++
		}
	}
	return v, notReady
}

// failing reports whether the last acquisition of one of t's tokens
// failed.
func (e *endpoints) failing(t config.Tenant) bool {
	for _, scope := range e.Config.Scopes() {
		if st, ok := e.Tokens.Status(tokencache.Key{TenantID: t.ID, Scope: scope}); ok && st.LastError != nil {
			return true
		}
	}
	return false
}

// statusOrder yields the indexes of the n tenants to show, at most shown
// of them: all in order when they fit, else those not ready (notReady,
// ascending) first, then the others in order.
func statusOrder(n int, notReady []int, shown int) iter.Seq[int] {
	return func(yield func(int) bool) {
		if n <= shown {
			for i := range n {
				if !yield(i) {
					return
				}
			}
			return
		}
		left := shown
		for _, i := range notReady[:min(len(notReady), left)] {
			if !yield(i) {
				return
			}
			left--
		}
		next := 0 // the next not-ready index, skipped below
		for i := 0; i < n && left > 0; i++ {
			if next < len(notReady) && notReady[next] == i {
				next++
				continue
			}
			if !yield(i) {
				return
			}
			left--
		}
	}
}

// statusRow is t's row, from its /tenants report.
func (e *endpoints) statusRow(t config.Tenant, host string, now time.Time) statusRow {
	tr := e.tenantReport(t)
	row := statusRow{ID: t.ID, Alias: t.Alias, Ready: len(e.tenantProblems(t)) == 0}
	var roles []string
	for _, sr := range tr.Scopes {
		s := statusScope{API: strings.TrimSuffix(sr.Scope, "/.default"), State: sr.State, Roles: sr.Roles}
		if sr.LastError != nil {
			shown := *sr.LastError
			shown.Message = tokencache.WithoutCode(shown.Message) // the page shows the code apart
			s.Error = &shown
		}
		if sr.Expires != nil {
			s.Expires = sr.Expires.Format(timeLayout) + " (" + fromNow(*sr.Expires, now) + ")"
		}
		if sr.RetryAt != nil {
			s.RetryAt = sr.RetryAt.Format(timeLayout) + " (" + fromNow(*sr.RetryAt, now) + ")"
		}
		if sr.LastError != nil && row.ConsentURL == "" {
			row.ConsentURL = sr.LastError.AdminConsentURL
		}
		roles = append(roles, sr.Roles...)
		row.Scopes = append(row.Scopes, s)
	}
	row.Missing = tokencache.MissingRoles(roles, e.Config.RequiredRoles)
	if e.Retrier != nil {
		row.Retry = retryCommand(host, t.Name(), e.RequireKeys)
	}
	return row
}

// retryCommand is the curl command that retries tenant through the admin
// listener at host, with the admin key from $ADMIN_KEY when one is
// required.
func retryCommand(host, tenant string, keyRequired bool) string {
	cmd := "curl -X POST http://" + host + "/tenants/" + tenant + "/retry"
	if keyRequired {
		cmd += ` -H "Authorization: Bearer $ADMIN_KEY"`
	}
	return cmd
}

// timeLayout is how the status page writes a time, always in UTC.
const timeLayout = "2006-01-02 15:04:05 UTC"

// fromNow says how far t is from now, to a person: "in 42m", "in 1h05m",
// "in 2d03h", "7s ago". Seconds show only under a minute, since the page
// is reloaded every few seconds anyway.
func fromNow(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	ago := d < 0
	if ago {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		s = fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		s = fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
	}
	if ago {
		return s + " ago"
	}
	return "in " + s
}
