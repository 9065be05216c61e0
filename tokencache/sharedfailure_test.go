package tokencache_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/fleet"
	"github.com/xdrproxy/xdrproxy/fleet/seal"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// fleetKeys returns a fresh token encryption key, as the replicas of one
// fleet share it.
func fleetKeys(t *testing.T) *seal.Keys {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	keys, err := seal.ParseKeys([]byte(base64.StdEncoding.EncodeToString(k) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// fleetReplica is one replica's fleet.TokenStore on the real Redis at
// addr, on clock; it and its connections close when the test ends.
func fleetReplica(t *testing.T, addr string, keys *seal.Keys, clock *testutil.Clock) *fleet.TokenStore {
	t.Helper()
	c, err := fleet.Dial(fleet.Options{URL: "redis://" + addr, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s := fleet.NewTokenStore(c, fleet.TokenStoreOptions{ClientID: "5d6e7f80-1a2b-4c3d-9e8f-a1b2c3d4e5f6", Keys: keys, Now: clock.Now})
	t.Cleanup(s.Close)
	return s
}

// answering returns n answers that each call answer.
func answering(n int, answer func() (tokencache.Token, error)) []func() (tokencache.Token, error) {
	answers := make([]func() (tokencache.Token, error), n)
	for i := range answers {
		answers[i] = answer
	}
	return answers
}

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

// A replica waiting out its own shared failure while Redis is down looks
// at the store once per recheck, not on every request: each look costs a
// Redis call, and a fallback, that cannot tell it more.
func TestARecheckWithRedisDownIsNotRepeatedPerRequest(t *testing.T) {
	addr, stop := testutil.StartRedis(t)
	clock := testutil.NewClock(time.Now())
	store := fleetReplica(t, addr, fleetKeys(t), clock)
	src := &scriptedSource{answers: answering(1, consentMissing)}
	c := newCache(t, src, tokencache.Options{Clock: clock, Store: store})
	ctx := context.Background()
	if _, err := c.Token(ctx, "t", scope); err == nil {
		t.Fatal("the first acquisition succeeded")
	}
	stop()
	clock.Advance(5 * time.Second) // a shared failure's recheck, inside its 1m backoff
	for range 5 {
		if _, err := c.Token(ctx, "t", scope); err == nil {
			t.Fatal("a look-up inside the backoff succeeded")
		}
	}
	if n := store.Fallbacks(); n != 1 {
		t.Errorf("5 look-ups at one recheck with Redis down made %d fallbacks, want 1", n)
	}
	clock.Advance(5 * time.Second) // the next recheck
	if _, err := c.Token(ctx, "t", scope); err == nil {
		t.Fatal("a look-up inside the backoff succeeded")
	}
	if n := store.Fallbacks(); n != 2 || src.Calls() != 1 {
		t.Errorf("after the next recheck: %d fallbacks, %d source calls; want 2 and 1", n, src.Calls())
	}
}

// A failure the fleet is not told of (this replica could not reach
// Entra ID, or its own credential was refused) is waited out here without
// asking the store every recheck: the fleet cannot have forgotten it, and
// a store that knows of no failure lets the acquisition ask Entra ID at
// once, ending the backoff.
func TestAFailureNotSharedIsNotRechecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"unreachable", &tokencache.AcquisitionError{TenantID: "t", Unreachable: true, Description: "dial tcp: connection refused"}},
		{"credential refused", &tokencache.AcquisitionError{TenantID: "t", Status: 401, OAuthError: "invalid_client", Codes: []int{7000215},
			Description: "AADSTS7000215: Invalid client secret provided."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := testutil.StartRedis(t)
			clock := testutil.NewClock(time.Now())
			src := &scriptedSource{answers: answering(2, func() (tokencache.Token, error) { return tokencache.Token{}, tc.err })}
			c := newCache(t, src, tokencache.Options{Clock: clock, Store: fleetReplica(t, addr, fleetKeys(t), clock), MinBackoff: time.Minute})
			ctx := context.Background()
			if _, err := c.Token(ctx, "t", scope); !errors.Is(err, tc.err) {
				t.Fatalf("first acquisition: %v", err)
			}
			clock.Advance(6 * time.Second) // past a shared failure's recheck, inside the 1m backoff
			var be *tokencache.BackoffError
			if _, err := c.Token(ctx, "t", scope); !errors.As(err, &be) || !errors.Is(err, tc.err) {
				t.Errorf("inside the backoff: %v, want the failure waited out", err)
			}
			if n := src.Calls(); n != 1 {
				t.Errorf("Entra ID asked %d times inside the backoff, want 1", n)
			}
		})
	}
}
