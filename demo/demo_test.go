package demo_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/demo"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
)

// demoIncidentTenant gets url with bearer (if any) and returns the status
// and the tenant of the first incident.
func demoIncidentTenant(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Value []struct {
			IncidentURI string `json:"incidentUri"`
		} `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Value) == 0 {
		return resp.StatusCode, ""
	}
	_, tid, _ := strings.Cut(list.Value[0].IncidentURI, "tid=")
	return resp.StatusCode, tid
}

// TestDemo runs the README's first command in-process: it must print curl
// lines that work against the proxy it started, then stop cleanly.
func TestDemo(t *testing.T) {
	t.Setenv("XDRPROXY_LISTEN_ADDR", "127.0.0.1:0")
	t.Setenv("XDRPROXY_ADMIN_ADDR", "127.0.0.1:0")
	t.Setenv("XDRPROXY_TENANT_LISTENERS", "127.0.0.1:0=fabrikam")
	t.Setenv("XDRPROXY_LOG_FORMAT", "json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var logs testutil.SyncBuffer
	o, err := demo.OptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- demo.Run(ctx, o, outW, &logs)
		outW.Close()
	}()

	var banner strings.Builder
	sc := bufio.NewScanner(outR)
	for sc.Scan() {
		banner.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, outR)
	text := banner.String()
	proxyURL := regexp.MustCompile(`the proxy at (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(text)
	adminURL := regexp.MustCompile(`admin: (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(text)
	if proxyURL == nil || adminURL == nil {
		t.Fatalf("banner names no proxy or admin URL:\n%s", text)
	}
	if !strings.Contains(text, "curl -s -H 'X-Tenant-ID: contoso' '"+proxyURL[1]+"/api/incidents?$top=2'") {
		t.Errorf("banner lacks the contoso curl line:\n%s", text)
	}

	consentLine := regexp.MustCompile(`curl -s --cacert (\S+) '(https://[^']+/oauth2/authorize\?[^']+)'`).FindStringSubmatch(text)
	if consentLine == nil || !strings.Contains(consentLine[2], simulator.UnconsentedTenantID) {
		t.Fatalf("banner lacks northwind's consent line:\n%s", text)
	}
	// The consent line works as printed: the CA file it names lets a
	// client verify the simulator.
	caPEM, err := os.ReadFile(consentLine[1])
	if err != nil {
		t.Fatalf("the consent line's CA file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("the CA file holds no certificate")
	}
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	consentResp, err := tlsClient.Get(consentLine[2])
	if err != nil {
		t.Fatalf("following the consent line: %v", err)
	}
	consentResp.Body.Close()
	tlsClient.CloseIdleConnections()
	if consentResp.StatusCode != 200 {
		t.Errorf("consent page: status %d", consentResp.StatusCode)
	}
	// Then the retry line, as printed, makes northwind ready at once.
	retryLine := regexp.MustCompile(`curl -s -X POST (http://\S+/tenants/northwind/retry)`).FindStringSubmatch(text)
	if retryLine == nil || !strings.HasPrefix(retryLine[1], adminURL[1]) {
		t.Fatalf("banner lacks the retry line on the admin listener:\n%s", text)
	}
	retryResp, err := http.Post(retryLine[1], "", nil)
	if err != nil {
		t.Fatal(err)
	}
	retryBody, _ := io.ReadAll(retryResp.Body)
	retryResp.Body.Close()
	if retryResp.StatusCode != 200 || !strings.Contains(string(retryBody), `"ready": true`) {
		t.Errorf("the retry after consent: %d %s", retryResp.StatusCode, retryBody)
	}

	req, _ := http.NewRequest("GET", proxyURL[1]+"/api/incidents?$top=2", nil)
	req.Header.Set("X-Tenant-ID", "contoso")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Value []simulator.Incident `json:"value"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(list.Value) != 2 {
		t.Fatalf("demo incidents: status %d, %d incidents, %v", resp.StatusCode, len(list.Value), err)
	}

	greq, _ := http.NewRequest("GET", proxyURL[1]+"/graph/v1.0/security/incidents?$top=1", nil)
	greq.Header.Set("X-Tenant-ID", "contoso")
	gresp, err := http.DefaultClient.Do(greq)
	if err != nil {
		t.Fatal(err)
	}
	gbody, _ := io.ReadAll(gresp.Body)
	gresp.Body.Close()
	if gresp.StatusCode != 200 || !strings.Contains(string(gbody), "displayName") {
		t.Errorf("demo Graph route: %d %s", gresp.StatusCode, gbody)
	}

	resp, err = http.Get(proxyURL[1] + "/api/incidents")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("no tenant: status %d, want 400 MissingTenant", resp.StatusCode)
	}

	// fabrikam's listener, as printed.
	pinned := regexp.MustCompile(`curl -s '(http://127\.0\.0\.1:\d+)/api/incidents\?\$top=1'`).FindStringSubmatch(text)
	if pinned == nil || pinned[1] == proxyURL[1] {
		t.Fatalf("banner lacks the tenant listener line:\n%s", text)
	}
	if status, tid := demoIncidentTenant(t, pinned[1]+"/api/incidents?$top=1", ""); status != 200 || tid != simulator.FabrikamTenantID {
		t.Errorf("tenant listener: %d, tenant %s", status, tid)
	}
	// The token lines, as printed: the printed form, then the API call.
	tokenLine := regexp.MustCompile(`(?s)client_id=(\S+) \\\s+-d client_secret=(\S+) -d resource=(\S+) \\\s+'([^']+/oauth2/token)'`).FindStringSubmatch(text)
	if tokenLine == nil {
		t.Fatalf("banner lacks the token emulation lines:\n%s", text)
	}
	tokResp, err := http.PostForm(tokenLine[4], url.Values{"grant_type": {"client_credentials"}, "client_id": {tokenLine[1]}, "client_secret": {tokenLine[2]}, "resource": {tokenLine[3]}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(tokResp.Body).Decode(&tok)
	tokResp.Body.Close()
	if err != nil || tokResp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token emulation: %d %v", tokResp.StatusCode, err)
	}
	if status, tid := demoIncidentTenant(t, proxyURL[1]+"/api/incidents?$top=1", tok.AccessToken); status != 200 || tid != simulator.ContosoTenantID {
		t.Errorf("the placeholder: %d, tenant %s", status, tid)
	}

	// The warm-up finishes and readiness opens without traffic.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(adminURL[1] + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz never turned 200")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Each tenant keeps its own label on the request counter, as with
	// serve's defaults.
	if status, metrics := testutil.Get(t, adminURL[1]+"/metrics"); status != 200 ||
		!regexp.MustCompile(`xdrproxy_requests_total\{code="200",route="default",tenant="contoso"\} [1-9]`).MatchString(metrics) {
		t.Errorf("/metrics (%d) counts no request of tenant contoso under its own label:\n%s", status, metrics)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo exited with %v, want a clean stop", err)
	}
	if _, err := os.Stat(consentLine[1]); !os.IsNotExist(err) {
		t.Errorf("the demo left its CA file behind: %v", err)
	}
	if strings.Contains(logs.String(), simulator.DefaultClientSecret) {
		t.Error("the demo logged the client secret")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("no clean-stop log line:\n%s", logs.String())
	}
}
