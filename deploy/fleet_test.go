package deploy

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"

	"github.com/xdrproxy/xdrproxy/config"
)

// fleetSecret is the Secret the operator creates for a fleet: Redis's
// password and the keys that seal tokens.
const fleetSecret = "xdrproxy-fleet"

// redisBackend is the Redis an overlay's XDRPROXY_REDIS_URL names: a
// StatefulSet of the overlay, reached through one of its Services.
type redisBackend struct {
	sts    *appsv1.StatefulSet
	labels map[string]string // of its pods
	port   int32             // the container port the Service sends to
}

// selects reports whether a selector's labels all appear in labels; an
// empty selector selects every pod, as in a NetworkPolicy.
func selects(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// podsOnly reports whether peers name only pods of this namespace, by
// labels that the given pods carry.
func podsOnly(peers []networkingv1.NetworkPolicyPeer, labels map[string]string) bool {
	for _, p := range peers {
		if p.IPBlock != nil || p.NamespaceSelector != nil || p.PodSelector == nil ||
			len(p.PodSelector.MatchExpressions) > 0 || len(p.PodSelector.MatchLabels) == 0 || !selects(p.PodSelector.MatchLabels, labels) {
			return false
		}
	}
	return len(peers) > 0
}

// mounted finds the volume that holds path in container c of pod, and
// the key of the Secret or ConfigMap (or the path within the volume) that
// path is.
func mounted(pod corev1.PodSpec, c corev1.Container, path string) (corev1.Volume, string, bool) {
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name {
				continue
			}
			if v.Secret != nil && len(v.Secret.Items) > 0 {
				for _, it := range v.Secret.Items {
					if it.Path == rel {
						return v, it.Key, true
					}
				}
				return v, "", false
			}
			return v, rel, true
		}
	}
	return corev1.Volume{}, "", false
}

// maxReplicas is the most xdrproxy replicas an overlay may run.
func (o overlay) maxReplicas() int32 {
	n := o.replicas
	for _, ob := range o.objects {
		if h, ok := ob.obj.(*autoscalingv2.HorizontalPodAutoscaler); ok {
			n = max(n, h.Spec.MaxReplicas)
		}
	}
	return n
}

// checkFleet checks that an overlay that may run several replicas shares
// their state through Redis, with the password and token keys from the
// fleet's Secret, and that the Redis it names is a locked-down
// StatefulSet of the overlay. It returns that Redis, nil without one.
func checkFleet(t *testing.T, o overlay) *redisBackend {
	t.Helper()
	raw, ok := o.env("XDRPROXY_REDIS_URL")
	if !ok {
		if n := o.maxReplicas(); n > 1 {
			t.Errorf("up to %d replicas without XDRPROXY_REDIS_URL: each would admit Microsoft's whole per-tenant rate and acquire every token itself", n)
		}
		return nil
	}
	for _, name := range []string{"XDRPROXY_REDIS_PASSWORD_FILE", "XDRPROXY_TOKEN_ENCRYPTION_KEY_FILE"} {
		path, ok := o.env(name)
		if !ok {
			t.Errorf("XDRPROXY_REDIS_URL without %s", name)
			continue
		}
		if v, _, ok := mounted(o.pod, o.container, path); !ok || v.Secret == nil || v.Secret.SecretName != fleetSecret {
			t.Errorf("%s=%s is not mounted from the Secret %s", name, path, fleetSecret)
		}
	}
	u, err := config.ParseRedisURL(raw)
	if err != nil {
		t.Errorf("XDRPROXY_REDIS_URL: %v", err)
		return nil
	}
	if _, set := u.User.Password(); set {
		t.Error("XDRPROXY_REDIS_URL holds a password: it belongs in XDRPROXY_REDIS_PASSWORD_FILE, from the Secret")
	}
	urlPort := int32(6379)
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		urlPort = int32(n)
	}
	name, _, _ := strings.Cut(u.Hostname(), ".")
	r := o.redisBehind(t, name, urlPort)
	if r == nil {
		return nil
	}
	for _, ob := range o.objects {
		if sel := selectorOf(ob.obj); sel != nil && selects(sel, o.labels) && selects(sel, r.labels) {
			t.Errorf("%s %s selects both the xdrproxy pods and the Redis pods", ob.kind, objectName(ob.obj))
		}
	}
	checkRedisServer(t, r.sts)
	checkRedisPolicy(t, o, r)
	return r
}

// redisBehind finds the Service called name, with port, and the
// StatefulSet whose pods it selects.
func (o overlay) redisBehind(t *testing.T, name string, port int32) *redisBackend {
	t.Helper()
	for _, ob := range o.objects {
		svc, ok := ob.obj.(*corev1.Service)
		if !ok || svc.Name != name {
			continue
		}
		i := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == port })
		if i < 0 {
			t.Errorf("XDRPROXY_REDIS_URL names port %d, which Service %s does not serve", port, name)
			return nil
		}
		sp := svc.Spec.Ports[i]
		for _, ob := range o.objects {
			sts, ok := ob.obj.(*appsv1.StatefulSet)
			if !ok || len(svc.Spec.Selector) == 0 || !selects(svc.Spec.Selector, sts.Spec.Template.Labels) {
				continue
			}
			for _, c := range sts.Spec.Template.Spec.Containers {
				for _, cp := range c.Ports {
					if sp.TargetPort.StrVal == cp.Name && cp.Name != "" || sp.TargetPort.IntVal == cp.ContainerPort ||
						sp.TargetPort.IntVal == 0 && sp.TargetPort.StrVal == "" && sp.Port == cp.ContainerPort {
						return &redisBackend{sts: sts, labels: sts.Spec.Template.Labels, port: cp.ContainerPort}
					}
				}
			}
			t.Errorf("Service %s sends port %d to %s, which no container of StatefulSet %s opens", name, port, sp.TargetPort.String(), sts.Name)
			return nil
		}
		t.Errorf("Service %s (named by XDRPROXY_REDIS_URL) selects no StatefulSet of the overlay", name)
		return nil
	}
	t.Errorf("XDRPROXY_REDIS_URL names host %q, which is no Service of the overlay", name)
	return nil
}

var (
	// passwordFlag is a command-line option that takes a password, of
	// redis-server or redis-cli.
	passwordFlag = regexp.MustCompile(`(?:^|\s)(-a|--pass|--requirepass|--masterauth)(?:[\s=]|$)`)
	// requirepass is requirepass and the first character of its value,
	// which must be a shell expansion, never the password itself.
	requirepass = regexp.MustCompile(`requirepass[\s"']+(\S)`)
	// redisServer is the command that starts Redis, on its config file.
	redisServer = regexp.MustCompile(`exec redis-server (\S+)`)
	// maxmemory is Redis's memory cap: a number and a unit.
	maxmemory = regexp.MustCompile(`maxmemory\s+(\d+)([a-zA-Z]*)`)
	// secretName is the name of a variable that holds a password.
	secretName = regexp.MustCompile(`(?i)pass|auth|secret`)
	// evictionPolicy is Redis's maxmemory-policy.
	evictionPolicy = regexp.MustCompile(`maxmemory-policy\s+([a-z-]+)`)
)

// redisBytes reads a Redis memory size: 1k is 1000 bytes, 1kb 1024.
func redisBytes(n, unit string) (int64, bool) {
	mult, ok := map[string]int64{"": 1, "b": 1, "k": 1e3, "kb": 1 << 10, "m": 1e6, "mb": 1 << 20, "g": 1e9, "gb": 1 << 30}[strings.ToLower(unit)]
	v, err := strconv.ParseInt(n, 10, 64)
	return v * mult, ok && err == nil
}

// checkRedisServer checks that one Redis runs from a config file in
// memory that takes its password from the fleet's Secret (never from a
// command line), keeps nothing on disk, and evicts before its container
// reaches its memory limit.
func checkRedisServer(t *testing.T, sts *appsv1.StatefulSet) {
	t.Helper()
	if sts.Spec.Replicas != nil && *sts.Spec.Replicas != 1 {
		t.Errorf("StatefulSet %s runs %d Redis: plain Redis replicas do not share writes; run one", sts.Name, *sts.Spec.Replicas)
	}
	pod := sts.Spec.Template.Spec
	var passwordFiles []string
	for _, v := range pod.Volumes {
		if v.Secret == nil || v.Secret.SecretName != fleetSecret {
			continue
		}
		if len(v.Secret.Items) == 0 || slices.ContainsFunc(v.Secret.Items, func(it corev1.KeyToPath) bool { return it.Key == "token-keys" }) {
			t.Errorf("StatefulSet %s mounts the token keys: whoever takes Redis would hold what opens its tokens", sts.Name)
		}
	}
	servers := 0
	for _, c := range pod.Containers {
		cmdline := strings.Join(append(slices.Clone(c.Command), c.Args...), " ")
		probes := cmdline
		for _, pr := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if pr != nil && pr.Exec != nil {
				probes += " " + strings.Join(pr.Exec.Command, " ")
			}
		}
		if m := passwordFlag.FindStringSubmatch(probes); m != nil {
			t.Errorf("container %s passes a password with %s: every process on the node can read a command line", c.Name, m[1])
		}
		for _, m := range requirepass.FindAllStringSubmatch(probes, -1) {
			if m[1] != "$" {
				t.Errorf("container %s writes requirepass with a literal password, not one read from the Secret", c.Name)
			}
		}
		for _, e := range c.Env {
			if e.Value != "" && secretName.MatchString(e.Name) {
				t.Errorf("container %s sets %s to a literal value", c.Name, e.Name)
			}
		}
		m := redisServer.FindStringSubmatch(cmdline)
		if m == nil {
			continue
		}
		servers++
		if v, _, ok := mounted(pod, c, m[1]); !ok || v.EmptyDir == nil || v.EmptyDir.Medium != corev1.StorageMediumMemory {
			t.Errorf("container %s: Redis's config file %s, which holds the password, is not in an emptyDir in memory", c.Name, m[1])
		}
		for _, mnt := range c.VolumeMounts {
			for _, v := range pod.Volumes {
				if v.Name != mnt.Name || v.Secret == nil || v.Secret.SecretName != fleetSecret {
					continue
				}
				file := "redis-password"
				if len(v.Secret.Items) > 0 {
					file = ""
					for _, it := range v.Secret.Items {
						if it.Key == "redis-password" {
							file = it.Path
						}
					}
				}
				if file != "" {
					passwordFiles = append(passwordFiles, strings.TrimSuffix(mnt.MountPath, "/")+"/"+file)
				}
			}
		}
		if !slices.ContainsFunc(passwordFiles, func(f string) bool { return strings.Contains(cmdline, f) }) || !requirepass.MatchString(cmdline) {
			t.Errorf("container %s does not set requirepass from redis-password of the Secret %s", c.Name, fleetSecret)
		}
		checkRedisConfig(t, c, cmdline)
	}
	if servers != 1 {
		t.Errorf("StatefulSet %s: %d containers exec redis-server on a config file, want 1", sts.Name, servers)
	}
}

// checkRedisConfig checks the Redis configuration a container writes: no
// persistence, a memory cap under the container's limit, and eviction.
func checkRedisConfig(t *testing.T, c corev1.Container, script string) {
	t.Helper()
	for _, want := range []string{`save ""`, "appendonly no"} {
		if !strings.Contains(script, want) {
			t.Errorf("container %s: Redis lacks %q: its state is short-lived and must not reach a disk", c.Name, want)
		}
	}
	m := maxmemory.FindStringSubmatch(script)
	limit := c.Resources.Limits.Memory()
	if m == nil {
		t.Errorf("container %s: no maxmemory: Redis would grow until the kernel kills it", c.Name)
	} else if n, ok := redisBytes(m[1], m[2]); !ok || limit.IsZero() || n == 0 || n > limit.Value()/4*3 {
		t.Errorf("container %s: maxmemory %s%s is not within 3/4 of the memory limit %v", c.Name, m[1], m[2], limit)
	}
	policy := "noeviction" // Redis's default
	if p := evictionPolicy.FindStringSubmatch(script); p != nil {
		policy = p[1]
	}
	if !strings.HasPrefix(policy, "volatile-") {
		t.Errorf("container %s: maxmemory-policy %s: every key xdrproxy writes has a TTL; a volatile- policy evicts them when full", c.Name, policy)
	}
	for what, pr := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if pr == nil || (pr.TCPSocket == nil && pr.Exec == nil) {
			t.Errorf("container %s has no %s probe", c.Name, what)
		} else if pr.TCPSocket != nil && !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool {
			return p.Name == pr.TCPSocket.Port.StrVal || p.ContainerPort == pr.TCPSocket.Port.IntVal
		}) {
			t.Errorf("container %s: %s probe on %s, which it does not open", c.Name, what, pr.TCPSocket.Port.String())
		}
	}
}

// checkRedisPolicy checks that NetworkPolicies admit only the xdrproxy
// pods to Redis, on Redis's port, and let Redis reach nothing.
func checkRedisPolicy(t *testing.T, o overlay, r *redisBackend) {
	t.Helper()
	admitted := false
	policies := 0
	for _, ob := range o.objects {
		np, ok := ob.obj.(*networkingv1.NetworkPolicy)
		if !ok || !selects(np.Spec.PodSelector.MatchLabels, r.labels) {
			continue
		}
		policies++
		if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			t.Errorf("NetworkPolicy %s does not restrict both Redis's ingress and egress: %v", np.Name, np.Spec.PolicyTypes)
		}
		if len(np.Spec.Egress) > 0 {
			t.Errorf("NetworkPolicy %s lets Redis reach %+v; it calls nothing", np.Name, np.Spec.Egress)
		}
		for _, rule := range np.Spec.Ingress {
			if !podsOnly(rule.From, map[string]string{"app": "xdrproxy"}) {
				t.Errorf("NetworkPolicy %s admits %+v to Redis; only the xdrproxy pods (app: xdrproxy)", np.Name, rule.From)
			}
			if len(rule.Ports) == 0 {
				t.Errorf("NetworkPolicy %s admits every port of Redis", np.Name)
			}
			for _, p := range rule.Ports {
				if p.Port == nil || p.Port.IntValue() != int(r.port) {
					t.Errorf("NetworkPolicy %s admits port %v of Redis; only %d", np.Name, p.Port, r.port)
				}
			}
			admitted = true
		}
	}
	if policies == 0 {
		t.Errorf("no NetworkPolicy restricts who reaches Redis (%v)", r.labels)
	} else if !admitted {
		t.Error("no NetworkPolicy rule admits the xdrproxy pods to Redis")
	}
}

// checkScaling checks that an autoscaler keeps two replicas of the
// xdrproxy Deployment, and that every PodDisruptionBudget selects pods of
// the overlay and lets a node drain take one of them.
func checkScaling(t *testing.T, o overlay) {
	t.Helper()
	least := o.replicas
	for _, ob := range o.objects {
		h, ok := ob.obj.(*autoscalingv2.HorizontalPodAutoscaler)
		if !ok {
			continue
		}
		if ref := h.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != "xdrproxy" {
			t.Errorf("HorizontalPodAutoscaler %s scales %s %s, not the Deployment xdrproxy", h.Name, ref.Kind, ref.Name)
		}
		least = 1
		if h.Spec.MinReplicas != nil {
			least = *h.Spec.MinReplicas
		}
		if least < 2 {
			t.Errorf("HorizontalPodAutoscaler %s may scale down to %d replica: one restart would stop the service", h.Name, least)
		}
	}
	for _, ob := range o.objects {
		pdb, ok := ob.obj.(*policyv1.PodDisruptionBudget)
		if !ok {
			continue
		}
		var n int32
		switch {
		case pdb.Spec.Selector == nil || len(pdb.Spec.Selector.MatchLabels) == 0:
		case selects(pdb.Spec.Selector.MatchLabels, o.labels):
			n = least
		default:
			for _, ob := range o.objects {
				if s, ok := ob.obj.(*appsv1.StatefulSet); ok && selects(pdb.Spec.Selector.MatchLabels, s.Spec.Template.Labels) {
					n = 1
					if s.Spec.Replicas != nil {
						n = *s.Spec.Replicas
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("PodDisruptionBudget %s selects no pods of the overlay by matchLabels", pdb.Name)
			continue
		}
		var disruptions int32
		switch least, most := pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable; {
		case least != nil && least.StrVal == "":
			disruptions = n - least.IntVal
		case most != nil && most.StrVal == "":
			disruptions = most.IntVal
		}
		if disruptions < 1 {
			t.Errorf("PodDisruptionBudget %s of %d pods allows %d disruptions (a percentage counts as none): it would block every node drain", pdb.Name, n, disruptions)
		}
	}
}

// selectorOf is the labels an object selects pods by, nil when it
// selects none.
func selectorOf(obj any) map[string]string {
	switch o := obj.(type) {
	case *corev1.Service:
		return o.Spec.Selector
	case *policyv1.PodDisruptionBudget:
		if o.Spec.Selector != nil {
			return o.Spec.Selector.MatchLabels
		}
	case *networkingv1.NetworkPolicy:
		return o.Spec.PodSelector.MatchLabels
	}
	return nil
}

// objectName is an object's metadata name.
func objectName(obj any) string {
	if o, ok := obj.(interface{ GetName() string }); ok {
		return o.GetName()
	}
	return ""
}
