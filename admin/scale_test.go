package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/admin"
	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// manyTenants serves n tenants (GUIDs %08x-0000-4000-8000-000000000000
// from 1, every seventh with an alias); each holds a Defender and a Graph
// token but those whose number is in failing, whose Defender token's
// acquisition failed for want of consent.
func manyTenants(t *testing.T, n int, failing ...int) admin.Options {
	t.Helper()
	tenants := make([]config.Tenant, n)
	states := tokenStates{}
	consent := &tokencache.AcquisitionError{Status: 400, OAuthError: "invalid_client", Codes: []int{65001}, Description: "AADSTS65001: no consent"}
	bad := map[int]bool{}
	for _, i := range failing {
		bad[i] = true
	}
	for i := range tenants {
		tenants[i] = config.Tenant{ID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i+1)}
		if i%7 == 0 {
			tenants[i].Alias = fmt.Sprintf("t%d", i+1)
		}
		for _, scope := range []string{defender, graph} {
			k := tokencache.Key{TenantID: tenants[i].ID, Scope: scope}
			states[k] = tokencache.Status{Key: k, HasToken: true, ExpiresOn: time.Now().Add(time.Hour), Roles: []string{"Incident.Read.All"}}
		}
		if bad[i+1] {
			k := tokencache.Key{TenantID: tenants[i].ID, Scope: defender}
			states[k] = tokencache.Status{Key: k, LastError: consent, RetryAt: time.Now().Add(time.Minute)}
		}
	}
	set, err := config.NewTenantSet(tenants)
	if err != nil {
		t.Fatal(err)
	}
	var ready admin.Readiness
	ready.MarkWarm()
	o := adminOptions(t, nil, false, states, &ready)
	o.Tenants = tenantList{set}
	return o
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	status, body := testutil.Get(t, url)
	if status != 200 {
		t.Fatalf("GET %s: %d", url, status)
	}
	return []byte(body)
}

// TestTenantsDocument: /tenants, written tenant by tenant, is one JSON
// document indented exactly as encoding/json indents it, for no tenant,
// one and many.
func TestTenantsDocument(t *testing.T) {
	for _, n := range []int{0, 1, 2, 1500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			body := get(t, serveAdmin(t, manyTenants(t, n, 1, n)).URL+"/tenants")
			var out struct {
				Tenants []struct {
					TenantID string `json:"tenant_id"`
				} `json:"tenants"`
			}
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("not one JSON document: %v", err)
			}
			if len(out.Tenants) != n || out.Tenants == nil {
				t.Fatalf("%d tenants (nil %v), want %d", len(out.Tenants), out.Tenants == nil, n)
			}
			var compact, indented bytes.Buffer
			if err := json.Compact(&compact, body); err != nil {
				t.Fatal(err)
			}
			if err := json.Indent(&indented, compact.Bytes(), "", "  "); err != nil {
				t.Fatal(err)
			}
			indented.WriteByte('\n')
			if !bytes.Equal(body, indented.Bytes()) {
				t.Errorf("indented otherwise than encoding/json does:\n%s", body[:min(len(body), 600)])
			}
		})
	}
}

// TestStatusPageRowLimit: past 500 tenants the page shows 500 rows, those
// not ready first, says so, and still counts every tenant.
func TestStatusPageRowLimit(t *testing.T) {
	id := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", i) }
	tests := []struct {
		n        int
		failing  []int
		rows     int
		note     string
		firstRow string
	}{
		{500, []int{3, 499}, 500, "", id(1)},
		{1200, []int{3, 1199}, 500, "Showing 500 of 1200 tenants, those not ready first", id(3)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			page := string(get(t, serveAdmin(t, manyTenants(t, tt.n, tt.failing...)).URL+"/"))
			if got := strings.Count(page, `<tbody class="tenant"`); got != tt.rows {
				t.Errorf("%d rows, want %d", got, tt.rows)
			}
			for _, i := range tt.failing {
				if !strings.Contains(page, `id="tenant-`+id(i)+`"`) {
					t.Errorf("tenant %d, not ready, has no row", i)
				}
			}
			if first := strings.Index(page, `<tbody class="tenant" id="tenant-`); first < 0 || !strings.HasPrefix(page[first+33:], tt.firstRow) {
				t.Errorf("the first row is not tenant %s", tt.firstRow)
			}
			counts := fmt.Sprintf(`<span id="tenant-count">%d</span> tenants</b><span><span id="ready-count">%d</span> ready · <span id="failing-count">%d</span> failing`,
				tt.n, tt.n-len(tt.failing), len(tt.failing))
			if !strings.Contains(page, counts) {
				t.Errorf("the page lacks %s", counts)
			}
			if hasNote := strings.Contains(page, `id="rows-note"`); hasNote != (tt.note != "") || !strings.Contains(page, tt.note) {
				t.Errorf("note %v, want %q", hasNote, tt.note)
			}
			if !strings.HasSuffix(page, "</html>") {
				t.Errorf("the page ends with %q", page[len(page)-min(len(page), 40):])
			}
		})
	}
}
