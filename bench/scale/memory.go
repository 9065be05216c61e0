package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// mib formats a byte count in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }

// measure prints one row: the proxy's RSS and peak RSS (read first, as
// the stage left them), then its heap after a GC the profile endpoint
// forces; with b.profiles set it also saves the stage's heap profile.
func (b *bench) measure(i int, stage, note string) error {
	rss, peak, err := procMemory(b.proxy.Process.Pid)
	if err != nil {
		return err
	}
	cpu, err := procCPU(b.proxy.Process.Pid)
	if err != nil {
		return err
	}
	stats, err := b.heapStats()
	if err != nil {
		return err
	}
	if b.profiles != "" {
		name := fmt.Sprintf("%d-%s.pb.gz", i, strings.NewReplacer(" ", "-", "/", "").Replace(stage))
		if err := b.saveProfile(filepath.Join(b.profiles, name)); err != nil {
			return err
		}
	}
	fmt.Printf("| %s | %s | %s | %s | %s | %s | %.2f | %d | %s |\n", stage, mib(rss), mib(peak),
		mib(stats["HeapAlloc"]), mib(stats["HeapInuse"]), mib(stats["Sys"]), cpu, stats["NumGC"], note)
	return nil
}

// procCPU returns the CPU time the process has used, in seconds, from
// utime and stime in /proc/PID/stat (in USER_HZ, 100 a second on Linux).
func procCPU(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errNoProc, err)
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis (state is field 3, utime 14).
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return 0, errNoProc
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return float64(utime+stime) / 100, nil
}

// procMemory returns the process's resident set and its peak, in bytes.
func procMemory(pid int) (rss, peak int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", errNoProc, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		kib, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kib << 10
		case "VmHWM:":
			peak = kib << 10
		}
	}
	if rss == 0 {
		return 0, 0, errNoProc
	}
	return rss, peak, nil
}

// heapStats reads the proxy's runtime.MemStats after a forced GC from the
// text heap profile (its "# Name = value" lines).
func (b *bench) heapStats() (map[string]int64, error) {
	resp, err := b.client.Get("http://" + b.admin + "/debug/pprof/heap?debug=1&gc=1")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("heap profile: %s (is XDRPROXY_PPROF honoured?)", resp.Status)
	}
	stats := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "# "), " = ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseInt(value, 10, 64); err == nil {
			stats[name] = v
		}
	}
	if _, ok := stats["HeapAlloc"]; !ok {
		return nil, fmt.Errorf("heap profile without MemStats")
	}
	return stats, sc.Err()
}

// saveProfile writes the proxy's heap profile, after a GC, to path.
func (b *bench) saveProfile(path string) error {
	resp, err := b.client.Get("http://" + b.admin + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
