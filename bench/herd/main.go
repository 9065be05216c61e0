// Command herd sends n requests at the same instant, each on its own
// connection, and prints their latency percentiles: bench/run's cold-herd
// case (many first requests for a tenant whose token is not cached yet).
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

func main() {
	n := flag.Int("n", 1000, "concurrent requests")
	url := flag.String("url", "", "URL to request")
	tenant := flag.String("tenant", "", "X-Tenant-ID to send")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "herd: -url is required")
		os.Exit(2)
	}
	start := make(chan struct{})
	lat := make([]time.Duration, *n)
	codes := make([]int, *n)
	var wg sync.WaitGroup
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
			req, _ := http.NewRequest("GET", *url, nil)
			req.Header.Set("X-Tenant-ID", *tenant)
			<-start
			t0 := time.Now()
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}
			lat[i] = time.Since(t0)
		}()
	}
	time.Sleep(200 * time.Millisecond) // let every goroutine reach the barrier
	close(start)
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == 200 {
			ok++
		}
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	p := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	fmt.Printf("HERD ok=%d of %d p50=%.2f p99=%.2f max=%.2f\n", ok, *n, p(0.5), p(0.99), p(1))
}
