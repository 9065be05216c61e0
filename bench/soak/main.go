// Command soak measures a running xdrproxy under normal keyed load while
// hostile clients hold slowloris-style connections open against it: the
// normal load's throughput, latency and errors, what the attackers managed
// to open and how many of their connections the proxy closed, and (given
// -pid) the proxy's memory, file descriptors and CPU. It only ever talks to
// loopback addresses. bench/soak.sh runs it twice, without and with
// attackers, and prints the comparison.
//
// Usage:
//
//	soak -url http://127.0.0.1:8080/api/incidents?$top=1 -key KEY -c 16 -d 60s -a 2000 -pid PID [-json]
//	soak -report base.json attack.json   # markdown table and verdict
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	url, key, tenant, label string
	workers, attackers, pid int
	duration, timeout       time.Duration
	reconnectDelay, probe   time.Duration
	json, report            bool
	attackChild             bool
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080/api/incidents?$top=1", "URL of the normal keyed request (loopback only)")
	flag.StringVar(&o.key, "key", "", "client key sent as Authorization: Bearer <key> (or $SOAK_KEY)")
	flag.StringVar(&o.tenant, "tenant", "contoso", "X-Tenant-ID of the normal load")
	flag.StringVar(&o.label, "label", "", "name of this run in the report (default: with or without attack)")
	flag.IntVar(&o.workers, "c", 16, "normal-load workers, each a closed loop on its own keep-alive connection")
	flag.IntVar(&o.attackers, "a", 0, "attackers, each holding one hostile connection and reconnecting when it is closed")
	flag.IntVar(&o.pid, "pid", 0, "the proxy's process ID, to sample its RSS, open fds and CPU each second")
	flag.DurationVar(&o.duration, "d", 60*time.Second, "how long to run the normal load")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "longest a normal request may take before it counts as an error")
	flag.DurationVar(&o.reconnectDelay, "reconnect-delay", 0, "pause before an attacker reconnects (0: at once)")
	flag.DurationVar(&o.probe, "probe", time.Second, "interval of fresh-connection probes (a keyed request on a new connection); 0 turns them off")
	flag.BoolVar(&o.json, "json", false, "print the result as JSON instead of a markdown table row")
	flag.BoolVar(&o.report, "report", false, "read JSON results from the files named as arguments and print a markdown table and a verdict")
	flag.BoolVar(&o.attackChild, "attack-child", false, "internal: run only the attackers, until standard input closes")
	flag.Parse()
	if o.key == "" {
		o.key = os.Getenv("SOAK_KEY")
	}
	return o
}

func run() error {
	o := parseFlags()
	if o.report {
		return printReport(os.Stdout, flag.Args())
	}
	target, err := url.Parse(o.url)
	if err != nil {
		return fmt.Errorf("parsing -url: %w", err)
	}
	if err := requireLoopback(context.Background(), target); err != nil {
		return err
	}
	if o.attackChild {
		return runAttackChild(o, target)
	}
	if o.workers < 1 || o.attackers < 0 || o.duration <= 0 {
		return errors.New("-c must be at least 1, -a at least 0 and -d positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := soak(ctx, o, target)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(os.Stdout, res)
	}
	return writeTable(os.Stdout, []Result{res})
}

// soak warms the normal load's connections, starts the attackers, runs
// the measured window and gathers the result.
func soak(ctx context.Context, o options, target *url.URL) (Result, error) {
	load := newLoad(target.String(), o.key, o.tenant, o.workers, o.timeout)
	defer load.close()
	if err := load.warm(ctx); err != nil {
		return Result{}, fmt.Errorf("warming the normal load's connections: %w", err)
	}
	var atk *attackProcess
	if o.attackers > 0 {
		var err error
		if atk, err = startAttackProcess(ctx, o); err != nil {
			return Result{}, err
		}
		defer atk.kill()
	}

	sampler := startSampler(ctx, o.pid)
	self, child := startSampler(ctx, os.Getpid()), startSampler(ctx, atk.pid())
	probes := startProbes(ctx, target.String(), o.key, o.tenant, o.probe, o.timeout)
	stats := load.run(ctx, o.duration)
	probeStats := probes.stop()
	procStats, selfStats, childStats := sampler.stop(), self.stop(), child.stop()

	res := newResult(o, stats)
	if atk != nil {
		a, err := atk.stop()
		if err != nil {
			return Result{}, err
		}
		res.addAttack(a)
	}
	res.addProbes(probeStats)
	res.addProc(procStats)
	res.SoakCPUPercent = selfStats.cpuPercent + childStats.cpuPercent
	return res, nil
}
