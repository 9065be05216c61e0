package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/config"
)

// heldCore holds every log line until release is closed, and says on
// released whether the client closed it or the guard timer did.
type heldCore struct {
	zapcore.LevelEnabler
	release  chan struct{}
	released chan bool
}

func (c *heldCore) With([]zapcore.Field) zapcore.Core { return c }
func (c *heldCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}
func (c *heldCore) Sync() error { return nil }
func (c *heldCore) Write(zapcore.Entry, []zapcore.Field) error {
	byClient := true
	select {
	case <-c.release:
	case <-time.After(20 * time.Second):
		byClient = false
	}
	select {
	case c.released <- byClient: // the first line's outcome
	default:
	}
	return nil
}

// TestAnswerLeavesBeforeTheAccessLog: a forwarded answer of known length
// reaches the client while its access-log line is still being written.
func TestAnswerLeavesBeforeTheAccessLog(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "answer")
	}))
	defer backend.Close()
	upstream, _ := url.Parse(backend.URL)
	tenants, _ := config.NewTenantSet([]config.Tenant{{ID: "11111111-1111-4111-8111-111111111111", Alias: "contoso"}})
	core := &heldCore{LevelEnabler: zapcore.InfoLevel, release: make(chan struct{}), released: make(chan bool, 1)}
	transport := NewTransport(10*time.Second, nil)
	defer transport.CloseIdleConnections()
	h, err := New(Options{Upstream: upstream, Scope: "s", Tenants: tenants, Tokens: staticTokens{}, Transport: transport, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Transport{}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("GET", srv.URL+"/api/x", nil)
	req.Header.Set(TenantHeader, "contoso")
	resp, err := client.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	close(core.release)
	if err != nil || string(body) != "answer" {
		t.Fatalf("body %q, %v", body, err)
	}
	if !<-core.released {
		t.Error("the answer reached the client only after its access-log line was written")
	}
}
