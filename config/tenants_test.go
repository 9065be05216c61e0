package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestIsGUID(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"lower case", "0a1b2c3d-4e5f-6789-abcd-ef0123456789", true},
		{"upper case", "0A1B2C3D-4E5F-6789-ABCD-EF0123456789", true},
		{"mixed case", "0a1B2c3D-4e5F-6789-aBcD-Ef0123456789", true},
		{"all zeros", "00000000-0000-0000-0000-000000000000", true},
		{"empty", "", false},
		{"35 characters", "0a1b2c3d-4e5f-6789-abcd-ef012345678", false},
		{"37 characters", "0a1b2c3d-4e5f-6789-abcd-ef01234567890", false},
		{"no hyphens", "0a1b2c3d4e5f6789abcdef0123456789", false},
		{"hyphens moved", "0a1b2c3-d4e5f-6789-abcd-ef0123456789", false},
		{"underscore for hyphen", "0a1b2c3d_4e5f-6789-abcd-ef0123456789", false},
		{"hex where a hyphen goes", "0a1b2c3d04e5f06789aabcd0ef0123456789", false},
		{"non-hex letter g", "0a1b2c3d-4e5f-6789-abcd-ef012345678g", false},
		{"non-hex letter G", "0a1b2c3d-4e5f-6789-abcd-ef012345678G", false},
		{"braces", "{0a1b2c3d-4e5f-6789-abcd-ef0123456789}", false},
		{"leading space", " 0a1b2c3d-4e5f-6789-abcd-ef012345678", false},
		{"trailing newline", "0a1b2c3d-4e5f-6789-abcd-ef012345678\n", false},
		{"36 bytes with a two-byte rune", "0a1b2c3d-4e5f-6789-abcd-ef01234567é", false},
		{"36 bytes with a fullwidth digit", "0a1b2c3d-4e5f-6789-abcd-ef0123456\uff17", false},
		{"byte above ASCII", "0a1b2c3d-4e5f-6789-abcd-ef012345678\xc1", false},
		{"NUL byte", "0a1b2c3d-4e5f-6789-abcd-ef012345678\x00", false},
		{"hyphens only", "------------------------------------", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsGUID(tt.s); got != tt.want {
				t.Errorf("IsGUID(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestIsAlias(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"lower case", "contoso", true},
		{"upper case", "CONTOSO", true},
		{"one character", "a", true},
		{"one digit", "7", true},
		{"digits", "2024", true},
		{"dots, underscores and hyphens", "eu.prod_contoso-2", true},
		{"only punctuation", "._-", true},
		{"63 characters", strings.Repeat("a", 63), true},
		{"64 characters", strings.Repeat("a", 64), false},
		{"empty", "", false},
		{"space", "bad alias", false},
		{"bang", "x!", false},
		{"equals", "a=b", false},
		{"comma", "a,b", false},
		{"slash", "a/b", false},
		{"colon", "a:b", false},
		{"hash", "a#b", false},
		{"at sign, which folds to a backquote", "@", false},
		{"backquote", "`", false},
		{"left bracket, which folds to a brace", "[", false},
		{"brace", "{", false},
		{"tilde", "~", false},
		{"DEL", "\x7f", false},
		{"NUL", "a\x00", false},
		{"accented letter", "café", false},
		{"fullwidth letter", "ｃontoso", false},
		{"Kelvin sign, which lower-cases to k", "\u212aontoso", false},
		{"byte above ASCII", "\xc1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsAlias(tt.s); got != tt.want {
				t.Errorf("IsAlias(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestParseTenant(t *testing.T) {
	tests := []struct {
		name    string
		entry   string
		want    Tenant
		wantErr string // text the error must contain; empty means success
	}{
		{name: "GUID", entry: tenantA, want: Tenant{ID: tenantA}},
		{name: "upper-case GUID", entry: strings.ToUpper(tenantA), want: Tenant{ID: tenantA}},
		{name: "alias", entry: "contoso=" + tenantA, want: Tenant{ID: tenantA, Alias: "contoso"}},
		{name: "upper-case alias and GUID", entry: "CONTOSO=" + strings.ToUpper(tenantA), want: Tenant{ID: tenantA, Alias: "contoso"}},
		{name: "spaces around both sides", entry: " contoso \t=  " + tenantA + " ", want: Tenant{ID: tenantA, Alias: "contoso"}},
		{name: "not a GUID", entry: "notaguid", wantErr: `"notaguid" is not a tenant GUID`},
		{name: "empty", entry: "", wantErr: `"" is not a tenant GUID`},
		{name: "alias without a GUID", entry: "contoso=", wantErr: "is not a tenant GUID"},
		{name: "GUID without an alias", entry: "=" + tenantA, wantErr: `"" is not a valid alias`},
		{name: "bad alias", entry: "bad alias!=" + tenantA, wantErr: `"bad alias!" is not a valid alias`},
		{name: "two equals signs", entry: "a=b=" + tenantA, wantErr: "is not a tenant GUID"},
		{name: "alias that is a GUID", entry: tenantB + "=" + tenantA, wantErr: "looks like a GUID"},
		{name: "GUID first", entry: tenantA + "=contoso", wantErr: `"contoso" is not a tenant GUID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTenant(tt.entry)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseTenant(%q) error = %v, want one containing %q", tt.entry, err, tt.wantErr)
				}
				if got != (Tenant{}) {
					t.Errorf("ParseTenant(%q) = %+v with its error, want the zero Tenant", tt.entry, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTenant(%q) error: %v", tt.entry, err)
			}
			if got != tt.want {
				t.Errorf("ParseTenant(%q) = %+v, want %+v", tt.entry, got, tt.want)
			}
		})
	}
}

func TestParseTenantList(t *testing.T) {
	tests := []struct {
		name    string
		list    string
		want    []Tenant
		wantErr []string // text the error must contain; nil means success
	}{
		{name: "empty", list: "", want: nil},
		{name: "only commas and spaces", list: " , ,, ", want: nil},
		{name: "one GUID", list: tenantA, want: []Tenant{{ID: tenantA}}},
		{
			name: "mixed entries keep their order",
			list: tenantC + ", Contoso=" + strings.ToUpper(tenantA) + ",,fabrikam = " + tenantB + ",",
			want: []Tenant{{ID: tenantC}, {ID: tenantA, Alias: "contoso"}, {ID: tenantB, Alias: "fabrikam"}},
		},
		{
			name: "duplicates are left to NewTenantSet",
			list: tenantA + "," + tenantA,
			want: []Tenant{{ID: tenantA}, {ID: tenantA}},
		},
		{name: "one bad entry", list: tenantA + ",notaguid", wantErr: []string{`"notaguid"`}},
		{
			name:    "every bad entry",
			list:    "notaguid, " + tenantA + ", x!=" + tenantB + ", " + tenantC + "=" + tenantD,
			wantErr: []string{`"notaguid"`, `"x!"`, tenantC},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTenantList(tt.list)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("ParseTenantList(%q) = %v, want an error", tt.list, got)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("ParseTenantList(%q) error %q does not contain %q", tt.list, err, want)
					}
				}
				if got != nil {
					t.Errorf("ParseTenantList(%q) returned %v with its error", tt.list, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTenantList(%q) error: %v", tt.list, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseTenantList(%q) mismatch (-want +got):\n%s", tt.list, diff)
			}
		})
	}
}

func TestNewTenantSet(t *testing.T) {
	tests := []struct {
		name    string
		tenants []Tenant
		want    []Tenant // All(), ordered by GUID
		wantErr []string // text the error must contain; nil means success
	}{
		{name: "none", tenants: nil, want: nil},
		{
			name:    "ordered by GUID",
			tenants: []Tenant{{ID: tenantC}, {ID: tenantA, Alias: "contoso"}, {ID: tenantB}},
			want:    []Tenant{{ID: tenantA, Alias: "contoso"}, {ID: tenantB}, {ID: tenantC}},
		},
		{
			name:    "the same entry twice is kept once",
			tenants: []Tenant{{ID: tenantA, Alias: "contoso"}, {ID: tenantB}, {ID: tenantA, Alias: "contoso"}, {ID: tenantB}},
			want:    []Tenant{{ID: tenantA, Alias: "contoso"}, {ID: tenantB}},
		},
		{
			name:    "one GUID under two aliases",
			tenants: []Tenant{{ID: tenantA, Alias: "contoso"}, {ID: tenantA, Alias: "fabrikam"}},
			wantErr: []string{tenantA, `"contoso"`, `"fabrikam"`},
		},
		{
			name:    "one GUID with and without an alias",
			tenants: []Tenant{{ID: tenantA}, {ID: tenantA, Alias: "contoso"}},
			wantErr: []string{tenantA, `"contoso"`},
		},
		{
			name:    "one alias for two GUIDs",
			tenants: []Tenant{{ID: tenantA, Alias: "contoso"}, {ID: tenantB, Alias: "contoso"}},
			wantErr: []string{`"contoso"`, tenantA, tenantB},
		},
		{
			name:    "one alias for two GUIDs, named in the order given",
			tenants: []Tenant{{ID: tenantC, Alias: "contoso"}, {ID: tenantA, Alias: "contoso"}},
			wantErr: []string{`"contoso" names two tenants (` + tenantC + " and " + tenantA + ")"},
		},
		{
			name:    "an alias twice is found before a GUID twice later on",
			tenants: []Tenant{{ID: tenantA, Alias: "x"}, {ID: tenantB, Alias: "x"}, {ID: tenantA, Alias: "y"}},
			wantErr: []string{`alias "x"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewTenantSet(tt.tenants)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("NewTenantSet(%v) = %v, want an error", tt.tenants, got.All())
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("NewTenantSet(%v) error %q does not contain %q", tt.tenants, err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("NewTenantSet(%v) error: %v", tt.tenants, err)
			}
			if diff := cmp.Diff(tt.want, got.All(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("NewTenantSet(%v).All() mismatch (-want +got):\n%s", tt.tenants, diff)
			}
			if got.Len() != len(tt.want) {
				t.Errorf("NewTenantSet(%v).Len() = %d, want %d", tt.tenants, got.Len(), len(tt.want))
			}
		})
	}
}

func TestTenantSetLookup(t *testing.T) {
	contoso := Tenant{ID: tenantA, Alias: "contoso.eu"}
	plain := Tenant{ID: tenantB}
	set := mustTenantSet(t, contoso, plain)

	tests := []struct {
		name   string
		lookup string
		want   Tenant
		found  bool
	}{
		{"GUID", tenantA, contoso, true},
		{"upper-case GUID", strings.ToUpper(tenantA), contoso, true},
		{"alias", "contoso.eu", contoso, true},
		{"upper-case alias", "CONTOSO.EU", contoso, true},
		{"mixed-case alias", "Contoso.Eu", contoso, true},
		{"GUID of a tenant without an alias", tenantB, plain, true},
		{"upper-case GUID of a tenant without an alias", strings.ToUpper(tenantB), plain, true},
		{"empty name does not match a tenant without an alias", "", Tenant{}, false},
		{"unknown alias", "fabrikam", Tenant{}, false},
		{"unknown GUID", tenantC, Tenant{}, false},
		{"alias with a space", " contoso.eu", Tenant{}, false},
		{"GUID with braces", "{" + tenantA + "}", Tenant{}, false},
		{"prefix of an alias", "contoso", Tenant{}, false},
		{"Name of the tenant without an alias", plain.Name(), plain, true},
		{"Name of the tenant with an alias", contoso.Name(), contoso, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := set.Lookup(tt.lookup)
			if got != tt.want || found != tt.found {
				t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tt.lookup, got, found, tt.want, tt.found)
			}
		})
	}

	t.Run("nil set", func(t *testing.T) {
		var nilSet *TenantSet
		if got, found := nilSet.Lookup(tenantA); found || got != (Tenant{}) {
			t.Errorf("nil set: Lookup(%q) = %+v, %v; want the zero Tenant, false", tenantA, got, found)
		}
		if got := nilSet.Len(); got != 0 {
			t.Errorf("nil set: Len() = %d, want 0", got)
		}
		if got := nilSet.All(); got != nil {
			t.Errorf("nil set: All() = %v, want nil", got)
		}
	})

	t.Run("zero set", func(t *testing.T) {
		var zero TenantSet
		if got, found := zero.Lookup(tenantA); found || got != (Tenant{}) {
			t.Errorf("zero set: Lookup(%q) = %+v, %v; want the zero Tenant, false", tenantA, got, found)
		}
		if got := zero.Len(); got != 0 {
			t.Errorf("zero set: Len() = %d, want 0", got)
		}
	})
}

func TestTenantSetLookupDoesNotAllocate(t *testing.T) {
	set := mustTenantSet(t, Tenant{ID: tenantA, Alias: "contoso"}, Tenant{ID: tenantB})
	for _, name := range []string{tenantA, "contoso", tenantB, "unknown"} {
		t.Run(name, func(t *testing.T) {
			var found bool
			allocs := testing.AllocsPerRun(100, func() {
				_, found = set.Lookup(name)
			})
			if allocs != 0 {
				t.Errorf("Lookup(%q) allocates %v times, want 0", name, allocs)
			}
			if want := name != "unknown"; found != want {
				t.Errorf("Lookup(%q) found = %v, want %v", name, found, want)
			}
		})
	}
}

func TestTenantName(t *testing.T) {
	if got := (Tenant{ID: tenantA, Alias: "contoso"}).Name(); got != "contoso" {
		t.Errorf("Name() with an alias = %q, want %q", got, "contoso")
	}
	if got := (Tenant{ID: tenantA}).Name(); got != tenantA {
		t.Errorf("Name() without an alias = %q, want %q", got, tenantA)
	}
}

func FuzzParseTenant(f *testing.F) {
	for _, seed := range []string{
		tenantA,
		strings.ToUpper(tenantA),
		"contoso=" + tenantA,
		"Contoso.EU_2-x = " + strings.ToUpper(tenantB) + " ",
		"=" + tenantA,
		"contoso=",
		"a=b=" + tenantA,
		tenantB + "=" + tenantA,
		"bad alias!=" + tenantA,
		strings.Repeat("a", 63) + "=" + tenantA,
		strings.Repeat("a", 64) + "=" + tenantA,
		"\u212aontoso=" + tenantA,
		"notaguid",
		"",
		"=",
		"\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		tenant, err := ParseTenant(entry)
		if err != nil {
			if tenant != (Tenant{}) {
				t.Fatalf("ParseTenant(%q) = %+v with error %v, want the zero Tenant", entry, tenant, err)
			}
			return
		}

		if !IsGUID(tenant.ID) || tenant.ID != strings.ToLower(tenant.ID) {
			t.Fatalf("ParseTenant(%q).ID = %q, want a lower-case GUID", entry, tenant.ID)
		}
		if !strings.Contains(strings.ToLower(entry), tenant.ID) {
			t.Fatalf("ParseTenant(%q).ID = %q, which the entry does not hold", entry, tenant.ID)
		}
		if tenant.Alias != "" {
			if !IsAlias(tenant.Alias) || IsGUID(tenant.Alias) || tenant.Alias != strings.ToLower(tenant.Alias) {
				t.Fatalf("ParseTenant(%q).Alias = %q, want a lower-case alias that is not a GUID", entry, tenant.Alias)
			}
		}

		// Printing the tenant back gives an entry that parses the same.
		canonical := tenant.ID
		if tenant.Alias != "" {
			canonical = tenant.Alias + "=" + tenant.ID
		}
		if again, err := ParseTenant(canonical); err != nil || again != tenant {
			t.Fatalf("ParseTenant(%q) = %+v, %v; want %+v, as for %q", canonical, again, err, tenant, entry)
		}

		set, err := NewTenantSet([]Tenant{tenant})
		if err != nil {
			t.Fatalf("NewTenantSet(%+v): %v", tenant, err)
		}
		names := []string{tenant.ID, strings.ToUpper(tenant.ID)}
		if tenant.Alias != "" {
			names = append(names, tenant.Alias, strings.ToUpper(tenant.Alias))
		}
		for _, name := range names {
			if got, ok := set.Lookup(name); !ok || got != tenant {
				t.Fatalf("ParseTenant(%q) = %+v, but Lookup(%q) = %+v, %v", entry, tenant, name, got, ok)
			}
		}
	})
}
