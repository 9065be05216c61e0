package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// procStats is what the sampler saw of the proxy's process.
type procStats struct {
	sampled    bool
	maxRSSKiB  int64
	maxFDs     int
	cpuPercent float64 // of one core, over the sampled window
}

// sampler reads the proxy's /proc entries once a second.
type sampler struct {
	pid    int
	cancel context.CancelFunc
	done   chan struct{}
	stats  procStats
	err    error
}

// startSampler samples pid until stop; with pid 0 it samples nothing.
func startSampler(ctx context.Context, pid int) *sampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &sampler{pid: pid, cancel: cancel, done: make(chan struct{})}
	if pid == 0 {
		close(s.done)
		return s
	}
	go s.loop(ctx)
	return s
}

func (s *sampler) loop(ctx context.Context) {
	defer close(s.done)
	start := time.Now()
	ticks0, err := readCPUTicks(s.pid)
	if err != nil {
		s.err = err
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		s.sample()
		select {
		case <-ctx.Done():
			ticks1, err := readCPUTicks(s.pid)
			if err == nil {
				secs := float64(ticks1-ticks0) / clockTicksPerSecond
				s.stats.cpuPercent = 100 * secs / time.Since(start).Seconds()
			}
			return
		case <-tick.C:
		}
	}
}

func (s *sampler) sample() {
	rss, errRSS := readRSSKiB(s.pid)
	fds, errFDs := countFDs(s.pid)
	if err := errors.Join(errRSS, errFDs); err != nil {
		s.err = err
		return
	}
	s.stats.sampled = true
	s.stats.maxRSSKiB = max(s.stats.maxRSSKiB, rss)
	s.stats.maxFDs = max(s.stats.maxFDs, fds)
}

// stop ends the sampling (taking one last sample) and returns what it saw.
func (s *sampler) stop() procStats {
	s.cancel()
	<-s.done
	if s.err != nil {
		fmt.Fprintf(os.Stderr, "soak: sampling process %d: %v\n", s.pid, s.err)
	}
	return s.stats
}

// clockTicksPerSecond is USER_HZ, which Linux fixes at 100 for the
// figures /proc reports.
const clockTicksPerSecond = 100

func readRSSKiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseVmRSS(f)
}

// parseVmRSS returns the VmRSS line of a /proc/PID/status file, in KiB.
func parseVmRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		num, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if !ok {
			return 0, fmt.Errorf("VmRSS %q is not in kB", rest)
		}
		return strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS line")
}

func countFDs(pid int) (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(entries), err
}

func readCPUTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseCPUTicks(string(b))
}

// parseCPUTicks returns utime+stime from a /proc/PID/stat line. The
// command name in parentheses may hold spaces and parentheses, so the
// fields are counted from the last ')'.
func parseCPUTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("stat line without a command name")
	}
	// After ')': state(3) ppid(4) … utime(14) stime(15).
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("stat line has %d fields after the command name", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return utime + stime, nil
}
