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
	MetricsTenantLabels    string `split_words:"true"`
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
// variable means "not set", as for every other variable. The values are
// Known's, so that the help shows what Load applies.
func (e *env) defaults() {
	for field, name := range map[*string]string{
		&e.ListenAddr:           "LISTEN_ADDR",
		&e.AdminAddr:            "ADMIN_ADDR",
		&e.InstanceDiscovery:    "INSTANCE_DISCOVERY",
		&e.AllowUnauthenticated: "ALLOW_UNAUTHENTICATED",
		&e.LogLevel:             "LOG_LEVEL",
		&e.LogFormat:            "LOG_FORMAT",
		&e.Cloud:                "CLOUD",
		&e.UpstreamTimeout:      "UPSTREAM_TIMEOUT",
		&e.ShutdownTimeout:      "SHUTDOWN_TIMEOUT",
		&e.BodyIdleTimeout:      "BODY_IDLE_TIMEOUT",
		&e.QueueTimeout:         "QUEUE_TIMEOUT",
		&e.Pprof:                "PPROF",
		&e.TokenEmulation:       "TOKEN_EMULATION",
		&e.MaxConnections:       "MAX_CONNECTIONS",
		&e.MetricsTenantLabels:  "METRICS_TENANT_LABELS",
		&e.RedisKeyPrefix:       "REDIS_KEY_PREFIX",
	} {
		if strings.TrimSpace(*field) == "" {
			v, _ := LookupVariable(Prefix + "_" + name)
			*field = v.Default
		}
	}
}
