// Package deploy holds xdrproxy's container and Kubernetes files; its
// tests check them against the code (variables, ports, probes, timeouts),
// since no cluster or Docker engine runs in CI.
package deploy
