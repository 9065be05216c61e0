package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xdrproxy/xdrproxy/admin"
)

func TestRequestsWhileDrainingGet503(t *testing.T) {
	var ready admin.Readiness
	srv := httptest.NewServer(refuseWhileDraining(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served")
	}), &ready))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(srv.URL) // opens a keep-alive connection
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	ready.MarkDraining()
	resp, err = client.Get(srv.URL) // on the same connection
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), `"code":"ShuttingDown"`) || !resp.Close {
		t.Errorf("got %d %q close=%v", resp.StatusCode, body, resp.Close)
	}
}
