package config

import (
	"fmt"
	"strings"
)

// tenants fills the tenant set from XDRPROXY_TENANTS and
// XDRPROXY_TENANTS_FILE together, and the default tenant, which must be
// one of them. When either source is refused, there is no set.
func (e env) tenants(c *Config, p *problems) {
	static, staticOK := e.staticTenants(c, p)
	fromFile, fileOK := e.fileTenants(c, p)
	if !staticOK || !fileOK {
		return
	}
	if len(static)+len(fromFile) == 0 {
		p.add("TENANTS", "no tenant is configured: set XDRPROXY_TENANTS to a comma list of GUID or alias=GUID (or XDRPROXY_TENANTS_FILE)")
		return
	}
	set, err := TenantSetFrom(static, fromFile)
	if err != nil {
		p.add("TENANTS", "%v", err)
		return
	}
	c.Tenants = set
	e.defaultTenant(c, p)
}

// staticTenants fills c.StaticTenants from XDRPROXY_TENANTS and reports
// whether they parsed.
func (e env) staticTenants(c *Config, p *problems) ([]Tenant, bool) {
	if e.Tenants == "" {
		return nil, true
	}
	list, err := ParseTenantList(e.Tenants)
	if err != nil {
		p.add("TENANTS", "%v", err)
	}
	c.StaticTenants = list
	return list, err == nil
}

// fileTenants reads XDRPROXY_TENANTS_FILE, keeping its name and its
// content's sum for reloads, and reports whether it parsed.
func (e env) fileTenants(c *Config, p *problems) ([]Tenant, bool) {
	if e.TenantsFile == "" {
		return nil, true
	}
	c.TenantsFile = e.TenantsFile
	list, data, err := readTenantsFile(e.TenantsFile)
	if err != nil {
		p.add("TENANTS_FILE", "%v", err)
	}
	c.TenantsFileSum = SumOf(data)
	return list, err == nil
}

// defaultTenant fills the tenant of requests that name none.
func (e env) defaultTenant(c *Config, p *problems) {
	name := strings.TrimSpace(e.DefaultTenant)
	if name == "" {
		return
	}
	t, ok := c.Tenants.Lookup(name)
	if !ok {
		p.add("DEFAULT_TENANT", "%q is not one of the tenants configured in %s", name, c.TenantsSource())
		return
	}
	c.DefaultTenant = t
}

// TenantsSource names where the tenants come from, for messages that
// tell the operator what to edit: XDRPROXY_TENANTS, XDRPROXY_TENANTS_FILE
// with its path, or both (the file first: it is re-read live).
func (c *Config) TenantsSource() string {
	file := Prefix + "_TENANTS_FILE (" + c.TenantsFile + ")"
	switch {
	case c.TenantsFile == "":
		return Prefix + "_TENANTS"
	case len(c.StaticTenants) == 0:
		return file
	}
	return file + " or " + Prefix + "_TENANTS"
}

// TenantSetFrom builds the tenant set of XDRPROXY_TENANTS plus a tenants
// file's tenants, as Load does.
func TenantSetFrom(static, fromFile []Tenant) (*TenantSet, error) {
	all := append(append([]Tenant(nil), static...), fromFile...)
	return NewTenantSet(all)
}

// ReadTenantsFile reads a tenants file: one `GUID` or `alias=GUID` a line,
// `#` starting a comment.
func ReadTenantsFile(path string) ([]Tenant, error) {
	tenants, _, err := readTenantsFile(path)
	return tenants, err
}

// readTenantsFile reads and parses a tenants file, and returns its
// content too.
func readTenantsFile(path string) ([]Tenant, []byte, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, data, fmt.Errorf("reading tenants file: %w", err)
	}
	tenants, err := ParseTenantsFile(path, data)
	return tenants, data, err
}

// ParseTenantsFile parses a tenants file's content: one `GUID` or
// `alias=GUID` a line, `#` starting a comment. name is used in errors.
func ParseTenantsFile(name string, data []byte) ([]Tenant, error) {
	var tenants []Tenant
	var bad []string
	for n, line := range entryLines(data) {
		t, err := ParseTenant(line)
		if err != nil {
			bad = append(bad, fmt.Sprintf("line %d: %v", n, err))
			continue
		}
		tenants = append(tenants, t)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: %s", name, strings.Join(bad, "; "))
	}
	return tenants, nil
}
