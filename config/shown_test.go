package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestLoadNeverShowsSecret(t *testing.T) {
	const secret = "Zq9-distinctive-SECRET-wv7"
	dir := t.TempDir()
	secretFile := writeFile(t, dir, "secret", secret+"\n")

	failures := []struct {
		name  string
		set   map[string]string
		unset []string
	}{
		{name: "bad cloud", set: map[string]string{"XDRPROXY_CLOUD": "mars"}},
		{name: "bad client ID", set: map[string]string{"XDRPROXY_CLIENT_ID": "not-a-guid"}},
		{name: "no tenants", unset: []string{"XDRPROXY_TENANTS"}},
		{name: "secret and secret file", set: map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": secretFile}},
		{name: "secret and certificate", set: map[string]string{"XDRPROXY_CLIENT_CERTIFICATE_FILE": "/x.pem"}},
		{name: "secret and XDRPROXY_FEDERATED_TOKEN_FILE", set: map[string]string{"XDRPROXY_FEDERATED_TOKEN_FILE": "/token"}},
		{name: "secret pasted as the client ID", set: map[string]string{"XDRPROXY_CLIENT_ID": testSecret}},
		// Quoted by its own message: the redaction of the secret is what hides it.
		{name: "secret pasted into the scope", set: map[string]string{"XDRPROXY_SCOPE": secret + " x"}},
		{
			name:  "secret from a file pasted into the scope",
			set:   map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": secretFile, "XDRPROXY_SCOPE": secret + " x"},
			unset: []string{"XDRPROXY_CLIENT_SECRET"},
		},
		{
			name:  "secret file with a bad listener",
			set:   map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": secretFile, "XDRPROXY_LISTEN_ADDR": "0.0.0.0:8080"},
			unset: []string{"XDRPROXY_CLIENT_SECRET"},
		},
	}
	for _, tt := range failures {
		t.Run("error/"+tt.name, func(t *testing.T) {
			vars := caseEnv(tt.set, tt.unset)
			if _, ok := vars["XDRPROXY_CLIENT_SECRET"]; ok {
				vars["XDRPROXY_CLIENT_SECRET"] = secret
			}
			setEnv(t, vars)
			_, err := Load()
			if err == nil {
				t.Fatal("Load() succeeded, want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Load() error shows the secret:\n%v", err)
			}
		})
	}

	for _, tt := range []struct {
		name  string
		set   map[string]string
		unset []string
	}{
		{name: "client secret", set: map[string]string{"XDRPROXY_CLIENT_SECRET": secret}},
		{name: "client secret file", set: map[string]string{"XDRPROXY_CLIENT_SECRET_FILE": secretFile}, unset: []string{"XDRPROXY_CLIENT_SECRET"}},
	} {
		t.Run("config/"+tt.name, func(t *testing.T) {
			setEnv(t, caseEnv(tt.set, tt.unset))
			cfg, err := Load()
			if err != nil {
				t.Fatalf("Load() error: %v", err)
			}
			if got := cfg.Credential.Secret.Reveal(); got != secret {
				t.Fatalf("Credential.Secret.Reveal() = %q, want %q", got, secret)
			}

			printed := fmt.Sprintf("%v %+v %#v %v %+v %#v %s", cfg, *cfg, cfg, cfg.Credential, cfg.Credential, cfg.Credential, cfg.Credential.Secret)
			if strings.Contains(printed, secret) {
				t.Errorf("fmt shows the secret: %s", printed)
			}
			if !strings.Contains(printed, "[redacted]") {
				t.Errorf("fmt output has no [redacted] in place of the secret: %s", printed)
			}

			data, err := json.Marshal(cfg)
			if err != nil {
				t.Fatalf("json.Marshal(cfg): %v", err)
			}
			if strings.Contains(string(data), secret) {
				t.Errorf("json.Marshal(cfg) shows the secret: %s", data)
			}
			if !strings.Contains(string(data), `"[redacted]"`) {
				t.Errorf("json.Marshal(cfg) has no \"[redacted]\" in place of the secret: %s", data)
			}

			enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
			buf, err := enc.EncodeEntry(zapcore.Entry{Message: "config"}, []zapcore.Field{
				zap.Any("config", cfg),
				zap.Any("credential", cfg.Credential),
				zap.Any("secret", cfg.Credential.Secret),
				zap.Stringer("stringer", cfg.Credential.Secret),
			})
			if err != nil {
				t.Fatalf("encoding a zap entry: %v", err)
			}
			if logged := buf.String(); strings.Contains(logged, secret) {
				t.Errorf("zap shows the secret: %s", logged)
			}
		})
	}
}

// A secret pasted into the wrong variable (a *_FILE, a URL's user info or
// query) is named by its variable but never printed.
func TestStartUpErrorsDoNotQuoteSecretsInValues(t *testing.T) {
	const secret = "Zq8Q~hunter2-SeCrEt.value_1"
	pem := "-----BEGIN PRIVATE KEY-----\n" + secret + "\n-----END PRIVATE KEY-----\n"
	for _, tc := range []struct{ variable, value string }{
		{"XDRPROXY_CLIENT_SECRET_FILE", secret},
		{"XDRPROXY_CLIENT_CERTIFICATE_FILE", pem},
		{"XDRPROXY_FEDERATED_TOKEN_FILE", "eyJhbGciOiJSUzI1NiJ9." + secret + ".c2ln"},
		{"XDRPROXY_TLS_CERT_FILE", pem},
		{"XDRPROXY_TLS_CLIENT_CA_FILE", pem},
		{"XDRPROXY_PLACEHOLDER_KEY_FILE", pem},
		{"XDRPROXY_CLIENT_KEYS_FILE", secret},
		{"XDRPROXY_TENANTS_FILE", secret},
		{"XDRPROXY_UPSTREAM_URL", "https://bob:" + secret + "@gateway.example.com"},
		{"XDRPROXY_UPSTREAM_URL", "http://gateway.example.com/?sig=" + secret},
		{"XDRPROXY_AUTHORITY_HOST", "https://bob:" + secret + "@login.example.com/x"},
		{"XDRPROXY_ROUTES", "/graph/=http://bob:" + secret + "@graph.example.com"},
		{"XDRPROXY_ROUTES", "https://bob:" + secret + "@graph.example.com"},
	} {
		t.Run(tc.variable, func(t *testing.T) {
			env := minimalEnv()
			switch tc.variable {
			case "XDRPROXY_CLIENT_SECRET_FILE", "XDRPROXY_CLIENT_CERTIFICATE_FILE", "XDRPROXY_FEDERATED_TOKEN_FILE":
				delete(env, "XDRPROXY_CLIENT_SECRET")
			case "XDRPROXY_TLS_CERT_FILE":
				env["XDRPROXY_TLS_KEY_FILE"] = pem
			case "XDRPROXY_PLACEHOLDER_KEY_FILE":
				env["XDRPROXY_TOKEN_EMULATION"] = "true"
			case "XDRPROXY_TLS_CLIENT_CA_FILE":
				env["XDRPROXY_TLS_CERT_FILE"] = "/nonexistent/tls.crt"
				env["XDRPROXY_TLS_KEY_FILE"] = "/nonexistent/tls.key"
			}
			env[tc.variable] = tc.value
			setEnv(t, env)
			_, err := Load()
			if err == nil || !strings.Contains(err.Error(), tc.variable) {
				t.Fatalf("want an error naming %s, got %v", tc.variable, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error prints the value:\n%s", err)
			}
		})
	}
}
