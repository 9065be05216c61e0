package testutil

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Get fetches url with http.Get and returns the status and the body.
func Get(t testing.TB, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := Do(t, req)
	return resp.StatusCode, string(body)
}

// Do sends req with http.DefaultClient and returns the response, its body
// read and closed; the test fails if the request or the read fails.
func Do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// ParseURL parses raw, failing the test if it is not a URL.
func ParseURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	return u
}

// GetUntil fetches url until its body contains every one of want, for up
// to 10 s, and returns the last body and what it still lacked. For
// /metrics: the proxy counts a request once its answer has left, so a
// scrape right after the answer may come first.
func GetUntil(t testing.TB, url string, want ...string) (body string, missing []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body = Get(t, url)
		missing = missing[:0]
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			return body, missing
		}
		time.Sleep(5 * time.Millisecond)
	}
}
