package admin_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/admin"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// noRetry is a TenantRetrier that changes nothing.
type noRetry struct{}

func (noRetry) Retry(context.Context, string, []string) error { return nil }

// statusPage fetches / from srvURL with authorization (none if empty).
func statusPage(t *testing.T, srvURL, authorization string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", srvURL+"/", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, body := testutil.Do(t, req)
	return resp, string(body)
}

// statusOptions serve contoso (valid Defender token, Graph refresh
// failing) and fabrikam (no consent, with a hostile description), at a
// fixed time, with a retry endpoint.
func statusOptions(t *testing.T, now time.Time) admin.Options {
	t.Helper()
	consent := &tokencache.AcquisitionError{TenantID: fabrikam, Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016},
		Description: `AADSTS700016: Application <script>alert("x")</script> was not found in the directory`}
	states := tokenStates{
		{TenantID: contoso, Scope: defender}: {HasToken: true, ExpiresOn: now.Add(42 * time.Minute), Roles: []string{"Incident.Read.All"}},
		{TenantID: contoso, Scope: graph}: {HasToken: true, ExpiresOn: now.Add(3 * time.Minute), Roles: []string{"SecurityIncident.Read.All"},
			LastError: context.DeadlineExceeded, RetryAt: now.Add(90 * time.Second)},
		{TenantID: fabrikam, Scope: defender}: {LastError: consent, RetryAt: now.Add(-time.Second)},
	}
	var ready admin.Readiness
	ready.MarkWarm()
	o := adminOptions(t, []string{"Incident.Read.All", "SecurityIncident.Read.All"}, false, states, &ready)
	o.Retrier, o.Version, o.Now = noRetry{}, "xdrproxy 1.2.3", func() time.Time { return now }
	return o
}

func TestStatusPage(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	srv := serveAdmin(t, statusOptions(t, now))
	resp, page := statusPage(t, srv.URL, "")
	if resp.StatusCode != 200 {
		t.Fatalf("/: %d %s", resp.StatusCode, page)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	consentURL := tokencache.AdminConsentURL(&url.URL{Scheme: "https", Host: "login.microsoftonline.com"}, "00000000-5eed-4a11-b0b0-00000000c11e", fabrikam)
	for _, want := range []string{
		`<meta http-equiv="refresh" content="5">`,
		`<small class="version">xdrproxy 1.2.3</small>`,
		`<b class="good">ready</b>`, // /readyz's answer: one tenant failing is not the pod's problem
		`<span id="tenant-count">2</span> tenants`, `<span id="ready-count">1</span> ready`, `<span id="failing-count">2</span> failing`,
		`<tbody class="tenant" id="tenant-` + contoso + `">`, `<b class="alias">contoso</b>`,
		`<tbody class="tenant" id="tenant-` + fabrikam + `">`, `<code class="guid">` + fabrikam + `</code>`,
		`<code class="api">https://api.security.microsoft.com</code> <span class="badge state ok">valid</span>`,
		`expires 2025-06-01 12:42:00 UTC (in 42m)`,
		`<code class="api">https://graph.microsoft.com</code> <span class="badge state warn">failing</span>`,
		`next attempt 2025-06-01 12:01:30 UTC (in 1m)`,
		`<span class="badge state bad">failed</span>`, `<span class="badge state">none</span>`,
		`<b class="aadsts">AADSTS700016</b>`, `consent_required`,
		`<li><code>SecurityIncident.Read.All</code></li>`, // fabrikam's missing roles
		`<a class="consent" href="` + html.EscapeString(consentURL) + `" rel="noreferrer">admin-consent link</a>`,
		`<code class="retry">curl -X POST http://` + host + `/tenants/contoso/retry</code>`,
		`<code class="retry">curl -X POST http://` + host + `/tenants/` + fabrikam + `/retry</code>`,
		`Application &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; was not found`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := strings.Count(page, `<tbody class="tenant"`); n != 2 {
		t.Errorf("%d tenants, want 2", n)
	}
	if strings.Count(page, `class="consent"`) != 1 {
		t.Error("a consent link for a tenant that has consented")
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "Bearer") {
		t.Error("an unescaped <script>, or an Authorization header where no admin key is needed")
	}
	for header, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
}

func TestStatusPageStates(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		change  func(*admin.Options)
		want    []string
		wantNot []string
	}{
		{"warming up: /readyz's words", func(o *admin.Options) { o.Readiness = &admin.Readiness{} },
			[]string{`<b class="alarm">not ready</b><span>warming up: acquiring tenant tokens</span>`}, nil},
		{"no version, no Redis, no retry endpoint", func(o *admin.Options) { o.Version, o.Retrier = "", nil },
			nil, []string{`class="version"`, `id="redis"`, `class="retry"`}},
		{"Redis up", func(o *admin.Options) { o.RedisUp = func() bool { return true } },
			[]string{`<b class="good">Redis up</b>`}, nil},
		{"Redis down", func(o *admin.Options) { o.RedisUp = func() bool { return false } },
			[]string{`<b class="alarm">Redis down</b><span>this replica uses its own state</span>`}, nil},
		{"a consent link that is not http(s) is never live", func(o *admin.Options) { o.Config.AuthorityHost = &url.URL{Scheme: "javascript", Host: "x"} },
			[]string{`href="#ZgotmplZ"`}, []string{`href="javascript`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := statusOptions(t, now)
			tt.change(&o)
			_, page := statusPage(t, serveAdmin(t, o).URL, "")
			for _, want := range tt.want {
				if !strings.Contains(page, want) {
					t.Errorf("the page lacks %s", want)
				}
			}
			for _, not := range tt.wantNot {
				if strings.Contains(page, not) {
					t.Errorf("the page has %s", not)
				}
			}
		})
	}
}

func TestStatusPageGuarded(t *testing.T) {
	o := statusOptions(t, time.Now())
	o.RequireKeys, o.Keys = true, admin.NewKeys(adminKeys(t, "admin-key-1"))
	srv := serveAdmin(t, o)
	if resp, page := statusPage(t, srv.URL, ""); resp.StatusCode != 401 || strings.Contains(page, contoso) {
		t.Errorf("/ without a key: %d %s", resp.StatusCode, page)
	}
	if resp, _ := statusPage(t, srv.URL, "Bearer admin-key-2"); resp.StatusCode != 401 {
		t.Errorf("/ with a wrong key: %d", resp.StatusCode)
	}
	resp, page := statusPage(t, srv.URL, "Bearer admin-key-1")
	if resp.StatusCode != 200 {
		t.Fatalf("/ with the key: %d %s", resp.StatusCode, page)
	}
	want := `/tenants/contoso/retry -H &#34;Authorization: Bearer $ADMIN_KEY&#34;</code>`
	if !strings.Contains(page, want) {
		t.Errorf("the retry line lacks the admin key header: want %s", want)
	}
	if strings.Contains(page, "admin-key-1") {
		t.Error("the page shows the admin key")
	}
	for _, path := range []string{"/index.html", "//", "/%2F"} {
		if a := ask(t, "GET", srv.URL+path, ""); a.status != 401 {
			t.Errorf("%s without a key: %d, want 401", path, a.status)
		}
	}
}
