package tokencache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// Only Entra ID's answers about the tenant are shared with the fleet.
func TestShareable(t *testing.T) {
	consent := &tokencache.AcquisitionError{Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016}}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no consent", consent, true},
		{"throttled", &tokencache.AcquisitionError{Status: 429, OAuthError: "temporarily_unavailable", Codes: []int{50196}}, true},
		{"wrapped", fmt.Errorf("x: %w", consent), true},
		{"unreachable", &tokencache.AcquisitionError{Unreachable: true, Description: "dial tcp"}, false},
		{"this replica's credential refused", &tokencache.AcquisitionError{Status: 401, OAuthError: "invalid_client", Codes: []int{7000215}}, false},
		{"cancelled at shutdown", &tokencache.AcquisitionError{Description: "cancelled", Err: context.Canceled}, false},
		{"failed before asking", &tokencache.AcquisitionError{Description: "reading the federated token file: no such file"}, false},
		{"not an acquisition error", errors.New("x"), false},
	} {
		if got := tokencache.Shareable(tc.err); got != tc.want {
			t.Errorf("%s: Shareable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A replica that joins while the fleet's refresh of a tenant is failing
// serves the fleet's token, still valid, as the other replicas do; it
// does not refuse the tenant.
func TestAFailureWithAUsableTokenServesTheToken(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	key := tokencache.Key{TenantID: "t", Scope: scope}
	fleetToken := tokencache.Token{Value: "fleet-token", ExpiresOn: clock.Now().Add(10 * time.Minute)}
	_, err := consentMissing()
	store := &sharedStore{now: clock.Now, tokens: map[tokencache.Key]tokencache.Token{}, failures: map[tokencache.Key]*tokencache.Failure{
		key: {Err: err, Failures: 1, RetryAt: clock.Now().Add(time.Minute), Token: fleetToken},
	}}
	src := &scriptedSource{}
	c := newCache(t, src, tokencache.Options{Clock: clock, Store: store})
	for range 3 {
		tok, err := c.Token(context.Background(), "t", scope)
		if err != nil || tok.Value != "fleet-token" {
			t.Fatalf("Token = %q, %v; want the fleet's token while its refresh fails", tok.Value, err)
		}
	}
	if store.Acquires() != 1 || src.Calls() != 0 {
		t.Errorf("store asked %d times, source %d; want 1 and 0", store.Acquires(), src.Calls())
	}
}

// A retry on a replica that holds a token (so has no failure of its own)
// still makes the fleet forget the failure another replica met.
func TestRetryForgetsTheFleetsFailureEvenWithATokenHere(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	key := tokencache.Key{TenantID: "t", Scope: scope}
	store := &sharedStore{now: clock.Now, tokens: map[tokencache.Key]tokencache.Token{
		key: {Value: "held", ExpiresOn: clock.Now().Add(time.Hour)},
	}, failures: map[tokencache.Key]*tokencache.Failure{}}
	c := newCache(t, &scriptedSource{}, tokencache.Options{Clock: clock, Store: store})
	if _, err := c.Token(context.Background(), "t", scope); err != nil {
		t.Fatal(err)
	}
	_, err := consentMissing()
	store.failures[key] = &tokencache.Failure{Err: err, Failures: 2, RetryAt: clock.Now().Add(time.Hour)}
	if err := c.Retry(context.Background(), "t", []string{scope}); err != nil {
		t.Fatal(err)
	}
	if store.failures[key] != nil {
		t.Error("the fleet still remembers the failure after a retry")
	}
}

// A replica that gets no requests still looks again at a shared failure
// it is waiting out, in its background sweep, so that a retry on
// another replica reaches it.
func TestTheSweepRechecksASharedFailure(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	key := tokencache.Key{TenantID: "t", Scope: scope}
	_, err := consentMissing()
	store := &sharedStore{now: clock.Now, tokens: map[tokencache.Key]tokencache.Token{}, failures: map[tokencache.Key]*tokencache.Failure{
		key: {Err: err, Failures: 1, RetryAt: clock.Now().Add(30 * time.Minute)},
	}}
	c := newCache(t, &scriptedSource{}, tokencache.Options{Clock: clock, Store: store})
	c.Warm(context.Background(), []string{"t"}, scope) // adopts the failure
	if st, _ := c.Status(key); st.HasToken || st.LastError == nil {
		t.Fatalf("after warming: %+v, want the fleet's failure", st)
	}
	// Another replica is told to retry and gets the token.
	store.mu.Lock()
	delete(store.failures, key)
	store.tokens[key] = tokencache.Token{Value: "after-retry", ExpiresOn: clock.Now().Add(time.Hour)}
	store.mu.Unlock()
	clock.Advance(6 * time.Second)
	c.RefreshDue(context.Background())
	if st, _ := c.Status(key); !st.HasToken {
		t.Errorf("after the sweep: %+v, want the token the fleet acquired on retry", st)
	}
}
