package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Tenant is one customer tenant the proxy serves.
type Tenant struct {
	// ID is the tenant's directory ID, a GUID in lower case.
	ID string
	// Alias is the short name clients may use instead of the GUID, in lower
	// case. Empty means the tenant has no alias.
	Alias string
}

// Name returns the alias when there is one, else the GUID: the name used in
// log lines.
func (t Tenant) Name() string {
	if t.Alias != "" {
		return t.Alias
	}
	return t.ID
}

// TenantSet is an immutable set of tenants, looked up by GUID or alias,
// case-insensitively. Its zero value is an empty set.
//
// The tenants are kept once, in list; the maps hold their index there,
// not a copy (24 bytes a map slot rather than 48: with 10,000 tenants,
// 0.4 MB less).
type TenantSet struct {
	byID    map[string]int32 // index in list
	byAlias map[string]int32 // index in list; nil when no tenant has an alias
	list    []Tenant
}

// NewTenantSet builds a set from tenants, refusing a GUID or alias that
// appears twice.
func NewTenantSet(tenants []Tenant) (*TenantSet, error) {
	s := &TenantSet{byID: make(map[string]int32, len(tenants)), list: make([]Tenant, 0, len(tenants))}
	aliasOf := map[string]string{} // alias → GUID, to name duplicates in input order
	for _, t := range tenants {
		if i, dup := s.byID[t.ID]; dup {
			if prev := s.list[i]; prev.Alias != t.Alias {
				return nil, fmt.Errorf("tenant %s is listed twice (as %q and %q)", t.ID, prev.Name(), t.Name())
			}
			continue // the same entry twice is harmless
		}
		if t.Alias != "" {
			if id, dup := aliasOf[t.Alias]; dup {
				return nil, fmt.Errorf("alias %q names two tenants (%s and %s)", t.Alias, id, t.ID)
			}
			aliasOf[t.Alias] = t.ID
		}
		s.byID[t.ID] = int32(len(s.list))
		s.list = append(s.list, t)
	}
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].ID < s.list[j].ID })
	s.list = slices.Clip(s.list)
	if len(aliasOf) > 0 {
		s.byAlias = make(map[string]int32, len(aliasOf))
	}
	for i, t := range s.list {
		s.byID[t.ID] = int32(i)
		if t.Alias != "" {
			s.byAlias[t.Alias] = int32(i)
		}
	}
	return s, nil
}

// Len returns the number of tenants in the set.
func (s *TenantSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.list)
}

// All returns the tenants ordered by GUID. The caller must not modify it.
func (s *TenantSet) All() []Tenant {
	if s == nil {
		return nil
	}
	return s.list
}

// Lookup finds a tenant by GUID or alias, ignoring case. It does not
// allocate when name is already in lower case.
func (s *TenantSet) Lookup(name string) (Tenant, bool) {
	if s == nil {
		return Tenant{}, false
	}
	name = asciiLower(name)
	i, ok := s.byID[name]
	if !ok {
		if i, ok = s.byAlias[name]; !ok {
			return Tenant{}, false
		}
	}
	return s.list[i], true
}

// ParseTenantList parses a comma list of `GUID` or `alias=GUID` entries, as
// in XDRPROXY_TENANTS. Blank entries are ignored.
func ParseTenantList(list string) ([]Tenant, error) {
	var tenants []Tenant
	var problems []string
	for _, entry := range commaList(list) {
		t, err := ParseTenant(entry)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		tenants = append(tenants, t)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return tenants, nil
}

// ParseTenant parses one `GUID` or `alias=GUID` entry.
func ParseTenant(entry string) (Tenant, error) {
	alias, id, hasAlias := strings.Cut(entry, "=")
	if !hasAlias {
		id, alias = alias, ""
	}
	id = strings.TrimSpace(id)
	alias = strings.TrimSpace(alias)
	if !IsGUID(id) {
		return Tenant{}, fmt.Errorf("%q is not a tenant GUID (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", id)
	}
	t := Tenant{ID: strings.ToLower(id)}
	if hasAlias {
		if !IsAlias(alias) {
			return Tenant{}, fmt.Errorf("%q is not a valid alias (1-63 characters of a-z 0-9 - _ .)", alias)
		}
		if IsGUID(alias) {
			return Tenant{}, fmt.Errorf("alias %q looks like a GUID; an alias must not", alias)
		}
		t.Alias = strings.ToLower(alias)
	}
	return t, nil
}

// IsGUID reports whether s has the 8-4-4-4-12 hexadecimal form of a GUID.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// IsAlias reports whether s is 1 to 63 characters of a-z, 0-9, '-', '_' or
// '.', ignoring case, and not "." or ".." (which are path segments).
func IsAlias(s string) bool {
	if len(s) == 0 || len(s) > 63 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // fold ASCII upper case onto lower case
		switch {
		case c >= 'a' && c <= 'z', s[i] >= '0' && s[i] <= '9', s[i] == '-', s[i] == '_', s[i] == '.':
		default:
			return false
		}
	}
	return true
}

// asciiLower lower-cases ASCII letters only, so that no Unicode folding
// (the Kelvin sign K lower-cases to k) can match a tenant. It does not
// allocate when s has no upper-case letter.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
