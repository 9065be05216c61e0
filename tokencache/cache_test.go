package tokencache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/config"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/simulator"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

const scope = "https://api.security.microsoft.com/.default"

// msalSource returns the production Source, real MSAL Go, pointed at sim.
func msalSource(t *testing.T, sim *simulator.Server, secret string) *tokencache.MSALSource {
	t.Helper()
	return sourceWith(t, sim, config.Credential{Kind: config.ClientSecret, Secret: config.Secret(secret)})
}

func newCache(t *testing.T, src tokencache.Source, opts tokencache.Options) *tokencache.Cache {
	t.Helper()
	if opts.SweepInterval == 0 {
		opts.SweepInterval = -1 // tests drive refreshes with RefreshDue
	}
	if opts.Rand == nil {
		opts.Rand = func() float64 { return 0.5 } // backoffs exact, refreshes 5% early
	}
	c := tokencache.New(src, opts)
	t.Cleanup(c.Close)
	return c
}

func TestSequentialRequestsReuseOneToken(t *testing.T) {
	sim := testutil.StartSimulator(t, &simulator.Server{})
	c := newCache(t, msalSource(t, sim, simulator.DefaultClientSecret), tokencache.Options{})
	var first string
	for i := 0; i < 50; i++ {
		tok, err := c.Token(context.Background(), simulator.ContosoTenantID, scope)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = tok.Value
		} else if tok.Value != first {
			t.Fatalf("request %d got a different token", i)
		}
	}
	if n := sim.TokenRequests(simulator.ContosoTenantID); n != 1 {
		t.Errorf("50 sequential look-ups made %d token requests, want 1", n)
	}
	claims, err := sim.ParseToken(first)
	if err != nil {
		t.Fatal(err)
	}
	if claims.TenantID != simulator.ContosoTenantID {
		t.Errorf("token tid = %s, want %s", claims.TenantID, simulator.ContosoTenantID)
	}
}

func TestConcurrentFirstRequestsMakeOneTokenRequest(t *testing.T) {
	release := make(chan struct{})
	sim := testutil.StartSimulator(t, &simulator.Server{
		// Hold the token request until every caller is waiting on it.
		BeforeToken: func(http.ResponseWriter, *http.Request, string) bool { <-release; return false },
	})
	c := newCache(t, msalSource(t, sim, simulator.DefaultClientSecret), tokencache.Options{})
	const n = 200
	var wg sync.WaitGroup
	var started sync.WaitGroup
	tokens := make([]string, n)
	errs := make([]error, n)
	started.Add(n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			tok, err := c.Token(context.Background(), simulator.FabrikamTenantID, scope)
			tokens[i], errs[i] = tok.Value, err
		}()
	}
	started.Wait()
	close(release)
	wg.Wait()
	for i := range tokens {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if tokens[i] != tokens[0] {
			t.Fatalf("caller %d got a different token", i)
		}
	}
	if got := sim.TokenRequests(simulator.FabrikamTenantID); got != 1 {
		t.Errorf("%d concurrent first look-ups made %d token requests, want 1", n, got)
	}
}

func TestTwoTenantsNeverShareTokens(t *testing.T) {
	sim := testutil.StartSimulator(t, &simulator.Server{})
	c := newCache(t, msalSource(t, sim, simulator.DefaultClientSecret), tokencache.Options{})
	var wg sync.WaitGroup
	var mismatches atomic.Int32
	for i := 0; i < 100; i++ {
		tenant := simulator.ContosoTenantID
		if i%2 == 1 {
			tenant = simulator.FabrikamTenantID
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := c.Token(context.Background(), tenant, scope)
			if err != nil {
				t.Error(err)
				return
			}
			claims, err := sim.ParseToken(tok.Value)
			if err != nil || claims.TenantID != tenant {
				mismatches.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := mismatches.Load(); n > 0 {
		t.Errorf("%d look-ups got a token for the wrong tenant", n)
	}
}

func TestTokenRefreshedInBackgroundWhileOldOneIsServed(t *testing.T) {
	var hold atomic.Bool
	release := make(chan struct{})
	refreshStarted := make(chan struct{}, 1)
	sim := testutil.StartSimulator(t, &simulator.Server{
		BeforeToken: func(http.ResponseWriter, *http.Request, string) bool {
			if hold.Load() {
				refreshStarted <- struct{}{}
				<-release
			}
			return false
		},
	})
	clock := testutil.NewClock(time.Now())
	c := newCache(t, msalSource(t, sim, simulator.DefaultClientSecret), tokencache.Options{Clock: clock})
	ctx := context.Background()
	old, err := c.Token(ctx, simulator.ContosoTenantID, scope)
	if err != nil {
		t.Fatal(err)
	}

	// 46 minutes into a one-hour token, a refresh is due.
	hold.Store(true)
	clock.Advance(46 * time.Minute)
	got, err := c.Token(ctx, simulator.ContosoTenantID, scope)
	if err != nil || got.Value != old.Value {
		t.Fatalf("the look-up that found the refresh due must get the old token at once; got err %v, same=%v", err, got.Value == old.Value)
	}
	<-refreshStarted // the refresh is now held inside Entra ID
	for i := 0; i < 20; i++ {
		got, err := c.Token(ctx, simulator.ContosoTenantID, scope)
		if err != nil || got.Value != old.Value {
			t.Fatalf("look-up %d during the refresh: err %v, same token=%v", i, err, got.Value == old.Value)
		}
	}
	if n := sim.TokenRequests(simulator.ContosoTenantID); n != 2 {
		t.Fatalf("token requests = %d, want 2 (one refresh despite 21 look-ups)", n)
	}
	hold.Store(false)
	close(release)
	c.RefreshDue(ctx) // joins the refresh in flight and waits for it

	fresh, err := c.Token(ctx, simulator.ContosoTenantID, scope)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Value == old.Value {
		t.Fatal("after the refresh the old token is still served")
	}
	if n := sim.TokenRequests(simulator.ContosoTenantID); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

func TestRefreshDueRefreshesIdleTenants(t *testing.T) {
	sim := testutil.StartSimulator(t, &simulator.Server{})
	clock := testutil.NewClock(time.Now())
	c := newCache(t, msalSource(t, sim, simulator.DefaultClientSecret), tokencache.Options{Clock: clock})
	ctx := context.Background()
	c.Warm(ctx, []string{simulator.ContosoTenantID, simulator.FabrikamTenantID}, scope)
	if got := sim.TotalTokenRequests(); got != 2 {
		t.Fatalf("warm-up made %d token requests, want 2", got)
	}
	c.RefreshDue(ctx)
	if got := sim.TotalTokenRequests(); got != 2 {
		t.Fatalf("RefreshDue with fresh tokens made %d token requests, want still 2", got)
	}
	clock.Advance(50 * time.Minute)
	c.RefreshDue(ctx)
	if got := sim.TotalTokenRequests(); got != 4 {
		t.Errorf("RefreshDue after 50 minutes: %d token requests, want 4", got)
	}
}

func TestFailureIsRememberedWithBackoff(t *testing.T) {
	sim := testutil.StartSimulator(t, &simulator.Server{})
	clock := testutil.NewClock(time.Now())
	c := newCache(t, msalSource(t, sim, simulator.DefaultClientSecret), tokencache.Options{Clock: clock, PermanentMinBackoff: 10 * time.Second, PermanentMaxBackoff: time.Minute})
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		_, err := c.Token(ctx, simulator.UnconsentedTenantID, scope)
		var ae *tokencache.AcquisitionError
		if !errors.As(err, &ae) {
			t.Fatalf("look-up %d: error %v is not an *AcquisitionError", i, err)
		}
		if ae.Code() != 700016 || !ae.ConsentRequired() {
			t.Fatalf("look-up %d: code %d, consent required %v; want 700016, true", i, ae.Code(), ae.ConsentRequired())
		}
	}
	if n := sim.TokenRequests(simulator.UnconsentedTenantID); n != 1 {
		t.Fatalf("100 look-ups of an unconsented tenant made %d token requests, want 1", n)
	}
	clock.Advance(10 * time.Second)
	_, _ = c.Token(ctx, simulator.UnconsentedTenantID, scope)
	if n := sim.TokenRequests(simulator.UnconsentedTenantID); n != 2 {
		t.Fatalf("after the 10s backoff: %d token requests, want 2", n)
	}
	clock.Advance(10 * time.Second) // second backoff is 20s
	_, _ = c.Token(ctx, simulator.UnconsentedTenantID, scope)
	if n := sim.TokenRequests(simulator.UnconsentedTenantID); n != 2 {
		t.Fatalf("10s into a 20s backoff: %d token requests, want still 2", n)
	}

	// Consent is granted: once the backoff passes, the tenant works.
	if err := sim.SetTenant(simulator.Tenant{ID: simulator.UnconsentedTenantID, Name: "Northwind", Consented: true, Roles: simulator.DefaultRoles}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	if _, err := c.Token(ctx, simulator.UnconsentedTenantID, scope); err != nil {
		t.Fatalf("after consent: %v", err)
	}
}

func TestAcquisitionErrorsCarryEntraCodes(t *testing.T) {
	const wrongSecret = "this-is-the-wrong-secret-4711"
	sim := testutil.StartSimulator(t, &simulator.Server{})
	deadHost, _ := url.Parse("https://127.0.0.1:1") // nothing listens on port 1
	deadSrc, err := tokencache.NewMSALSource(tokencache.MSALOptions{
		AuthorityHost: deadHost, ClientID: simulator.DefaultClientID, Credential: config.Credential{Kind: config.ClientSecret, Secret: "x"},
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		src        tokencache.Source
		tenant     string
		code       int
		oauthError string
		consent    bool
		hint       string
	}{
		{"unconsented tenant", msalSource(t, sim, simulator.DefaultClientSecret), simulator.UnconsentedTenantID, 700016, "unauthorized_client", true, "admin consent"},
		{"wrong secret", msalSource(t, sim, wrongSecret), simulator.ContosoTenantID, 7000215, "invalid_client", false, "XDRPROXY_CLIENT_SECRET"},
		{"unknown tenant", msalSource(t, sim, simulator.DefaultClientSecret), "99999999-9999-4999-8999-999999999999", 90002, "invalid_tenant", false, "XDRPROXY_CLOUD"},
		{"Entra ID unreachable", deadSrc, simulator.ContosoTenantID, 0, "", false, "XDRPROXY_AUTHORITY_HOST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.src.Token(context.Background(), tt.tenant, scope)
			var ae *tokencache.AcquisitionError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an *AcquisitionError", err)
			}
			if ae.Code() != tt.code || ae.OAuthError != tt.oauthError || ae.ConsentRequired() != tt.consent {
				t.Errorf("code %d, oauth error %q, consent %v; want %d, %q, %v", ae.Code(), ae.OAuthError, ae.ConsentRequired(), tt.code, tt.oauthError, tt.consent)
			}
			if !strings.Contains(ae.Hint(), tt.hint) {
				t.Errorf("hint %q does not mention %q", ae.Hint(), tt.hint)
			}
			if strings.Contains(err.Error(), wrongSecret) || strings.Contains(err.Error(), simulator.DefaultClientSecret) {
				t.Errorf("error text contains the client secret: %s", err)
			}
			if strings.Contains(err.Error(), "Trace ID") {
				t.Errorf("error text keeps Entra's trace lines: %s", err)
			}
		})
	}
}

// scriptedSource answers from a script, for timing cases the simulator
// cannot stage.
type scriptedSource struct {
	mu      sync.Mutex
	calls   int
	answers []func() (tokencache.Token, error)
}

func (s *scriptedSource) Token(ctx context.Context, tenantID, scope string) (tokencache.Token, error) {
	s.mu.Lock()
	i := s.calls
	s.calls++
	s.mu.Unlock()
	if i >= len(s.answers) {
		return tokencache.Token{}, errors.New("script exhausted")
	}
	return s.answers[i]()
}

func (s *scriptedSource) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestFailedRefreshKeepsServingValidToken(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	start := clock.Now()
	entraDown := errors.New("entra is down")
	src := &scriptedSource{answers: []func() (tokencache.Token, error){
		func() (tokencache.Token, error) {
			return tokencache.Token{Value: "t1", ExpiresOn: start.Add(time.Hour)}, nil
		},
		func() (tokencache.Token, error) { return tokencache.Token{}, entraDown },
		func() (tokencache.Token, error) { return tokencache.Token{}, entraDown },
	}}
	c := newCache(t, src, tokencache.Options{Clock: clock, MinBackoff: time.Minute, MaxBackoff: time.Minute})
	ctx := context.Background()
	if tok, err := c.Token(ctx, "t", scope); err != nil || tok.Value != "t1" {
		t.Fatalf("first: %v %v", tok, err)
	}
	clock.Advance(50 * time.Minute)
	c.RefreshDue(ctx) // fails
	if tok, err := c.Token(ctx, "t", scope); err != nil || tok.Value != "t1" {
		t.Fatalf("after a failed refresh the valid token must still be served: %v", err)
	}
	if src.Calls() != 2 {
		t.Fatalf("calls = %d, want 2 (no retry inside the backoff)", src.Calls())
	}
	st, _ := c.Status(tokencache.Key{TenantID: "t", Scope: scope})
	if !errors.Is(st.LastError, entraDown) || !st.HasToken {
		t.Errorf("status = %+v, want the failure recorded and the token held", st)
	}
	// Past its expiry (less the safety margin) the token is no longer served.
	clock.Advance(10 * time.Minute)
	if _, err := c.Token(ctx, "t", scope); !errors.Is(err, entraDown) {
		t.Fatalf("after expiry: err = %v, want the refresh failure", err)
	}
}

func TestCallerCancellationDoesNotCancelSharedAcquisition(t *testing.T) {
	release := make(chan struct{})
	src := &scriptedSource{answers: []func() (tokencache.Token, error){
		func() (tokencache.Token, error) {
			<-release
			return tokencache.Token{Value: "shared", ExpiresOn: time.Now().Add(time.Hour)}, nil
		},
	}}
	c := newCache(t, src, tokencache.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Token(ctx, "t", scope)
		done <- err
	}()
	waiter := make(chan tokencache.Token, 1)
	go func() {
		tok, _ := c.Token(context.Background(), "t", scope)
		waiter <- tok
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller got %v, want context.Canceled", err)
	}
	close(release)
	if tok := <-waiter; tok.Value != "shared" {
		t.Fatalf("the other caller got %q, want the shared token", tok.Value)
	}
	if src.Calls() != 1 {
		t.Errorf("calls = %d, want 1", src.Calls())
	}
}

func TestTokenStringHidesValue(t *testing.T) {
	tok := tokencache.Token{Value: "eyJsecret.value.sig", ExpiresOn: time.Now()}
	for _, s := range []string{tok.String(), fmt.Sprintf("%v %s %+v %#v", tok, tok, tok, tok)} {
		if strings.Contains(s, "eyJsecret") {
			t.Errorf("printed token shows its value: %s", s)
		}
	}
}

func TestHostileTokenEndpointAnswers(t *testing.T) {
	const leaked = "eyLEAKEDACCESSTOKENvalue"
	// A redirect goes to the same, trusted server, so that a client that
	// followed it would reach it: the request must never arrive.
	var thiefHits atomic.Int32
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		want   string
	}{
		{"truncated 200 holding a token", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"`+leaked)
		}, "could not be read"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path+"?stolen=1", http.StatusTemporaryRedirect)
		}, "307"},
		{"HTML error page", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "<html>"+leaked+"</html>", http.StatusBadGateway)
		}, "502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := testutil.StartSimulator(t, &simulator.Server{BeforeToken: func(w http.ResponseWriter, r *http.Request, _ string) bool {
				if r.URL.Query().Get("stolen") != "" {
					thiefHits.Add(1)
					return false
				}
				tt.answer(w, r)
				return true
			}})
			_, err := msalSource(t, sim, simulator.DefaultClientSecret).Token(context.Background(), simulator.ContosoTenantID, scope)
			if err == nil {
				t.Fatal("want an error")
			}
			text := fmt.Sprintf("%v %+v", err, err)
			if strings.Contains(text, leaked) || strings.Contains(text, simulator.DefaultClientSecret) {
				t.Errorf("error text leaks a token or the secret: %s", text)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			var ae *tokencache.AcquisitionError
			if tt.want == "307" && (!errors.As(err, &ae) || ae.Status != http.StatusTemporaryRedirect) {
				t.Errorf("a redirect: %v, want an AcquisitionError with status 307", err)
			}
		})
	}
	if n := thiefHits.Load(); n != 0 {
		t.Errorf("the redirect target received %d token requests (with the secret)", n)
	}
}

func TestFailureClassesBackOffDifferently(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		oauthError string
		code       int
		class      tokencache.Class
		transient  bool
	}{
		{"no consent", 400, "unauthorized_client", 700016, tokencache.ClassConsent, false},
		{"consent missing for a permission", 400, "invalid_grant", 65001, tokencache.ClassConsent, false},
		{"no Defender licence", 400, "invalid_request", 650052, tokencache.ClassNoLicence, false},
		{"expired secret", 401, "invalid_client", 7000222, tokencache.ClassCredential, false},
		{"wrong cloud", 400, "invalid_request", 90002, tokencache.ClassTenant, false},
		{"conditional access", 400, "invalid_grant", 53003, tokencache.ClassPolicy, false},
		{"loop detected", 400, "invalid_request", 50196, tokencache.ClassThrottled, true},
		{"tenant throttled", 429, "invalid_request", 90055, tokencache.ClassThrottled, true},
		{"request budget", 400, "invalid_request", 90024, tokencache.ClassTransient, true},
		{"retryable", 400, "invalid_request", 50033, tokencache.ClassTransient, true},
		{"temporarily unavailable", 503, "temporarily_unavailable", 0, tokencache.ClassTransient, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := testutil.StartSimulator(t, &simulator.Server{})
			sim.FailTokens(simulator.ContosoTenantID, tt.status, tt.oauthError, tt.code, -1)
			clock := testutil.NewClock(time.Now())
			c := newCache(t, msalSource(t, sim, simulator.DefaultClientSecret), tokencache.Options{
				Clock: clock, MinBackoff: 5 * time.Second, PermanentMinBackoff: time.Minute,
			})
			ctx := context.Background()
			_, err := c.Token(ctx, simulator.ContosoTenantID, scope)
			var ae *tokencache.AcquisitionError
			if !errors.As(err, &ae) || ae.Class() != tt.class || ae.Code() != tt.code || ae.Transient() != tt.transient {
				t.Fatalf("failure %v: want class %s, code %d, transient %v", err, tt.class, tt.code, tt.transient)
			}
			if ae.Hint() == "" {
				t.Error("no hint")
			}
			_, _ = c.Token(ctx, simulator.ContosoTenantID, scope)
			if n := sim.TokenRequests(simulator.ContosoTenantID); n != 1 {
				t.Fatalf("a second look-up within the backoff: %d token requests, want 1", n)
			}
			clock.Advance(6 * time.Second)
			_, _ = c.Token(ctx, simulator.ContosoTenantID, scope)
			want := 1
			if tt.transient {
				want = 2 // retried after the short backoff
			}
			if n := sim.TokenRequests(simulator.ContosoTenantID); n != want {
				t.Fatalf("6 s later: %d token requests, want %d", n, want)
			}
			sim.FailTokens(simulator.ContosoTenantID, 0, "", 0, 0) // the fault is fixed
			clock.Advance(2 * time.Minute)
			if _, err := c.Token(ctx, simulator.ContosoTenantID, scope); err != nil {
				t.Fatalf("after the fault was fixed and the backoff passed: %v", err)
			}
		})
	}
}

func TestRemovedTenantKeepsNoToken(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	src := &scriptedSource{answers: []func() (tokencache.Token, error){
		func() (tokencache.Token, error) {
			close(started)
			<-release
			return tokencache.Token{Value: "late", ExpiresOn: time.Now().Add(time.Hour)}, nil
		},
	}}
	c := newCache(t, src, tokencache.Options{})
	c.SetTenants([]string{"a", "b"})
	done := make(chan error, 1)
	go func() {
		_, err := c.Token(context.Background(), "a", scope)
		done <- err
	}()
	<-started
	c.SetTenants([]string{"b"}) // a is removed while its acquisition is in flight
	close(release)
	if err := <-done; !errors.Is(err, tokencache.ErrTenantNotServed) {
		t.Fatalf("the in-flight caller got %v, want ErrTenantNotServed", err)
	}
	if _, ok := c.Status(tokencache.Key{TenantID: "a", Scope: scope}); ok {
		t.Error("the removed tenant still has an entry")
	}
	if _, err := c.Token(context.Background(), "a", scope); !errors.Is(err, tokencache.ErrTenantNotServed) {
		t.Errorf("a later look-up: %v", err)
	}
	c.Warm(context.Background(), []string{"a"}, scope)
	if src.Calls() != 1 {
		t.Errorf("source calls = %d, want 1: nothing may be fetched for a removed tenant", src.Calls())
	}
}

func TestRetryFailedNowRestartsTheBackoff(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	fail := func() (tokencache.Token, error) {
		return tokencache.Token{}, &tokencache.AcquisitionError{Status: 401, OAuthError: "invalid_client", Codes: []int{7000215}}
	}
	src := &scriptedSource{answers: []func() (tokencache.Token, error){fail, fail, fail, fail}}
	c := newCache(t, src, tokencache.Options{Clock: clock, PermanentMinBackoff: time.Minute, PermanentMaxBackoff: 30 * time.Minute})
	ctx := context.Background()
	for i := 0; i < 3; i++ { // failures 1..3: waits of 1, 2, 4 minutes
		_, _ = c.Token(ctx, "t", scope)
		clock.Advance(time.Duration(1<<i) * time.Minute)
	}
	c.RetryFailedNow()
	_, _ = c.Token(ctx, "t", scope) // the first failure after the fix
	st, _ := c.Status(tokencache.Key{TenantID: "t", Scope: scope})
	if wait := st.RetryAt.Sub(clock.Now()); wait != time.Minute {
		t.Errorf("after a fix and one failure the wait is %v, want the first step again (1m)", wait)
	}
}

func TestRefresherOutlivesAnyNumberOfFailures(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	var calls int
	src := sourceFunc(func() (tokencache.Token, error) {
		calls++
		if calls <= 1000 {
			return tokencache.Token{}, &tokencache.AcquisitionError{Status: 503, OAuthError: "temporarily_unavailable"}
		}
		return tokencache.Token{Value: "finally", ExpiresOn: clock.Now().Add(time.Hour)}, nil
	})
	c := newCache(t, src, tokencache.Options{Clock: clock, MinBackoff: time.Second, MaxBackoff: time.Minute})
	c.Warm(context.Background(), []string{"t"}, scope)
	for i := 0; i < 1000; i++ {
		clock.Advance(2 * time.Minute) // past any backoff
		c.RefreshDue(context.Background())
	}
	st, _ := c.Status(tokencache.Key{TenantID: "t", Scope: scope})
	if calls != 1001 || !st.HasToken {
		t.Fatalf("after 1000 failures: %d attempts, token held %v; the refresher must keep trying", calls, st.HasToken)
	}
}

// sourceFunc adapts a function to tokencache.Source; calls are serialised
// by the cache's single flight.
type sourceFunc func() (tokencache.Token, error)

func (f sourceFunc) Token(context.Context, string, string) (tokencache.Token, error) { return f() }

func TestRefreshDueHonoursTheBackoff(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	var calls atomic.Int32
	src := sourceFunc(func() (tokencache.Token, error) {
		calls.Add(1)
		return tokencache.Token{}, &tokencache.AcquisitionError{Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016}}
	})
	c := newCache(t, src, tokencache.Options{Clock: clock, PermanentMinBackoff: time.Minute})
	c.Warm(context.Background(), []string{"t"}, scope)
	for range 5 {
		clock.Advance(10 * time.Second) // one sweep interval, inside the 1m backoff
		c.RefreshDue(context.Background())
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("RefreshDue inside the backoff: %d acquisitions, want 1", n)
	}
}

func TestAnExpiredTokenIsAFailure(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	src := sourceFunc(func() (tokencache.Token, error) {
		return tokencache.Token{Value: "x", ExpiresOn: clock.Now().Add(-time.Second)}, nil
	})
	c := newCache(t, src, tokencache.Options{Clock: clock})
	if _, err := c.Token(context.Background(), "t", scope); err == nil {
		t.Fatal("an already-expired token was accepted")
	}
}

func TestInvalidateKeepsTheOnlyTokenDuringABackoff(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	var n atomic.Int32
	src := sourceFunc(func() (tokencache.Token, error) {
		if n.Add(1) == 1 {
			return tokencache.Token{Value: "t1", ExpiresOn: clock.Now().Add(time.Hour)}, nil
		}
		return tokencache.Token{}, &tokencache.AcquisitionError{Status: 503}
	})
	c := newCache(t, src, tokencache.Options{Clock: clock, MinBackoff: time.Minute})
	ctx := context.Background()
	_, _ = c.Token(ctx, "t", scope)
	clock.Advance(50 * time.Minute)
	c.RefreshDue(ctx) // fails: backoff, t1 still served
	if c.Invalidate("t", scope, "t1") {
		t.Fatal("Invalidate dropped the only token while Entra ID is in backoff")
	}
	if tok, err := c.Token(ctx, "t", scope); err != nil || tok.Value != "t1" {
		t.Fatalf("got %v %v", tok, err)
	}
}

func TestTheBackgroundRefresherRuns(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	calls := make(chan struct{}, 10)
	src := sourceFunc(func() (tokencache.Token, error) {
		calls <- struct{}{}
		return tokencache.Token{Value: "v", ExpiresOn: clock.Now().Add(time.Hour)}, nil
	})
	c := newCache(t, src, tokencache.Options{Clock: clock, SweepInterval: 5 * time.Millisecond})
	c.Warm(context.Background(), []string{"t"}, scope)
	<-calls
	clock.Advance(50 * time.Minute) // past the refresh point: the next sweep refreshes
	select {
	case <-calls:
	case <-time.After(10 * time.Second):
		t.Fatal("the background refresher did not refresh an idle token")
	}
}
