package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/kelseyhightower/envconfig"
)

// env mirrors the environment as strings, so that every bad value can be
// reported at once rather than envconfig stopping at the first. Names come
// from split_words (ListenAddr is XDRPROXY_LISTEN_ADDR), not envconfig tags:
// a tag would make envconfig also read the unprefixed name (LISTEN_ADDR,
// CLIENT_SECRET) when the prefixed one is unset.
type env struct {
	ListenAddr             string `split_words:"true"`
	AdminAddr              string `split_words:"true"`
	ClientID               string `split_words:"true"`
	ClientSecret           string `split_words:"true"`
	ClientSecretFile       string `split_words:"true"`
	ClientCertificateFile  string `split_words:"true"`
	FederatedTokenFile     string `split_words:"true"`
	AuthorityHost          string `split_words:"true"`
	InstanceDiscovery      string `split_words:"true"`
	Tenants                string `split_words:"true"`
	TenantsFile            string `split_words:"true"`
	DefaultTenant          string `split_words:"true"`
	UpstreamURL            string `split_words:"true"`
	Scope                  string `split_words:"true"`
	RequiredRoles          string `split_words:"true"`
	Routes                 string `split_words:"true"`
	ClientKeysFile         string `split_words:"true"`
	AdminKeysFile          string `split_words:"true"`
	RateLimits             string `split_words:"true"`
	QueueTimeout           string `split_words:"true"`
	Pprof                  string
	AllowUnauthenticated   string `split_words:"true"`
	LogLevel               string `split_words:"true"`
	LogFormat              string `split_words:"true"`
	Cloud                  string `split_words:"true"`
	UpstreamTimeout        string `split_words:"true"`
	ShutdownTimeout        string `split_words:"true"`
	TLSCertFile            string `split_words:"true"`
	TLSKeyFile             string `split_words:"true"`
	TLSClientCAFile        string `split_words:"true"`
	TenantListeners        string `split_words:"true"`
	TokenEmulation         string `split_words:"true"`
	PlaceholderKeyFile     string `split_words:"true"`
	PublicURL              string `split_words:"true"`
	BodyIdleTimeout        string `split_words:"true"`
	MaxConnections         string `split_words:"true"`
	RedisURL               string `split_words:"true"`
	RedisPasswordFile      string `split_words:"true"`
	RedisKeyPrefix         string `split_words:"true"`
	TokenEncryptionKeyFile string `split_words:"true"`

	// source names the variable each fallback-capable value came from.
	clientIDVar, federatedVar, authorityVar string
}

// readEnv reads the XDRPROXY_ variables and applies the defaults. The
// Azure Workload Identity webhook sets AZURE_* variables: the client ID
// and authority host fall back to them, and their source is kept to name
// it in errors. The federated token file's fallback is left to Load.
func readEnv() (env, error) {
	var e env
	if err := envconfig.Process(Prefix, &e); err != nil {
		return env{}, fmt.Errorf("invalid configuration:\n  %w", err)
	}
	e.defaults()
	e.clientIDVar = fallback(&e.ClientID, "CLIENT_ID", "AZURE_CLIENT_ID")
	e.authorityVar = fallback(&e.AuthorityHost, "AUTHORITY_HOST", "AZURE_AUTHORITY_HOST")
	return e, nil
}

// fallback fills an unset field from the variable alt and returns the full
// name of the variable the value came from.
func fallback(field *string, name, alt string) string {
	if *field == "" {
		if v := os.Getenv(alt); v != "" {
			*field = v
			return alt
		}
	}
	return Prefix + "_" + name
}

// defaults are applied to variables that are unset or empty: an empty
// variable means "not set", as for every other variable.
func (e *env) defaults() {
	for field, value := range map[*string]string{
		&e.ListenAddr:           "127.0.0.1:8080",
		&e.AdminAddr:            "127.0.0.1:9090",
		&e.InstanceDiscovery:    "true",
		&e.AllowUnauthenticated: "false",
		&e.LogLevel:             "info",
		&e.LogFormat:            "json",
		&e.Cloud:                "public",
		&e.UpstreamTimeout:      "210s",
		&e.ShutdownTimeout:      "25s",
		&e.BodyIdleTimeout:      "60s",
		&e.QueueTimeout:         "30s",
		&e.Pprof:                "false",
		&e.TokenEmulation:       "false",
		&e.MaxConnections:       "10000",
		&e.RedisKeyPrefix:       "xdrproxy:",
	} {
		if strings.TrimSpace(*field) == "" {
			*field = value
		}
	}
}

// Variables lists every XDRPROXY_ variable xdrproxy reads.
var Variables = func() []string {
	names := []string{
		"LISTEN_ADDR", "ADMIN_ADDR", "CLIENT_ID", "CLIENT_SECRET", "CLIENT_SECRET_FILE",
		"CLIENT_CERTIFICATE_FILE", "FEDERATED_TOKEN_FILE", "AUTHORITY_HOST", "INSTANCE_DISCOVERY",
		"TENANTS", "TENANTS_FILE", "DEFAULT_TENANT", "UPSTREAM_URL", "SCOPE", "REQUIRED_ROLES",
		"ROUTES", "CLIENT_KEYS_FILE", "RATE_LIMITS", "QUEUE_TIMEOUT", "PPROF",
		"ADMIN_KEYS_FILE",
		"ALLOW_UNAUTHENTICATED", "LOG_LEVEL", "LOG_FORMAT", "CLOUD", "UPSTREAM_TIMEOUT", "SHUTDOWN_TIMEOUT",
		"TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CLIENT_CA_FILE", "TENANT_LISTENERS",
		"TOKEN_EMULATION", "PLACEHOLDER_KEY_FILE",
		"CLIENT_CERTIFICATE_SEND_X5C", "PUBLIC_URL", "BODY_IDLE_TIMEOUT", "MAX_CONNECTIONS",
		"REDIS_URL", "REDIS_PASSWORD_FILE", "REDIS_KEY_PREFIX", "TOKEN_ENCRYPTION_KEY_FILE",
	}
	for i, n := range names {
		names[i] = Prefix + "_" + n
	}
	return names
}()
