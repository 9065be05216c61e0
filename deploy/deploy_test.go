package deploy

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/xdrproxy/xdrproxy/config"
)

// TestDockerfile checks what cannot be built here (no Docker engine):
// two stages, a static trimmed binary with its version stamped, a
// distroless non-root final stage without a shell, both ports exposed,
// and the binary as the entrypoint.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	var final []string // instructions of the last stage
	var build string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			froms = append(froms, line)
			final = nil
		}
		if strings.HasPrefix(line, "RUN ") && strings.Contains(line, "go build") {
			build = line
		}
		final = append(final, line)
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got %d FROM lines", len(froms))
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=", "./cmd/xdrproxy"} {
		if !strings.Contains(build, want) {
			t.Errorf("the go build line lacks %q: %s", want, build)
		}
	}
	last := froms[len(froms)-1]
	if !regexp.MustCompile(`^FROM gcr\.io/distroless/static[-\w]*:nonroot$`).MatchString(last) {
		t.Errorf("final stage %q is not distroless static nonroot", last)
	}
	has := func(prefix string) string {
		for _, l := range final {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		return ""
	}
	if user := has("USER "); !regexp.MustCompile(`^USER [1-9][0-9]*(:[1-9][0-9]*)?$`).MatchString(user) {
		t.Errorf("final stage USER %q is not a numeric non-root user", user)
	}
	if expose := has("EXPOSE "); !strings.Contains(expose, port(t, "127.0.0.1:8080")) || !strings.Contains(expose, port(t, "127.0.0.1:9090")) {
		t.Errorf("EXPOSE %q does not name both default ports", expose)
	}
	if ep := has("ENTRYPOINT "); ep != `ENTRYPOINT ["/xdrproxy"]` {
		t.Errorf("ENTRYPOINT %q, want the binary in exec form", ep)
	}
	if run := has("RUN "); run != "" {
		t.Errorf("the final stage runs %q: it has no shell", run)
	}
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// object is one decoded manifest.
type object struct {
	file string
	kind string
	obj  any
}

// decodeAll decodes every manifest under dir strictly into its
// Kubernetes type: an unknown or misspelt field fails.
func decodeAll(t *testing.T, dir string) []object {
	t.Helper()
	var out []object
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			var head struct{ Kind, APIVersion string }
			if err := yaml.Unmarshal(doc, &head); err != nil {
				return fmt.Errorf("%s#%d: %v", path, i, err)
			}
			var obj any
			switch head.Kind {
			case "Deployment":
				obj = &appsv1.Deployment{}
			case "StatefulSet":
				obj = &appsv1.StatefulSet{}
			case "Service":
				obj = &corev1.Service{}
			case "ServiceAccount":
				obj = &corev1.ServiceAccount{}
			case "ConfigMap":
				obj = &corev1.ConfigMap{}
			case "Secret":
				obj = &corev1.Secret{}
			case "HorizontalPodAutoscaler":
				obj = &autoscalingv2.HorizontalPodAutoscaler{}
			case "PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			case "NetworkPolicy":
				obj = &networkingv1.NetworkPolicy{}
			case "Kustomization", "Component":
				obj = &kustomization{}
			default:
				return fmt.Errorf("%s#%d: unexpected kind %q", path, i, head.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				return fmt.Errorf("%s#%d (%s): %v", path, i, head.Kind, err)
			}
			out = append(out, object{file: path, kind: head.Kind, obj: obj})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// kustomization is the part of kustomize's file we use, for a
// Kustomization or a Component.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Components []string `json:"components"`
	Patches    []struct {
		Path string `json:"path"`
	} `json:"patches"`
	Labels []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels"`
}

// overlay gathers an overlay's objects with its base's and its
// components', and the xdrproxy container as base, patches and components
// make it (env merged by name).
type overlay struct {
	objects   []object
	container corev1.Container
	pod       corev1.PodSpec
	labels    map[string]string
	replicas  int32
}

func loadOverlay(t *testing.T, name string) overlay {
	t.Helper()
	var o overlay
	o.labels = map[string]string{}
	env := map[string]corev1.EnvVar{}
	var order []string
	// Kustomize applies an overlay's components after its resources and
	// patches, so their patches come last.
	dirs := []string{"kubernetes/base", "kubernetes/overlays/" + name}
	for i := 0; i < len(dirs); i++ {
		objs := decodeAll(t, dirs[i])
		o.objects = append(o.objects, objs...)
		dirs = append(dirs, checkKustomization(t, objs, i >= 2)...) // dirs[2:] are components
		for _, ob := range objs {
			d, ok := ob.obj.(*appsv1.Deployment)
			if !ok {
				continue
			}
			if d.Spec.Replicas != nil {
				o.replicas = *d.Spec.Replicas
			}
			for k, v := range d.Spec.Template.Labels {
				o.labels[k] = v
			}
			spec := d.Spec.Template.Spec
			if spec.TerminationGracePeriodSeconds != nil {
				o.pod.TerminationGracePeriodSeconds = spec.TerminationGracePeriodSeconds
			}
			if spec.SecurityContext != nil {
				o.pod.SecurityContext = spec.SecurityContext
			}
			if spec.Affinity != nil {
				o.pod.Affinity = spec.Affinity
			}
			if spec.AutomountServiceAccountToken != nil {
				o.pod.AutomountServiceAccountToken = spec.AutomountServiceAccountToken
			}
			o.pod.Volumes = append(o.pod.Volumes, spec.Volumes...)
			for _, c := range spec.Containers {
				if c.Name != "xdrproxy" {
					o.pod.Containers = append(o.pod.Containers, c)
					continue
				}
				if c.Image != "" {
					o.container = c // the base's full definition
				}
				o.container.VolumeMounts = append(o.container.VolumeMounts, c.VolumeMounts...)
				if c.Resources.Requests != nil {
					o.container.Resources = c.Resources
				}
				for _, e := range c.Env {
					if _, seen := env[e.Name]; !seen {
						order = append(order, e.Name)
					}
					env[e.Name] = e
				}
			}
		}
	}
	o.container.Env = nil
	for _, n := range order {
		o.container.Env = append(o.container.Env, env[n])
	}
	o.pod.Containers = append(o.pod.Containers, o.container)
	return o
}

// checkKustomization checks a directory's kustomization: it is a
// Component when an overlay names the directory in its components, the
// files it names exist, and every manifest there is one it names
// (kustomize ignores any other, which these tests would read). It returns
// the directories of the components it names.
func checkKustomization(t *testing.T, objs []object, component bool) (components []string) {
	t.Helper()
	named := map[string]bool{}
	for _, ob := range objs {
		k, ok := ob.obj.(*kustomization)
		if !ok {
			continue
		}
		if component != (k.Kind == "Component") || component != (k.APIVersion == "kustomize.config.k8s.io/v1alpha1") {
			t.Errorf("%s is a %s %s; a directory named in components holds a kustomize.config.k8s.io/v1alpha1 Component, any other a Kustomization", ob.file, k.APIVersion, k.Kind)
		}
		named[ob.file] = true
		files := slices.Clone(k.Resources)
		for _, p := range k.Patches {
			files = append(files, p.Path)
		}
		for _, f := range files {
			path := filepath.Join(filepath.Dir(ob.file), f)
			named[path] = true
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s names %s: %v", ob.file, f, err)
			}
		}
		for _, c := range k.Components {
			components = append(components, filepath.Join(filepath.Dir(ob.file), c))
		}
	}
	for _, ob := range objs {
		if !named[ob.file] {
			t.Errorf("%s is named by no kustomization: kustomize would not apply it", ob.file)
		}
	}
	return components
}

// externalSecrets are the Secrets an overlay expects the operator (or
// cert-manager) to create, with their keys; the README says how.
var externalSecrets = map[string][]string{
	"xdrproxy-tls": {"tls.crt", "tls.key"},
	fleetSecret:    {"redis-password", "token-keys"},
}

// TestExternalSecretsNotCommitted checks that no manifest holds a Secret
// the operator creates, not even with placeholder values: applying the
// manifests again must never overwrite a certificate, Redis's password or
// the keys that seal the fleet's tokens.
func TestExternalSecretsNotCommitted(t *testing.T) {
	for _, ob := range decodeAll(t, "kubernetes") {
		if s, ok := ob.obj.(*corev1.Secret); ok {
			if _, external := externalSecrets[s.Name]; external {
				t.Errorf("%s holds the Secret %s, which the operator creates: delete it and show the command in a comment", ob.file, s.Name)
			}
		}
	}
}

// provides checks that path is a key of a Secret or ConfigMap of the
// overlay (or of an external Secret), mounted in the xdrproxy container.
func (o overlay) provides(path string) error {
	for _, m := range o.container.VolumeMounts {
		key, ok := strings.CutPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range o.pod.Volumes {
			if v.Name != m.Name {
				continue
			}
			for _, ob := range o.objects {
				switch obj := ob.obj.(type) {
				case *corev1.Secret:
					if v.Secret != nil && obj.Name == v.Secret.SecretName {
						if _, ok := obj.StringData[key]; ok {
							return nil
						}
						if _, ok := obj.Data[key]; ok {
							return nil
						}
						return fmt.Errorf("secret %s has no key %s", obj.Name, key)
					}
				case *corev1.ConfigMap:
					if v.ConfigMap != nil && obj.Name == v.ConfigMap.Name {
						if _, ok := obj.Data[key]; ok {
							return nil
						}
						return fmt.Errorf("configmap %s has no key %s", obj.Name, key)
					}
				}
			}
			if v.Secret != nil && slices.Contains(externalSecrets[v.Secret.SecretName], key) {
				return nil
			}
			return fmt.Errorf("volume %s is neither a Secret nor a ConfigMap of the overlay", v.Name)
		}
		return fmt.Errorf("mount %s has no volume", m.Name)
	}
	return fmt.Errorf("no volume is mounted there")
}

// fromSecret reports whether path is in a volume backed by a Secret.
func (o overlay) fromSecret(path string) bool {
	for _, m := range o.container.VolumeMounts {
		if !strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			continue
		}
		for _, v := range o.pod.Volumes {
			if v.Name == m.Name {
				return v.Secret != nil
			}
		}
	}
	return false
}

// exposesAdmin reports whether a Service of the overlay reaches the admin
// listener's port (by name or number).
func (o overlay) exposesAdmin(adminPort string) bool {
	for _, ob := range o.objects {
		svc, ok := ob.obj.(*corev1.Service)
		if !ok {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.StrVal == "admin" || fmt.Sprint(p.TargetPort.IntVal) == adminPort || (p.TargetPort.IntVal == 0 && p.TargetPort.StrVal == "" && fmt.Sprint(p.Port) == adminPort) {
				return true
			}
		}
	}
	return false
}

// checkAdminIngress checks that the NetworkPolicy admits the admin port
// only from pods in namespaces labelled xdrproxy.io/monitoring=true, and
// the proxy port only from pods labelled xdrproxy-client=true.
func checkAdminIngress(t *testing.T, np *networkingv1.NetworkPolicy, adminPort, proxyPort string) {
	t.Helper()
	admits := func(rule networkingv1.NetworkPolicyIngressRule, port string) bool {
		if len(rule.Ports) == 0 {
			return true // a rule without ports admits every port
		}
		for _, p := range rule.Ports {
			if p.Port == nil || p.Port.String() == port || (p.Port.StrVal == "admin" && port == adminPort) {
				return true
			}
		}
		return false
	}
	monitoring := map[string]string{"xdrproxy.io/monitoring": "true"}
	clients := map[string]string{"xdrproxy-client": "true"}
	adminRules := 0
	for _, rule := range np.Spec.Ingress {
		if admits(rule, adminPort) {
			adminRules++
			if len(rule.From) == 0 {
				t.Errorf("an ingress rule admits the admin port %s from anywhere", adminPort)
			}
			for _, peer := range rule.From {
				if peer.IPBlock != nil || peer.PodSelector != nil || peer.NamespaceSelector == nil ||
					len(peer.NamespaceSelector.MatchExpressions) > 0 || !maps.Equal(peer.NamespaceSelector.MatchLabels, monitoring) {
					t.Errorf("the admin port %s is admitted from %+v, want only namespaces labelled %v", adminPort, peer, monitoring)
				}
			}
		}
		if admits(rule, proxyPort) {
			for _, peer := range rule.From {
				if peer.IPBlock != nil || peer.NamespaceSelector != nil || peer.PodSelector == nil || !maps.Equal(peer.PodSelector.MatchLabels, clients) {
					t.Errorf("the proxy port %s is admitted from %+v, want only pods labelled %v", proxyPort, peer, clients)
				}
			}
		}
	}
	if adminRules == 0 {
		t.Errorf("no ingress rule admits the admin port %s: the kubelet's probes and Prometheus need it", adminPort)
	}
}

// checkPod checks that a pod runs as non-root under seccomp
// RuntimeDefault without a service-account token, and that each of its
// containers is locked down and sized.
func checkPod(t *testing.T, what string, pod corev1.PodSpec) {
	t.Helper()
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s is not runAsNonRoot with seccomp RuntimeDefault", what)
	}
	if a := pod.AutomountServiceAccountToken; a == nil || *a {
		t.Errorf("%s mounts a service-account token it does not use", what)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") ||
			sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: container %s is not locked down (non-root, read-only root, no escalation, ALL capabilities dropped, seccomp)", what, c.Name)
		}
		if c.Resources.Requests == nil || c.Resources.Limits == nil {
			t.Errorf("%s: container %s has no resources", what, c.Name)
		}
	}
}

// checkEgress checks that a NetworkPolicy of the xdrproxy pods lets them
// reach DNS, port 443 (Entra ID, the Defender XDR API) and, in a fleet,
// the Redis pods on Redis's port, and nothing else.
func checkEgress(t *testing.T, np *networkingv1.NetworkPolicy, redis *redisBackend) {
	t.Helper()
	for _, eg := range np.Spec.Egress {
		if len(eg.Ports) == 0 {
			t.Errorf("NetworkPolicy %s: an egress rule allows every port", np.Name)
		}
		for _, p := range eg.Ports {
			if p.Port == nil {
				t.Errorf("NetworkPolicy %s: an egress rule allows every port", np.Name)
				continue
			}
			switch v := p.Port.IntValue(); {
			case v == 53 || v == 443:
			case redis != nil && v == int(redis.port):
				if !podsOnly(eg.To, redis.labels) {
					t.Errorf("NetworkPolicy %s allows port %d to %+v; only to the Redis pods %v", np.Name, v, eg.To, redis.labels)
				}
			default:
				t.Errorf("NetworkPolicy %s: egress allows port %d; only DNS, 443 and the fleet's Redis", np.Name, v)
			}
		}
	}
}

func (o overlay) env(name string) (string, bool) {
	for _, e := range o.container.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func TestManifests(t *testing.T) {
	for _, name := range []string{"sidecar", "sidecar-workload-identity", "gateway"} {
		t.Run(name, func(t *testing.T) {
			o := loadOverlay(t, name)

			// Every variable the manifests set is one xdrproxy reads.
			for _, e := range o.container.Env {
				if strings.HasPrefix(e.Name, "XDRPROXY_") && !slices.Contains(config.Variables, e.Name) {
					t.Errorf("the manifests set %s, which xdrproxy does not read", e.Name)
				}
			}

			// Probes reach the admin listener's paths and port.
			adminAddr, _ := o.env("XDRPROXY_ADMIN_ADDR")
			adminPort := port(t, adminAddr)
			named := map[string]int32{}
			for _, p := range o.container.Ports {
				named[p.Name] = p.ContainerPort
			}
			for what, pr := range map[string]*corev1.Probe{"liveness": o.container.LivenessProbe, "readiness": o.container.ReadinessProbe} {
				if pr == nil || pr.HTTPGet == nil {
					t.Errorf("no %s probe", what)
					continue
				}
				p := pr.HTTPGet.Port.IntVal
				if pr.HTTPGet.Port.StrVal != "" {
					p = named[pr.HTTPGet.Port.StrVal]
				}
				if fmt.Sprint(p) != adminPort {
					t.Errorf("%s probe on port %d, admin listens on %s", what, p, adminPort)
				}
				if want := map[string]string{"liveness": "/healthz", "readiness": "/readyz"}[what]; pr.HTTPGet.Path != want {
					t.Errorf("%s probe path %s, want %s", what, pr.HTTPGet.Path, want)
				}
			}

			// The grace period outlasts the drain.
			shutdown := 25 * time.Second
			if v, ok := o.env("XDRPROXY_SHUTDOWN_TIMEOUT"); ok {
				var err error
				if shutdown, err = time.ParseDuration(v); err != nil {
					t.Fatal(err)
				}
			}
			if g := o.pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= shutdown {
				t.Errorf("terminationGracePeriodSeconds %v does not exceed XDRPROXY_SHUTDOWN_TIMEOUT %v", g, shutdown)
			}

			// Every container of every pod is locked down and sized.
			checkPod(t, "the xdrproxy pod", o.pod)
			for _, ob := range o.objects {
				if s, ok := ob.obj.(*appsv1.StatefulSet); ok {
					checkPod(t, "StatefulSet "+s.Name, s.Spec.Template.Spec)
				}
			}

			// Every file the configuration names is mounted from a Secret
			// or ConfigMap of the overlay that holds it.
			for _, e := range o.container.Env {
				if strings.HasPrefix(e.Name, "XDRPROXY_") && strings.HasSuffix(e.Name, "_FILE") {
					if err := o.provides(e.Value); err != nil {
						t.Errorf("%s=%s: %v", e.Name, e.Value, err)
					}
				}
			}
			// Replicas act as one against Microsoft's limits only through
			// a shared Redis, and a node drain never takes them all.
			redis := checkFleet(t, o)
			checkScaling(t, o)
			if emulation, _ := o.env("XDRPROXY_TOKEN_EMULATION"); emulation == "true" && o.replicas > 1 {
				if _, ok := o.env("XDRPROXY_PLACEHOLDER_KEY_FILE"); !ok {
					t.Error("replicas with token emulation need one XDRPROXY_PLACEHOLDER_KEY_FILE, or each refuses the others' placeholders")
				}
			}

			if public, ok := o.env("XDRPROXY_PUBLIC_URL"); ok {
				if _, err := config.ParsePublicURL(public); err != nil {
					t.Errorf("XDRPROXY_PUBLIC_URL: %v", err)
				}
			}

			listen, _ := o.env("XDRPROXY_LISTEN_ADDR")
			_, keys := o.env("XDRPROXY_CLIENT_KEYS_FILE")
			if !config.IsLoopbackAddr(listen) && !keys {
				t.Errorf("listens on %q without client keys", listen)
			}
			// Off loopback, /tenants and pprof show only to admin keys. The
			// probes reach the admin listener at the pod's IP, so it cannot
			// be on loopback: an overlay that exposes it through a Service
			// sets XDRPROXY_ADMIN_KEYS_FILE from a Secret; one that does
			// not (the sidecars) leaves them answering 403.
			adminKeys, hasAdminKeys := o.env("XDRPROXY_ADMIN_KEYS_FILE")
			if !config.IsLoopbackAddr(adminAddr) {
				switch {
				case hasAdminKeys && !o.fromSecret(adminKeys):
					t.Errorf("XDRPROXY_ADMIN_KEYS_FILE=%s is not mounted from a Secret", adminKeys)
				case !hasAdminKeys && o.exposesAdmin(adminPort):
					t.Errorf("a Service exposes the admin listener on %q without XDRPROXY_ADMIN_KEYS_FILE", adminAddr)
				}
			}
			switch name {
			case "sidecar", "sidecar-workload-identity":
				if !config.IsLoopbackAddr(listen) {
					t.Errorf("a sidecar listens on %q, want loopback", listen)
				}
				if len(o.pod.Containers) < 2 {
					t.Error("no SOC tool container beside the proxy")
				}
			}
			switch name {
			case "sidecar":
				if _, ok := o.env("XDRPROXY_CLIENT_SECRET_FILE"); !ok {
					t.Error("the sidecar takes its secret from a file")
				}
			case "sidecar-workload-identity":
				if o.labels["azure.workload.identity/use"] != "true" {
					t.Error("the pod lacks azure.workload.identity/use=true")
				}
				for _, e := range o.container.Env {
					if strings.Contains(e.Name, "SECRET") || strings.Contains(e.Name, "CLIENT_ID") {
						t.Errorf("workload identity sets %s: it needs no secret and takes the client ID from the webhook", e.Name)
					}
				}
				annotated := false
				for _, ob := range o.objects {
					if sa, ok := ob.obj.(*corev1.ServiceAccount); ok && sa.Annotations["azure.workload.identity/client-id"] != "" {
						annotated = true
					}
				}
				if !annotated {
					t.Error("the service account lacks azure.workload.identity/client-id")
				}
			case "gateway":
				if o.replicas < 2 || o.pod.Affinity == nil || o.pod.Affinity.PodAntiAffinity == nil {
					t.Error("the gateway needs at least 2 replicas spread by anti-affinity")
				}
				kinds := map[string]bool{}
				for _, ob := range o.objects {
					kinds[ob.kind] = true
					if np, ok := ob.obj.(*networkingv1.NetworkPolicy); ok && selects(np.Spec.PodSelector.MatchLabels, o.labels) {
						if len(np.Spec.PolicyTypes) == 0 || slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
							checkAdminIngress(t, np, adminPort, port(t, listen))
						}
						checkEgress(t, np, redis)
					}
				}
				for _, k := range []string{"Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap", "Secret"} {
					if !kinds[k] {
						t.Errorf("the gateway lacks a %s", k)
					}
				}
				if _, ok := o.env("XDRPROXY_TENANTS_FILE"); !ok {
					t.Error("the gateway reads its tenants from the ConfigMap")
				}
				if !hasAdminKeys {
					t.Error("the gateway's Service exposes the admin listener: it needs XDRPROXY_ADMIN_KEYS_FILE for /tenants")
				}
				// The sample keys must not work: a gateway applied without
				// editing them refuses to start rather than accept a known key.
				for _, ob := range o.objects {
					if sec, ok := ob.obj.(*corev1.Secret); ok && sec.StringData["client-keys"] != "" {
						if _, err := config.ParseClientKeys("client-keys", []byte(sec.StringData["client-keys"])); err == nil {
							t.Errorf("secret %s ships client keys that would be accepted", sec.Name)
						}
					}
					if sec, ok := ob.obj.(*corev1.Secret); ok && sec.StringData["admin-keys"] != "" {
						if _, err := config.ParseAdminKeys("admin-keys", []byte(sec.StringData["admin-keys"])); err == nil {
							t.Errorf("secret %s ships admin keys that would be accepted", sec.Name)
						}
					}
				}
				_, cert := o.env("XDRPROXY_TLS_CERT_FILE")
				_, key := o.env("XDRPROXY_TLS_KEY_FILE")
				if !cert || !key {
					t.Error("the gateway is reached over the network: it serves TLS")
				}
			}
		})
	}
}

// The kubelet gives a pod an XDRPROXY_SERVICE_HOST, XDRPROXY_PORT_443_TCP…
// for a Service named xdrproxy; xdrproxy refuses XDRPROXY_ variables it
// does not know, so its pods must not get them.
func TestNoServiceLinks(t *testing.T) {
	for _, ob := range decodeAll(t, "kubernetes/base") {
		if d, ok := ob.obj.(*appsv1.Deployment); ok {
			if l := d.Spec.Template.Spec.EnableServiceLinks; l == nil || *l {
				t.Errorf("%s: enableServiceLinks is not false", ob.file)
			}
		}
	}
}
