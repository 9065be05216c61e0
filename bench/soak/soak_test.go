package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.99, 0},
		{"one", ms(7), 0.5, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p50 of 1..100", ms(hundred...), 0.50, 50 * time.Millisecond},
		{"max", ms(hundred...), 1, 100 * time.Millisecond},
		{"p99 of ten is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{"tiny q is the smallest", ms(3, 4, 5), 0.0001, 3 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.in, tc.q); got != tc.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tc.in, tc.q, got, tc.want)
			}
		})
	}
}

func TestProcOfOwnProcess(t *testing.T) {
	pid := os.Getpid()
	rss, err := readRSSKiB(pid)
	if err != nil || rss <= 0 {
		t.Fatalf("readRSSKiB(own pid) = %d, %v; want a positive size", rss, err)
	}
	before, err := countFDs(pid)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	after, err := countFDs(pid)
	if err != nil || after < before+1 {
		t.Errorf("countFDs after opening a file = %d, %v; want at least %d", after, err, before+1)
	}
	if _, err := readCPUTicks(pid); err != nil {
		t.Errorf("readCPUTicks(own pid): %v", err)
	}
}

func TestParseProc(t *testing.T) {
	if got, err := parseVmRSS(strings.NewReader("Name:\tx\nVmPeak:\t  9 kB\nVmRSS:\t   12345 kB\n")); got != 12345 || err != nil {
		t.Errorf("parseVmRSS = %d, %v; want 12345", got, err)
	}
	if _, err := parseVmRSS(strings.NewReader("Name:\tkthread\n")); err == nil {
		t.Error("parseVmRSS without a VmRSS line: no error")
	}
	// A command name holding spaces and ')' must not shift the fields.
	stat := "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 3 0 100 1000 200"
	if got, err := parseCPUTicks(stat); got != 22 || err != nil {
		t.Errorf("parseCPUTicks = %d, %v; want 17+5", got, err)
	}
	if _, err := parseCPUTicks("42 (short) S 1"); err == nil {
		t.Error("parseCPUTicks of a short line: no error")
	}
}

func TestRequireLoopback(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080/api/incidents", true},
		{"http://127.9.9.9/", true},
		{"http://[::1]:8080/", true},
		{"http://10.0.0.1:8080/", false},
		{"http://[2001:db8::1]/", false},
		{"https://127.0.0.1:8443/", false},
		{"http:///nohost", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if err := requireLoopback(context.Background(), u); (err == nil) != tc.ok {
				t.Errorf("requireLoopback(%s) = %v, want ok=%v", tc.url, err, tc.ok)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	base := Result{P99Ms: 10, Requests: 1000}
	for _, tc := range []struct {
		name string
		atk  Result
		want []string
	}{
		{"unaffected", Result{P99Ms: 19.9, Requests: 900}, []string{"normal traffic unaffected"}},
		{"slow", Result{P99Ms: 25, Requests: 900}, []string{"affected", "p99 25.00 ms is 2.5×"}},
		{"errors", Result{P99Ms: 10, Requests: 900, Errors: 3, ErrorKinds: map[string]int{"timeout": 2, "status 503": 1}},
			[]string{"affected", "3 of 900 normal requests failed (1× status 503, 2× timeout)"}},
		{"busy soak", Result{P99Ms: 30, SoakCPUPercent: 45}, []string{"affected", "the soak itself used 45% of a core, 0% without"}},
		{"probes", Result{P99Ms: 10, Probes: 60, ProbesOK: 58}, []string{"unaffected; 2 of 60 fresh-connection probes failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := verdict(base, tc.atk)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("verdict = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

func ExampleattackKind_payload() {
	fmt.Printf("%q\n", stuckBody.payload("127.0.0.1:8080", "contoso"))
	fmt.Printf("%q\n", partialHeaders.payload("127.0.0.1:8080", "contoso"))
	// Output:
	// "POST /api/incidents HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Tenant-ID: contoso\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
	// "GET /api/incidents HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Tenant-ID: contoso"
}
