package config

import (
	"fmt"
	"strings"
)

// tenants fills the tenant set from XDRPROXY_TENANTS and
// XDRPROXY_TENANTS_FILE together, and the default tenant, which must be
// one of them.
func (e env) tenants(c *Config, p *problems) {
	var all []Tenant
	bad := false
	if e.Tenants != "" {
		list, err := ParseTenantList(e.Tenants)
		if err != nil {
			p.add("TENANTS", "%v", err)
			bad = true
		}
		all = append(all, list...)
		c.StaticTenants = list
	}
	if e.TenantsFile != "" {
		c.TenantsFile = e.TenantsFile
		data, err := readFile(e.TenantsFile)
		var list []Tenant
		if err == nil {
			list, err = parseTenantLines(e.TenantsFile, data)
		} else {
			err = fmt.Errorf("reading tenants file: %w", err)
		}
		if err != nil {
			p.add("TENANTS_FILE", "%v", err)
			bad = true
		}
		c.TenantsFileContent = data
		all = append(all, list...)
	}
	if bad {
		return
	}
	if len(all) == 0 {
		p.add("TENANTS", "no tenant is configured: set XDRPROXY_TENANTS to a comma list of GUID or alias=GUID (or XDRPROXY_TENANTS_FILE)")
		return
	}
	set, err := NewTenantSet(all)
	if err != nil {
		p.add("TENANTS", "%v", err)
		return
	}
	c.Tenants = set
	if name := strings.TrimSpace(e.DefaultTenant); name != "" {
		t, ok := set.Lookup(name)
		if !ok {
			p.add("DEFAULT_TENANT", "%q is not one of the configured tenants (XDRPROXY_TENANTS)", name)
			return
		}
		c.DefaultTenant = t
	}
}

// ReadTenantsFile reads a tenants file: one `GUID` or `alias=GUID` a line,
// `#` starting a comment.
func ReadTenantsFile(path string) ([]Tenant, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tenants file: %w", err)
	}
	return parseTenantLines(path, data)
}

// ParseTenantsFile parses a tenants file's content: one `GUID` or
// `alias=GUID` a line, `#` starting a comment. name is used in errors.
func ParseTenantsFile(name string, data []byte) ([]Tenant, error) {
	return parseTenantLines(name, data)
}

func parseTenantLines(path string, data []byte) ([]Tenant, error) {
	var tenants []Tenant
	var bad []string
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		t, err := ParseTenant(line)
		if err != nil {
			bad = append(bad, fmt.Sprintf("line %d: %v", i+1, err))
			continue
		}
		tenants = append(tenants, t)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: %s", path, strings.Join(bad, "; "))
	}
	return tenants, nil
}

// TenantSetFrom builds the tenant set of XDRPROXY_TENANTS plus a tenants
// file's tenants, as Load does.
func TenantSetFrom(static, fromFile []Tenant) (*TenantSet, error) {
	all := append(append([]Tenant(nil), static...), fromFile...)
	return NewTenantSet(all)
}
