package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestTenantSources(t *testing.T) {
	path := writeFile(t, t.TempDir(), "tenants", tenantB+"\n")
	env := minimalEnv()
	env["XDRPROXY_TENANTS_FILE"] = path
	setEnv(t, env)
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.StaticTenants) != 1 || cfg.StaticTenants[0].ID != tenantA || cfg.TenantsFile != path || cfg.TenantsFileSum != SumOf([]byte(tenantB+"\n")) {
		t.Errorf("static %v, file %q, sum %x", cfg.StaticTenants, cfg.TenantsFile, cfg.TenantsFileSum)
	}
}

// TestTenantsSourceNamesWhatToEdit: messages about a tenant that is not
// configured name the variable, or the file with its path, or both.
func TestTenantsSourceNamesWhatToEdit(t *testing.T) {
	path := writeFile(t, t.TempDir(), "tenants", "contoso="+tenantB+"\n")
	tests := []struct {
		name  string
		set   map[string]string
		unset []string
		want  string
	}{
		{"variable", nil, nil, "XDRPROXY_TENANTS"},
		{"file", map[string]string{"XDRPROXY_TENANTS_FILE": path}, []string{"XDRPROXY_TENANTS"}, "XDRPROXY_TENANTS_FILE (" + path + ")"},
		{"both", map[string]string{"XDRPROXY_TENANTS_FILE": path}, nil, "XDRPROXY_TENANTS_FILE (" + path + ") or XDRPROXY_TENANTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, caseEnv(tt.set, tt.unset))
			cfg, err := Load()
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.TenantsSource(); got != tt.want {
				t.Errorf("TenantsSource() = %q, want %q", got, tt.want)
			}
			t.Setenv("XDRPROXY_DEFAULT_TENANT", "acme")
			_, err = Load()
			want := `XDRPROXY_DEFAULT_TENANT: "acme" is not one of the tenants configured in ` + tt.want
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load() = %v, want %q", err, want)
			}
		})
	}
}

func TestReadTenantsFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		want    []Tenant
		wantErr []string // text the error must contain; nil means success
	}{
		{
			name:    "comments, blank lines and CRLF",
			content: "# tenants\r\n\r\ncontoso=" + tenantA + " # prod\r\n  " + strings.ToUpper(tenantB) + "\r\n#" + tenantC + "\r\n",
			want:    []Tenant{{ID: tenantA, Alias: "contoso"}, {ID: tenantB}},
		},
		{
			name:    "no final newline",
			content: tenantA,
			want:    []Tenant{{ID: tenantA}},
		},
		{
			name:    "only comments",
			content: "# nothing yet\n\n",
			want:    nil,
		},
		{
			name:    "every bad line is reported with its number",
			content: tenantA + "\nnotaguid\n\nx!=" + tenantB + "\n",
			wantErr: []string{"line 2", `"notaguid"`, "line 4", `"x!"`},
		},
		{
			name:    "comma list is not a file line",
			content: tenantA + "," + tenantB + "\n",
			wantErr: []string{"line 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "tenants", tt.content)
			got, err := ReadTenantsFile(path)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("ReadTenantsFile() = %v, want an error", got)
				}
				for _, want := range append(tt.wantErr, path) {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("ReadTenantsFile() error %q does not contain %q", err, want)
					}
				}
				if got != nil {
					t.Errorf("ReadTenantsFile() returned tenants %v with its error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadTenantsFile() error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ReadTenantsFile() mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "missing")
		if got, err := ReadTenantsFile(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("ReadTenantsFile(missing) = %v, %v; want an error naming %s", got, err, path)
		}
	})
}

// FuzzTenantsFile checks that a tenants file either parses into valid,
// unique tenants or is refused.
func FuzzTenantsFile(f *testing.F) {
	f.Add("contoso=11111111-1111-4111-8111-111111111111\n# c\n22222222-2222-4222-8222-222222222222\n")
	f.Add("x=y\n")
	f.Fuzz(func(t *testing.T, file string) {
		tenants, err := ParseTenantsFile("tenants", []byte(file))
		if err != nil {
			return
		}
		set, err := NewTenantSet(tenants)
		if err != nil {
			return // duplicates are refused by the set
		}
		for _, tn := range set.All() {
			if !IsGUID(tn.ID) || tn.ID != strings.ToLower(tn.ID) || tn.Alias != "" && !IsAlias(tn.Alias) {
				t.Fatalf("accepted tenant %+v", tn)
			}
		}
	})
}
