// Package deploy holds xdrproxy's container, Kubernetes and monitoring
// files; its tests check them against the code (variables, ports, probes,
// timeouts, the metrics alerts and dashboards query), since no cluster,
// Docker engine or Grafana runs in CI.
package deploy
