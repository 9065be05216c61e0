package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
)

// Result is one soak run, as printed with -json and read back by -report.
type Result struct {
	Label     string  `json:"label"`
	Workers   int     `json:"workers"`
	Attackers int     `json:"attackers"`
	Seconds   float64 `json:"seconds"`
	Requests  int     `json:"requests"`
	ReqPerSec float64 `json:"req_per_sec"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	// Errors counts normal requests answered other than 200 or failed in
	// transport; ErrorKinds splits them by kind.
	Errors int `json:"errors"`
	// Conns counts the connections the normal load opened, warm-up
	// included: the number of workers unless the proxy closed some.
	Conns      int64          `json:"conns"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	// AttackOpened counts attacker connections established, AttackClosed
	// those the proxy closed, AttackDialErrors failed connection attempts.
	AttackOpened     int64 `json:"attack_opened"`
	AttackClosed     int64 `json:"attack_closed"`
	AttackDialErrors int64 `json:"attack_dial_errors"`
	// Probes counts keyed requests on fresh connections, ProbesOK those
	// answered 200, ProbeMaxMs the slowest.
	Probes     int     `json:"probes"`
	ProbesOK   int     `json:"probes_ok"`
	ProbeMaxMs float64 `json:"probe_max_ms"`
	// Sampled is false without -pid; the proxy figures are then zero.
	Sampled    bool    `json:"sampled"`
	MaxRSSMiB  float64 `json:"max_rss_mib"`
	MaxFDs     int     `json:"max_fds"`
	CPUPercent float64 `json:"cpu_percent"`
	// SoakCPUPercent is this program's own CPU (normal load, probes and
	// the attack child together), in % of one core: it shares a machine with the
	// proxy, so a busy soak slows what it measures.
	SoakCPUPercent float64 `json:"soak_cpu_percent"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func newResult(o options, s loadStats) Result {
	r := Result{Label: o.label, Workers: o.workers, Attackers: o.attackers,
		Seconds: s.elapsed.Seconds(), Requests: len(s.latencies),
		P50Ms: ms(percentile(s.latencies, 0.50)), P99Ms: ms(percentile(s.latencies, 0.99)),
		MaxMs: ms(percentile(s.latencies, 1)), Conns: s.conns}
	if r.Label == "" {
		r.Label = "no attack"
		if o.attackers > 0 {
			r.Label = "attack"
		}
	}
	if s.elapsed > 0 {
		r.ReqPerSec = float64(r.Requests) / s.elapsed.Seconds()
	}
	for _, n := range s.errors {
		r.Errors += n
	}
	if r.Errors > 0 {
		r.ErrorKinds = s.errors
	}
	return r
}

func (r *Result) addAttack(a attackStats) {
	r.AttackOpened, r.AttackClosed, r.AttackDialErrors = a.Opened, a.Closed, a.DialErrors
}

func (r *Result) addProbes(p probeStats) {
	r.Probes, r.ProbesOK, r.ProbeMaxMs = p.sent, p.ok, ms(p.max)
}

func (r *Result) addProc(p procStats) {
	r.Sampled, r.MaxFDs, r.CPUPercent = p.sampled, p.maxFDs, p.cpuPercent
	r.MaxRSSMiB = float64(p.maxRSSKiB) / 1024
}

func writeJSON(w io.Writer, r Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

const tableHeader = "| run | workers (conns) | attackers | requests | req/s | p50 ms | p99 ms | max ms | errors | attacker conns opened / closed by proxy / failed | fresh-conn probes ok, max ms | proxy CPU % | max RSS MiB | max fds | soak CPU % |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"

// writeTable prints a markdown table with one row a result.
func writeTable(w io.Writer, rs []Result) error {
	var b strings.Builder
	b.WriteString(tableHeader)
	for _, r := range rs {
		proc := "- | - | -"
		if r.Sampled {
			proc = fmt.Sprintf("%.0f | %.0f | %d", r.CPUPercent, r.MaxRSSMiB, r.MaxFDs)
		}
		probes := "-"
		if r.Probes > 0 {
			probes = fmt.Sprintf("%d/%d, %.1f", r.ProbesOK, r.Probes, r.ProbeMaxMs)
		}
		fmt.Fprintf(&b, "| %s | %d (%d) | %d | %d | %.0f | %.2f | %.2f | %.1f | %d | %d / %d / %d | %s | %s | %.0f |\n",
			r.Label, r.Workers, r.Conns, r.Attackers, r.Requests, r.ReqPerSec, r.P50Ms, r.P99Ms, r.MaxMs,
			r.Errors, r.AttackOpened, r.AttackClosed, r.AttackDialErrors, probes, proc, r.SoakCPUPercent)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printReport reads JSON results from files (the first without attack,
// the rest with) and prints their table and, for each later run, a verdict.
func printReport(w io.Writer, files []string) error {
	if len(files) < 1 {
		return fmt.Errorf("-report needs the JSON result files as arguments")
	}
	var rs []Result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var r Result
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("reading %s: %w", f, err)
		}
		rs = append(rs, r)
	}
	if err := writeTable(w, rs); err != nil {
		return err
	}
	for _, r := range rs[1:] {
		fmt.Fprintf(w, "\n%s: %s\n", r.Label, verdict(rs[0], r))
	}
	return nil
}

// verdict compares an attack run with the run without attack. Normal
// traffic is unaffected when its p99 stays within twice the no-attack p99
// and no normal request failed; otherwise it says what broke. A failed
// fresh-connection probe is reported beside it.
func verdict(base, atk Result) string {
	var broke []string
	if base.P99Ms > 0 && atk.P99Ms > 2*base.P99Ms {
		broke = append(broke, fmt.Sprintf("p99 %.2f ms is %.1f× the no-attack %.2f ms (limit 2×)",
			atk.P99Ms, atk.P99Ms/base.P99Ms, base.P99Ms))
	}
	if atk.Errors > 0 {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(atk.ErrorKinds)) {
			kinds = append(kinds, fmt.Sprintf("%d× %s", atk.ErrorKinds[k], k))
		}
		broke = append(broke, fmt.Sprintf("%d of %d normal requests failed (%s)", atk.Errors, atk.Requests, strings.Join(kinds, ", ")))
	}
	v := "normal traffic unaffected"
	if len(broke) > 0 {
		v = "normal traffic affected: " + strings.Join(broke, "; ")
		if atk.SoakCPUPercent > base.SoakCPUPercent+20 {
			v += fmt.Sprintf(" (the soak itself used %.0f%% of a core, %.0f%% without attack: on a small machine it takes CPU from what it measures)",
				atk.SoakCPUPercent, base.SoakCPUPercent)
		}
	}
	if atk.Probes > atk.ProbesOK {
		v += fmt.Sprintf("; %d of %d fresh-connection probes failed", atk.Probes-atk.ProbesOK, atk.Probes)
	}
	return v
}
