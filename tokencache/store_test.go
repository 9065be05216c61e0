package tokencache_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// sharedStore is a Store as replicas would share it: it holds one token
// or failure per key, hands it out without calling fetch, and counts its
// calls. A failure whose backoff has passed is handed to fetch as prior.
type sharedStore struct {
	mu       sync.Mutex
	now      func() time.Time
	tokens   map[tokencache.Key]tokencache.Token
	failures map[tokencache.Key]*tokencache.Failure
	acquires int
	priors   []int
	forgot   []string
}

func (s *sharedStore) Acquire(ctx context.Context, k tokencache.Key, fetch tokencache.Fetch) (tokencache.Token, error) {
	s.mu.Lock()
	s.acquires++
	tok, ok := s.tokens[k]
	f := s.failures[k]
	s.mu.Unlock()
	if ok {
		return tok, nil
	}
	prior := 0
	if f != nil {
		if s.now().Before(f.RetryAt) {
			return tokencache.Token{}, f
		}
		prior = f.Failures
	}
	tok, err := fetch(ctx, prior)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.priors = append(s.priors, prior)
	if err == nil {
		s.tokens[k] = tok
		delete(s.failures, k)
	}
	if errors.As(err, &f) {
		s.failures[k] = f
	}
	return tok, err
}

func (s *sharedStore) Forget(k tokencache.Key, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgot = append(s.forgot, token)
	if s.tokens[k].Value == token {
		delete(s.tokens, k)
	}
}

func (s *sharedStore) ForgetFailure(k tokencache.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.failures, k)
}

func (s *sharedStore) Acquires() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acquires
}

func TestTheStoreInOptionsIsTheOneUsed(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	key := tokencache.Key{TenantID: "t", Scope: scope}
	store := &sharedStore{now: clock.Now, failures: map[tokencache.Key]*tokencache.Failure{}, tokens: map[tokencache.Key]tokencache.Token{
		key: {Value: "from-another-replica", ExpiresOn: clock.Now().Add(time.Hour)},
	}}
	src := &scriptedSource{answers: []func() (tokencache.Token, error){
		func() (tokencache.Token, error) {
			return tokencache.Token{Value: "acquired-here", ExpiresOn: clock.Now().Add(time.Hour)}, nil
		},
	}}
	c := newCache(t, src, tokencache.Options{Clock: clock, Store: store})
	ctx := context.Background()

	tok, err := c.Token(ctx, "t", scope)
	if err != nil || tok.Value != "from-another-replica" || tok.Cached {
		t.Fatalf("first look-up: %q cached=%v err %v; want the store's token, not cached", tok.Value, tok.Cached, err)
	}
	if src.Calls() != 0 {
		t.Fatalf("the source was asked although the store held a token")
	}
	for range 10 {
		if tok, err := c.Token(ctx, "t", scope); err != nil || tok.Value != "from-another-replica" || !tok.Cached {
			t.Fatalf("later look-up: %q cached=%v err %v; want the store's token from the cache", tok.Value, tok.Cached, err)
		}
	}
	if n := store.Acquires(); n != 1 {
		t.Fatalf("store asked %d times, want once: a cached fresh token costs no Store call", n)
	}

	if !c.Invalidate("t", scope, "from-another-replica") {
		t.Fatal("Invalidate refused to drop the refused token")
	}
	if len(store.forgot) != 1 || store.forgot[0] != "from-another-replica" {
		t.Fatalf("the store forgot %q, want the refused token", store.forgot)
	}
	if tok, err := c.Token(ctx, "t", scope); err != nil || tok.Value != "acquired-here" {
		t.Fatalf("after Invalidate: %q %v, want a token acquired through the store's fetch", tok.Value, err)
	}
	if src.Calls() != 1 || store.Acquires() != 2 {
		t.Errorf("source calls %d, store acquires %d; want 1 and 2", src.Calls(), store.Acquires())
	}
}

// A failure another replica met is served from the store with its
// backoff, without asking Entra ID, then kept by the Cache so that it
// does not ask the store again until the backoff ends; the next attempt
// counts the fleet's failures, so the backoff keeps growing.
func TestAFailureFromTheStoreIsWaitedOut(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	key := tokencache.Key{TenantID: "t", Scope: scope}
	consent := &tokencache.AcquisitionError{TenantID: "t", Status: 400, OAuthError: "invalid_client", Codes: []int{7000229},
		Description: "AADSTS7000229: The client application is missing service principal in the tenant."}
	store := &sharedStore{now: clock.Now, tokens: map[tokencache.Key]tokencache.Token{}, failures: map[tokencache.Key]*tokencache.Failure{
		key: {Err: consent, Failures: 3, RetryAt: clock.Now().Add(4 * time.Minute)},
	}}
	src := &scriptedSource{answers: []func() (tokencache.Token, error){
		func() (tokencache.Token, error) { return tokencache.Token{}, consent },
	}}
	c := newCache(t, src, tokencache.Options{Clock: clock, Store: store, Rand: func() float64 { return 0.5 }})
	ctx := context.Background()

	for range 5 {
		_, err := c.Token(ctx, "t", scope)
		var be *tokencache.BackoffError
		if !errors.As(err, &be) || be.RetryIn != 4*time.Minute || !errors.Is(err, consent) {
			t.Fatalf("Token = %v; want the other replica's failure with 4m to wait", err)
		}
	}
	if src.Calls() != 0 || store.Acquires() != 1 {
		t.Fatalf("source calls %d, store acquires %d; want 0 and 1: the failure is waited out locally", src.Calls(), store.Acquires())
	}

	clock.Advance(4 * time.Minute)
	if _, err := c.Token(ctx, "t", scope); !errors.Is(err, consent) {
		t.Fatalf("after the backoff: %v, want the source's failure", err)
	}
	if src.Calls() != 1 || len(store.priors) != 1 || store.priors[0] != 3 {
		t.Fatalf("source calls %d, priors %v; want one call told of the fleet's 3 failures", src.Calls(), store.priors)
	}
	if f := store.failures[key]; f == nil || f.Failures != 4 || f.RetryAt.Sub(clock.Now()) != 8*time.Minute {
		t.Errorf("shared failure %+v; want the 4th, retried in 8m (1m doubled three times)", f)
	}
}
