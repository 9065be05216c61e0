package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
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
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
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

// clash returns the address of taken that addr could not be bound beside:
// the same port on the same address (however spelt: localhost is
// 127.0.0.1, ::ffff:127.0.0.1 too), or on a wildcard address, which Go
// binds on every family. Port 0 (any free port) clashes with nothing.
func clash(addr string, taken []string) string {
	host, port, ok := splitListenAddr(addr)
	if !ok || port == 0 {
		return ""
	}
	for _, t := range taken {
		th, tp, ok := splitListenAddr(t)
		if !ok || tp != port {
			continue
		}
		if host == th || !host.IsValid() || !th.IsValid() {
			return t
		}
	}
	return ""
}

// splitListenAddr returns a listener address's IP, unmapped (the zero
// Addr for a wildcard), and its port number.
func splitListenAddr(addr string) (netip.Addr, int, bool) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	port, err := net.LookupPort("tcp", p)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	if h == "localhost" {
		h = "127.0.0.1"
	}
	if h == "" {
		return netip.Addr{}, port, true
	}
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	if ip = ip.Unmap(); ip.IsUnspecified() {
		return netip.Addr{}, port, true
	}
	return ip, port, true
}

// CheckTLSFiles loads the proxy listeners' certificate and key, as
// XDRPROXY_TLS_CERT_FILE and XDRPROXY_TLS_KEY_FILE name them.
// The error names the variable at fault.
func CheckTLSFiles(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := readFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("%s_TLS_CERT_FILE: %w", Prefix, err)
	}
	keyPEM, err := readFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s_TLS_KEY_FILE: %w", Prefix, err)
	}
	pair, err := ParseTLSPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s_TLS_CERT_FILE: %s with %s_TLS_KEY_FILE %s: %w", Prefix, certFile, Prefix, keyFile, err)
	}
	return pair, nil
}

// ParseTLSPair parses a PEM certificate chain and its private key. The
// error never quotes the key.
func ParseTLSPair(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	if block, _ := pem.Decode(keyPEM); block != nil && (strings.Contains(block.Type, "ENCRYPTED") || block.Headers["Proc-Type"] != "") {
		return nil, errors.New("the private key is encrypted; store it unencrypted (openssl pkey -in key.pem -out key-plain.pem) and protect the file instead")
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("not a matching PEM certificate and private key: %s", tlsPairProblem(err))
	}
	return &pair, nil
}

// tlsPairProblem keeps crypto/tls's reason, which names no key material.
func tlsPairProblem(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "tls: ")
	return msg
}

// ParseClientCAs parses the PEM certificates of XDRPROXY_TLS_CLIENT_CA_FILE.
func ParseClientCAs(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New("holds no PEM certificate (want the CA that signs the clients' certificates)")
	}
	return pool, nil
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
	if strings.Contains(block.Type, "ENCRYPTED") || block.Headers["Proc-Type"] != "" {
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

// readFile reads the file a variable names. When it cannot, the error
// quotes the value only if it looks like a path: a secret, a token or a
// PEM pasted into a *_FILE variable by mistake must not be printed in
// the start-up error. Once a read succeeds, the value is a path.
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	var pe *fs.PathError
	if errors.As(err, &pe) && !looksLikePath(pe.Path) {
		pe.Path = "(the value, not shown: it does not look like a file path)"
	}
	return data, err
}

// looksLikePath reports whether s reads as a file path rather than a
// pasted secret: it has a directory separator and no whitespace.
func looksLikePath(s string) bool {
	return strings.ContainsRune(s, '/') && !strings.ContainsAny(s, " \t\r\n") && len(s) <= 4096
}

// shownURL quotes a URL-like value for an error without its user info or
// query, which may hold credentials; a value that does not parse and
// might hold one is not quoted at all.
func shownURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		if strings.ContainsAny(s, "@ \t\r\n") || len(s) > 200 {
			return "(the value, not shown)"
		}
		return strconv.Quote(s)
	}
	var hidden []string
	if u.User != nil {
		u.User, hidden = nil, append(hidden, "user info")
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery, hidden = "", false, append(hidden, "query")
	}
	shown := u.String()
	if strings.Contains(shown, "@") {
		return "(the value, not shown)"
	}
	if len(hidden) > 0 {
		return strconv.Quote(shown) + " (" + strings.Join(hidden, " and ") + " not shown)"
	}
	return strconv.Quote(shown)
}
