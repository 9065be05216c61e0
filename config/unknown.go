package config

import (
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// CheckVariables returns the error that lists every set XDRPROXY_ variable
// of environ (os.Environ's form, NAME=value) that xdrproxy does not read,
// each with the nearest known names; nil when there is none. A misspelt
// security setting such as XDRPROXY_CLIENT_KEY_FILE must stop start-up,
// not leave client keys off. Load and LoadApplication report these among
// their problems; commands that read only a few variables call it.
func CheckVariables(environ []string) error {
	return unknownVariables(environ).err()
}

// unknownVariables returns a problem for each variable of environ whose
// name starts with XDRPROXY_, in any case, and is not in Known, sorted by
// name. Set to "" counts as set. The value is never quoted: it may be a
// secret.
func unknownVariables(environ []string) problems {
	var p problems
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(strings.ToUpper(name), Prefix+"_") || slices.Contains(Variables, name) || serviceLink(name, value) {
			continue
		}
		if near := nearestVariables(name); len(near) > 0 {
			p.addVar(name, "is not a variable xdrproxy reads; did you mean %s?", strings.Join(near, " or "))
		} else {
			p.addVar(name, "is not a variable xdrproxy reads (`xdrproxy help serve` and README.md list them)")
		}
	}
	slices.Sort(p)
	return p
}

// serviceLinkShapes are the variables the kubelet sets in every pod of a
// namespace for a Service whose name starts with "xdrproxy" (xdrproxy,
// xdrproxy-redis…), unless the pod sets enableServiceLinks: false: each
// name's shape with the shape of the value the kubelet gives it.
var serviceLinkShapes = []struct {
	name  *regexp.Regexp
	value func(string) bool
}{
	{regexp.MustCompile(`^XDRPROXY(_[A-Z0-9_]+)?_SERVICE_HOST$`), isIP},
	{regexp.MustCompile(`^XDRPROXY(_[A-Z0-9_]+)?_SERVICE_PORT(_[A-Z0-9_]+)?$`), isPort},
	{regexp.MustCompile(`^XDRPROXY(_[A-Z0-9_]+)?_PORT_[0-9]+_(TCP|UDP|SCTP)_PROTO$`), func(v string) bool { return v == "TCP" || v == "UDP" || v == "SCTP" }},
	{regexp.MustCompile(`^XDRPROXY(_[A-Z0-9_]+)?_PORT_[0-9]+_(TCP|UDP|SCTP)_PORT$`), isPort},
	{regexp.MustCompile(`^XDRPROXY(_[A-Z0-9_]+)?_PORT_[0-9]+_(TCP|UDP|SCTP)_ADDR$`), isIP},
	{regexp.MustCompile(`^XDRPROXY(_[A-Z0-9_]+)?_PORT(_[0-9]+_(TCP|UDP|SCTP))?$`), func(v string) bool {
		return strings.HasPrefix(v, "tcp://") || strings.HasPrefix(v, "udp://") || strings.HasPrefix(v, "sctp://")
	}},
}

// serviceLink reports whether name=value is a kubelet's service-link
// variable, name and value both of its shape, so that a Service named
// xdrproxy never stops the proxy while a typo in one of ours still does.
func serviceLink(name, value string) bool {
	for _, s := range serviceLinkShapes {
		if s.name.MatchString(name) && s.value(value) {
			return true
		}
	}
	return false
}

// isIP reports whether v is an IP address.
func isIP(v string) bool { return net.ParseIP(v) != nil }

// isPort reports whether v is a port number.
func isPort(v string) bool {
	_, err := strconv.ParseUint(v, 10, 16)
	return err == nil
}

// unknownProblems are the unknown variables of the process's environment.
func unknownProblems() problems { return unknownVariables(os.Environ()) }

// nearestVariables returns the known names closest to name, the part
// after XDRPROXY_ compared in upper case, best first by nearness: a
// single typo (one letter added, dropped, changed, or two swapped), then
// one whole word added or dropped (XDRPROXY_TLS_CLIENT_CA for
// XDRPROXY_TLS_CLIENT_CA_FILE), then more typos, up to a quarter of
// name's length. It returns every name equally near, and none for a name
// unlike every known one.
func nearestVariables(name string) []string {
	got := strings.ToUpper(name)[len(Prefix)+1:]
	var near []string
	best := -1
	for _, known := range Variables {
		n, ok := nearness(got, known[len(Prefix)+1:])
		switch {
		case !ok || best >= 0 && n > best:
		case best < 0 || n < best:
			near, best = []string{known}, n
		default:
			near = append(near, known)
		}
	}
	return near
}

// nearness scores how near got is to want, lower being nearer, in the
// order nearestVariables gives; ok is false when it is not near at all.
func nearness(got, want string) (n int, ok bool) {
	d := editDistance(got, want)
	switch {
	case d <= 1:
		return d, true
	case oneWordApart(got, want):
		return 2, true
	case d <= len(got)/4:
		return d + 1, true
	}
	return 0, false
}

// oneWordApart reports whether one of the names is the other with one
// _-separated word added.
func oneWordApart(a, b string) bool {
	wa, wb := strings.Split(a, "_"), strings.Split(b, "_")
	if len(wa) > len(wb) {
		wa, wb = wb, wa
	}
	if len(wb) != len(wa)+1 {
		return false
	}
	for i := range wb {
		if slices.Equal(wa, slices.Concat(wb[:i], wb[i+1:])) {
			return true
		}
	}
	return false
}

// editDistance is the optimal-string-alignment form of the
// Damerau–Levenshtein distance between a and b: the fewest insertions,
// deletions, substitutions and swaps of adjacent bytes that turn one into
// the other.
func editDistance(a, b string) int {
	// rows[0] is two rows up, rows[1] the previous row, rows[2] this one.
	rows := [3][]int{make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := rows[2]
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(rows[1][j]+1, cur[j-1]+1, rows[1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], rows[0][j-2]+1)
			}
		}
		rows[0], rows[1], rows[2] = rows[1], cur, rows[0]
	}
	return rows[1][len(b)]
}
