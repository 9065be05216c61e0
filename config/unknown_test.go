package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnknownVariables(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    problems
	}{
		{"known and foreign variables", []string{"XDRPROXY_CLIENT_ID=x", "XDRPROXY_TENANTS=", "PATH=/bin", "AZURE_CLIENT_ID=y", "XDRPROXYISH=1"}, nil},
		{"a missing letter", []string{"XDRPROXY_CLIENT_KEY_FILE=/keys"},
			problems{"XDRPROXY_CLIENT_KEY_FILE: is not a variable xdrproxy reads; did you mean XDRPROXY_CLIENT_KEYS_FILE?"}},
		{"a missing word", []string{"XDRPROXY_TLS_CLIENT_CA=/ca.pem"},
			problems{"XDRPROXY_TLS_CLIENT_CA: is not a variable xdrproxy reads; did you mean XDRPROXY_TLS_CLIENT_CA_FILE?"}},
		{"swapped letters", []string{"XDRPROXY_REDIS_ULR=redis://r"},
			problems{"XDRPROXY_REDIS_ULR: is not a variable xdrproxy reads; did you mean XDRPROXY_REDIS_URL?"}},
		{"an empty one is set", []string{"XDRPROXY_REDIS_ULR="},
			problems{"XDRPROXY_REDIS_ULR: is not a variable xdrproxy reads; did you mean XDRPROXY_REDIS_URL?"}},
		{"lower case", []string{"xdrproxy_client_id=x"},
			problems{"xdrproxy_client_id: is not a variable xdrproxy reads; did you mean XDRPROXY_CLIENT_ID?"}},
		{"an added word", []string{"XDRPROXY_CLIENT_SECRET_VALUE=s"},
			problems{"XDRPROXY_CLIENT_SECRET_VALUE: is not a variable xdrproxy reads; did you mean XDRPROXY_CLIENT_SECRET?"}},
		{"several equally near", []string{"XDRPROXY_TIMEOUT=5s"},
			problems{"XDRPROXY_TIMEOUT: is not a variable xdrproxy reads; did you mean XDRPROXY_QUEUE_TIMEOUT or XDRPROXY_UPSTREAM_TIMEOUT or XDRPROXY_SHUTDOWN_TIMEOUT?"}},
		{"nothing near", []string{"XDRPROXY_DEBUG=1"},
			problems{"XDRPROXY_DEBUG: is not a variable xdrproxy reads (`xdrproxy help serve` and README.md list them)"}},
		{"only the prefix", []string{"XDRPROXY_=1"},
			problems{"XDRPROXY_: is not a variable xdrproxy reads (`xdrproxy help serve` and README.md list them)"}},
		{"every one, sorted", []string{"XDRPROXY_TLS_CLIENT_CA=/ca.pem", "XDRPROXY_CLIENT_KEY_FILE=/keys"}, problems{
			"XDRPROXY_CLIENT_KEY_FILE: is not a variable xdrproxy reads; did you mean XDRPROXY_CLIENT_KEYS_FILE?",
			"XDRPROXY_TLS_CLIENT_CA: is not a variable xdrproxy reads; did you mean XDRPROXY_TLS_CLIENT_CA_FILE?",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unknownVariables(tt.environ)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("unknownVariables(%q) (-want +got):\n%s", tt.environ, diff)
			}
			if err := CheckVariables(tt.environ); (err != nil) != (len(tt.want) > 0) {
				t.Errorf("CheckVariables(%q) = %v", tt.environ, err)
			}
		})
	}
}

// TestEveryVariableIsItsOwnNearest: one typo in any known name suggests
// that name, so no variable is shadowed by another.
func TestEveryVariableIsItsOwnNearest(t *testing.T) {
	for _, name := range Variables {
		typo := name[:len(name)-1] // the last letter dropped
		near := nearestVariables(typo)
		if len(near) != 1 || near[0] != name {
			t.Errorf("nearestVariables(%s) = %q, want [%s]", typo, near, name)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"URL", "URL", 0},
		{"", "URL", 3},
		{"ULR", "URL", 1},
		{"KEY_FILE", "KEYS_FILE", 1},
		{"CLOUD", "PPROF", 5},
		{"CA", "ABC", 3}, // optimal string alignment: no edit after a swap
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

// TestLoadRefusesUnknownVariables: the unknown variable is one more line
// among the other problems, and its value is never shown.
func TestLoadRefusesUnknownVariables(t *testing.T) {
	const value = "value-that-must-not-be-shown"
	vars := caseEnv(map[string]string{"XDRPROXY_CLIENT_KEY_FILE": value, "XDRPROXY_UPSTREAM_TIMEOUT": "soon"}, nil)
	setEnv(t, vars)
	_, err := Load()
	if err == nil {
		t.Fatal("Load accepted XDRPROXY_CLIENT_KEY_FILE")
	}
	msg := err.Error()
	for _, want := range []string{"XDRPROXY_CLIENT_KEY_FILE", "XDRPROXY_CLIENT_KEYS_FILE", "XDRPROXY_UPSTREAM_TIMEOUT"} {
		if !mentions(msg, want) {
			t.Errorf("the error does not name %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, value) {
		t.Errorf("the error shows the variable's value:\n%s", msg)
	}
	if n := strings.Count(msg, "\n  "); n != 2 {
		t.Errorf("%d problem lines, want 2:\n%s", n, msg)
	}
}

func TestLoadApplicationRefusesUnknownVariables(t *testing.T) {
	setEnv(t, map[string]string{"XDRPROXY_CLIENT_ID": testClientID, "XDRPROXY_SCOPES": "https://graph.microsoft.com/.default"})
	_, err := LoadApplication()
	if err == nil || !mentions(err.Error(), "XDRPROXY_SCOPES") || !mentions(err.Error(), "XDRPROXY_SCOPE") {
		t.Fatalf("LoadApplication() = %v, want an error naming XDRPROXY_SCOPES and XDRPROXY_SCOPE", err)
	}
}

// The kubelet's variables for a Service named xdrproxy (or xdrproxy-redis)
// are not typos; a variable of that name with another value is.
func TestServiceLinksAreNotUnknown(t *testing.T) {
	links := []string{
		"XDRPROXY_SERVICE_HOST=10.0.0.12",
		"XDRPROXY_SERVICE_PORT=443",
		"XDRPROXY_SERVICE_PORT_HTTPS=443",
		"XDRPROXY_PORT=tcp://10.0.0.12:443",
		"XDRPROXY_PORT_443_TCP=tcp://10.0.0.12:443",
		"XDRPROXY_PORT_443_TCP_PROTO=TCP",
		"XDRPROXY_PORT_443_TCP_PORT=443",
		"XDRPROXY_PORT_443_TCP_ADDR=10.0.0.12",
		"XDRPROXY_REDIS_SERVICE_HOST=10.0.0.13",
		"XDRPROXY_REDIS_PORT=tcp://10.0.0.13:6379",
		"XDRPROXY_REDIS_PORT_6379_TCP_PORT=6379",
	}
	if p := unknownVariables(links); len(p) != 0 {
		t.Errorf("Kubernetes service links refused: %v", p)
	}
	for _, kv := range []string{"XDRPROXY_REDIS_PORT=6379", "XDRPROXY_SERVICE_HOST=proxy.example", "XDRPROXY_PORT=8080"} {
		if p := unknownVariables([]string{kv}); len(p) != 1 {
			t.Errorf("%s: %v, want it refused: its value is not the kubelet's", kv, p)
		}
	}
}
