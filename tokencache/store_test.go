package tokencache_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// sharedStore is a Store as replicas would share it: it holds one token
// per key, hands it out without calling fetch, and counts its calls.
type sharedStore struct {
	mu       sync.Mutex
	tokens   map[tokencache.Key]tokencache.Token
	acquires int
	forgot   []string
}

func (s *sharedStore) Acquire(ctx context.Context, k tokencache.Key, fetch func(context.Context) (tokencache.Token, error)) (tokencache.Token, error) {
	s.mu.Lock()
	s.acquires++
	tok, ok := s.tokens[k]
	s.mu.Unlock()
	if ok {
		return tok, nil
	}
	tok, err := fetch(ctx)
	if err == nil {
		s.mu.Lock()
		s.tokens[k] = tok
		s.mu.Unlock()
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

func (s *sharedStore) Acquires() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acquires
}

func TestTheStoreInOptionsIsTheOneUsed(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	key := tokencache.Key{TenantID: "t", Scope: scope}
	store := &sharedStore{tokens: map[tokencache.Key]tokencache.Token{
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
