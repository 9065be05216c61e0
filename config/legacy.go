package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// TenantListener is an extra proxy listener that serves one tenant only,
// for tools that can be given nothing but host:port.
type TenantListener struct {
	// Addr is the listener's host:port.
	Addr string
	// Tenant is the tenant as configured: a GUID or an alias, in lower
	// case. It is looked up again for every request, so that it follows
	// the tenants file.
	Tenant string
}

// ParseTenantListeners parses XDRPROXY_TENANT_LISTENERS: a comma list of
// ADDR=TENANT. Each tenant must be one of tenants (nil: not checked, as
// when the tenants are themselves invalid); reserved are addresses the
// proxy already listens on. With an error, it also returns the listeners
// that parsed.
func ParseTenantListeners(s string, tenants *TenantSet, reserved ...string) ([]TenantListener, error) {
	var out []TenantListener
	var bad []string
	taken := append([]string(nil), reserved...)
	for _, item := range commaList(s) {
		addr, name, ok := strings.Cut(item, "=")
		addr, name = strings.TrimSpace(addr), strings.ToLower(strings.TrimSpace(name))
		if !ok || addr == "" || name == "" {
			bad = append(bad, fmt.Sprintf("%q is not ADDR=TENANT (such as 127.0.0.1:8081=contoso)", item))
			continue
		}
		if err := checkListenAddr(addr); err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if _, ok := tenants.Lookup(name); !ok && tenants != nil {
			bad = append(bad, fmt.Sprintf("%s: %q is not one of the configured tenants (XDRPROXY_TENANTS or XDRPROXY_TENANTS_FILE)", addr, name))
			continue
		}
		if other := clash(addr, taken); other != "" {
			bad = append(bad, fmt.Sprintf("%s clashes with %s (XDRPROXY_LISTEN_ADDR, XDRPROXY_ADMIN_ADDR and each tenant listener need a port of their own)", addr, other))
			continue
		}
		taken = append(taken, addr)
		out = append(out, TenantListener{Addr: addr, Tenant: name})
	}
	if len(bad) > 0 {
		return out, errors.New(strings.Join(bad, "; ")) // the good ones, for further checks
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q names no listener", s)
	}
	return out, nil
}

// tenantListeners fills the listeners pinned to one tenant each; every
// one that others can reach must authenticate its clients.
func (e env) tenantListeners(c *Config, p *problems) {
	s := strings.TrimSpace(e.TenantListeners)
	if s == "" {
		return
	}
	list, err := ParseTenantListeners(s, c.Tenants, c.ListenAddr, c.AdminAddr)
	if err != nil {
		p.add("TENANT_LISTENERS", "%v", err)
	}
	for _, l := range list {
		if c.openToAnyone(l.Addr) {
			p.add("TENANT_LISTENERS", "%q is reachable from other machines and no client keys are configured (XDRPROXY_CLIENT_KEYS_FILE); set it, listen on 127.0.0.1, or set XDRPROXY_ALLOW_UNAUTHENTICATED=true if a network policy already restricts who can connect", l.Addr)
		}
	}
	if err == nil {
		c.TenantListeners = list
	}
}

// tokenEmulation fills whether placeholder tokens are issued and the key
// that signs them, which is only of use when they are.
func (e env) tokenEmulation(c *Config, p *problems) {
	var err error
	if c.TokenEmulation, err = parseBool(e.TokenEmulation); err != nil {
		p.add("TOKEN_EMULATION", "%v", err)
	}
	if c.PlaceholderKeyFile = strings.TrimSpace(e.PlaceholderKeyFile); c.PlaceholderKeyFile == "" {
		return
	}
	_, err = readChecked(c.PlaceholderKeyFile, func(data []byte) (err error) {
		c.PlaceholderKey, err = ParsePlaceholderKey(data)
		return err
	})
	switch {
	case err != nil:
		p.add("PLACEHOLDER_KEY_FILE", "%v", err)
	case !c.TokenEmulation:
		p.add("PLACEHOLDER_KEY_FILE", "signs placeholder tokens, which only XDRPROXY_TOKEN_EMULATION=true issues; set that or unset this")
	}
}

// ParsePlaceholderKey parses the PEM private key of
// XDRPROXY_PLACEHOLDER_KEY_FILE: PKCS#8, SEC 1 or PKCS#1, holding an EC
// P-256, RSA (2048 bits or more) or Ed25519 key. The error never quotes
// the key.
func ParsePlaceholderKey(data []byte) (crypto.Signer, error) {
	var block *pem.Block
	for rest := data; ; {
		block, rest = pem.Decode(rest)
		if block == nil || strings.Contains(block.Type, "PRIVATE KEY") {
			break
		}
	}
	if block == nil {
		return nil, errors.New("holds no PEM private key (want PKCS#8 \"PRIVATE KEY\", SEC 1 \"EC PRIVATE KEY\" or PKCS#1 \"RSA PRIVATE KEY\")")
	}
	if isEncryptedKey(block) {
		return nil, errors.New("the private key is encrypted; store it unencrypted and protect the file instead")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("a %q block is not a key type xdrproxy reads (want PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("the %s block does not parse (%s)", block.Type, strings.TrimPrefix(err.Error(), "x509: "))
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("the EC key is on %s; placeholder tokens are signed with P-256 (ES256)", k.Curve.Params().Name)
		}
		return k, nil
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("the RSA key has %d bits; use 2048 or more", k.N.BitLen())
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("a %T is not an EC P-256, RSA or Ed25519 key", key)
}
