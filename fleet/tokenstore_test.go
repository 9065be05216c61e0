package fleet

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xdrproxy/xdrproxy/fleet/seal"
	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

var tokenKey = tokencache.Key{TenantID: "0b1f5e2a-6c3d-4e5f-8a9b-0c1d2e3f4a5b", Scope: "https://api.security.microsoft.com/.default"}

// testClientID is the application every test store acts for, unless a
// test says otherwise.
const testClientID = "5d6e7f80-1a2b-4c3d-9e8f-a1b2c3d4e5f6"

// tokenReplica is one replica's TokenStore on the Redis at addr.
func tokenReplica(t testing.TB, addr string, keys *seal.Keys, clientID string) *TokenStore {
	t.Helper()
	c := dial(t, Options{URL: "redis://" + addr, Prefix: "xdrproxy:", Timeout: upTimeout})
	return NewTokenStore(c, TokenStoreOptions{ClientID: clientID, Keys: keys})
}

// fakeToken returns a JWT-shaped token, unique to name, valid for an hour.
func fakeToken(name string) tokencache.Token {
	return tokencache.NewToken("eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ0In0.c2ln-"+name+"-bmF0dXJl", time.Now().Add(time.Hour), time.Time{})
}

// fetcher is a fetch that counts its calls and hands out tok; when
// release is not nil, each call tells started and waits for release.
type fetcher struct {
	tok     tokencache.Token
	fail    func(prior int) error // when set, each call fails with its result
	calls   atomic.Int32
	prior   atomic.Int32 // the last call's prior
	started chan struct{}
	release chan struct{}
}

func (f *fetcher) fetch(ctx context.Context, prior int) (tokencache.Token, error) {
	f.calls.Add(1)
	f.prior.Store(int32(prior))
	if f.fail != nil {
		return tokencache.Token{}, f.fail(prior)
	}
	if f.release != nil {
		f.started <- struct{}{}
		select {
		case <-f.release:
		case <-ctx.Done():
			return tokencache.Token{}, ctx.Err()
		}
	}
	return f.tok, nil
}

// mustAcquire acquires tokenKey's token from s and checks it is want;
// it may run in any goroutine.
func mustAcquire(t *testing.T, s *TokenStore, f *fetcher, want tokencache.Token) {
	t.Helper()
	tok, err := s.Acquire(t.Context(), tokenKey, f.fetch)
	if err != nil {
		t.Errorf("Acquire: %v", err)
		return
	}
	if tok.Value != want.Value || !tok.ExpiresOn.Equal(want.ExpiresOn) {
		t.Errorf("Acquire returned %v, not the token wanted (%v)", tok, want)
	}
}

// assertNoCredential scans every key and value in Redis for each token's
// raw value and signature.
func assertNoCredential(t *testing.T, raw *redis.Client, tokens ...tokencache.Token) {
	t.Helper()
	ctx := t.Context()
	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	iter := raw.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		v, err := raw.Get(ctx, iter.Val()).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("GET %q: %v", iter.Val(), err)
		}
		all = append(all, iter.Val(), v)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if len(all) != 2*len(keys) || len(keys) == 0 {
		t.Fatalf("scanned %d keys and values, Redis holds %d keys", len(all), len(keys))
	}
	for _, tok := range tokens {
		sig := tok.Value[strings.LastIndex(tok.Value, ".")+1:]
		for _, s := range all {
			if strings.Contains(s, tok.Value) || strings.Contains(s, sig) {
				t.Errorf("Redis holds a token or its signature in plain text")
			}
		}
	}
}

func TestTokenIsAcquiredOncePerFleet(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	a, b := tokenReplica(t, addr, keys, testClientID), tokenReplica(t, addr, keys, testClientID)
	f := &fetcher{tok: fakeToken("fleet"), started: make(chan struct{}, 20), release: make(chan struct{})}
	var wg sync.WaitGroup
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() { mustAcquire(t, s, f, f.tok) })
	}
	<-f.started // one replica holds the lock; the others wait on it
	close(f.release)
	wg.Wait()
	if n := f.calls.Load(); n != 1 {
		t.Errorf("20 concurrent acquisitions on two replicas fetched %d times, want 1", n)
	}

	later := tokenReplica(t, addr, keys, testClientID)
	none := &fetcher{}
	mustAcquire(t, later, none, f.tok)
	if n := none.calls.Load(); n != 0 {
		t.Errorf("a replica started later fetched %d times, want 0", n)
	}
	if n := a.Fallbacks() + b.Fallbacks() + later.Fallbacks(); n != 0 {
		t.Errorf("%d fallbacks with Redis up, want 0", n)
	}
	assertNoCredential(t, rawRedis(t, addr), f.tok)
}

func TestTamperedTokenIsReplaced(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	raw := rawRedis(t, addr)
	keys := mustParse(t, keyFile(newKey(t)))
	a, b := tokenReplica(t, addr, keys, testClientID), tokenReplica(t, addr, keys, testClientID)
	first := &fetcher{tok: fakeToken("first")}
	mustAcquire(t, a, first, first.tok)

	key := a.tokenKey(tokenKey)
	sealed, err := raw.Get(t.Context(), key).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	sealed[len(sealed)/2] ^= 1
	if err := raw.Set(t.Context(), key, sealed, redis.KeepTTL).Err(); err != nil {
		t.Fatal(err)
	}
	second := &fetcher{tok: fakeToken("second")}
	mustAcquire(t, b, second, second.tok)
	if n := second.calls.Load(); n != 1 {
		t.Errorf("with a tampered value in Redis, fetched %d times, want 1", n)
	}
	none := &fetcher{}
	mustAcquire(t, a, none, second.tok) // the tampered value was replaced
	if n := none.calls.Load(); n != 0 {
		t.Errorf("after the replacement, fetched %d times, want 0", n)
	}
	assertNoCredential(t, raw, first.tok, second.tok)
}

func TestTokenSealedWithAnotherKeyIsRefetched(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	a := tokenReplica(t, addr, mustParse(t, keyFile(newKey(t))), testClientID)
	other := tokenReplica(t, addr, mustParse(t, keyFile(newKey(t))), testClientID)
	first, second := &fetcher{tok: fakeToken("first")}, &fetcher{tok: fakeToken("second")}
	mustAcquire(t, a, first, first.tok)
	mustAcquire(t, other, second, second.tok)
	if n := second.calls.Load(); n != 1 {
		t.Errorf("a replica with another key file fetched %d times, want 1", n)
	}
	assertNoCredential(t, rawRedis(t, addr), first.tok, second.tok)
}

func TestApplicationsSharingRedisDoNotMix(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	a := tokenReplica(t, addr, keys, testClientID)
	other := tokenReplica(t, addr, keys, "another-application")
	first, second := &fetcher{tok: fakeToken("first")}, &fetcher{tok: fakeToken("second")}
	mustAcquire(t, a, first, first.tok)
	mustAcquire(t, other, second, second.tok)
	if n := second.calls.Load(); n != 1 {
		t.Errorf("another application fetched %d times, want 1", n)
	}
	none := &fetcher{}
	mustAcquire(t, a, none, first.tok)
	assertNoCredential(t, rawRedis(t, addr), first.tok, second.tok)
}

func TestForgetDropsOnlyThatToken(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	a, b := tokenReplica(t, addr, keys, testClientID), tokenReplica(t, addr, keys, testClientID)
	first := &fetcher{tok: fakeToken("first")}
	mustAcquire(t, a, first, first.tok)

	b.Forget(tokenKey, fakeToken("older").Value)
	none := &fetcher{}
	mustAcquire(t, b, none, first.tok)
	if n := none.calls.Load(); n != 0 {
		t.Errorf("Forget of another token dropped the one in Redis: fetched %d times", n)
	}
	b.Forget(tokenKey, first.tok.Value)
	second := &fetcher{tok: fakeToken("second")}
	mustAcquire(t, a, second, second.tok)
	if n := second.calls.Load(); n != 1 {
		t.Errorf("after Forget, fetched %d times, want 1", n)
	}
}

func TestDeadLockHolderIsOutlived(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	raw := rawRedis(t, addr)
	a := tokenReplica(t, addr, mustParse(t, keyFile(newKey(t))), testClientID)
	// A replica that took the lock and died: its lease runs out.
	if err := raw.Set(t.Context(), a.lockKey(tokenKey), "dead-replica", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	f := &fetcher{tok: fakeToken("after-lease")}
	start := time.Now()
	mustAcquire(t, a, f, f.tok)
	if waited := time.Since(start); waited < 200*time.Millisecond || f.calls.Load() != 1 {
		t.Errorf("fetched %d times after %v, want once after the dead holder's lease", f.calls.Load(), waited)
	}
	if n := a.Fallbacks(); n != 0 {
		t.Errorf("%d fallbacks, want 0", n)
	}
}

func TestTokenFallsBackWhileRedisIsDown(t *testing.T) {
	addr, stop := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	a := tokenReplica(t, addr, keys, testClientID)
	stop()
	f := &fetcher{tok: fakeToken("local")}
	for range 3 {
		mustAcquire(t, a, f, f.tok)
	}
	if n := f.calls.Load(); n != 3 {
		t.Errorf("with Redis down, fetched %d times for 3 acquisitions, want 3", n)
	}
	if n := a.Fallbacks(); n != 3 || a.Up() {
		t.Errorf("fallbacks %d, up %v; want 3, false", n, a.Up())
	}
	a.Forget(tokenKey, f.tok.Value)
	if n := a.Fallbacks(); n != 4 {
		t.Errorf("fallbacks after Forget %d, want 4", n)
	}
}

func TestTokenFallsBackWhenRedisNeverAnswers(t *testing.T) {
	c := dial(t, Options{URL: "redis://" + testutil.SilentRedis(t), Prefix: "xdrproxy:"}) // DefaultTimeout
	a := NewTokenStore(c, TokenStoreOptions{ClientID: testClientID, Keys: mustParse(t, keyFile(newKey(t)))})
	f := &fetcher{tok: fakeToken("local")}
	start := time.Now()
	mustAcquire(t, a, f, f.tok)
	if waited := time.Since(start); waited > 2*time.Second || a.Fallbacks() != 1 {
		t.Errorf("acquired after %v with %d fallbacks; want within the timeout, 1", waited, a.Fallbacks())
	}
}

func TestFleetRefreshTime(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		expires   time.Time
		refreshOn time.Time
		want      time.Time
	}{
		{"one hour", t0.Add(time.Hour), time.Time{}, t0.Add(60*time.Minute - 16*time.Minute - 30*time.Second)},
		{"ten minutes", t0.Add(10 * time.Minute), time.Time{}, t0.Add(10*time.Minute - 5*time.Minute - 30*time.Second)},
		{"hint earlier, moved as early as the jitter may", t0.Add(time.Hour), t0.Add(30 * time.Minute), t0.Add(27 * time.Minute)},
		{"hint later", t0.Add(time.Hour), t0.Add(50 * time.Minute), t0.Add(60*time.Minute - 16*time.Minute - 30*time.Second)},
		{"expired", t0.Add(-time.Minute), time.Time{}, t0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FleetRefreshTime(t0, tokencache.Token{ExpiresOn: tc.expires, RefreshOn: tc.refreshOn})
			if !got.Equal(tc.want) {
				t.Errorf("FleetRefreshTime = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDueTokenIsNotHandedOut(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	c := dial(t, Options{URL: "redis://" + addr, Prefix: "xdrproxy:", Timeout: upTimeout})
	dueAt := func(obtained time.Time, _ tokencache.Token) time.Time { return obtained } // due at once
	a := NewTokenStore(c, TokenStoreOptions{ClientID: testClientID, Keys: keys, RefreshAt: dueAt})
	first, second := &fetcher{tok: fakeToken("first")}, &fetcher{tok: fakeToken("second")}
	mustAcquire(t, a, first, first.tok)
	mustAcquire(t, a, second, second.tok)
	if n := second.calls.Load(); n != 1 {
		t.Errorf("a token due for refresh was handed out: fetched %d times, want 1", n)
	}
}

// A tenant's failure is written once and waited out by every replica
// until its backoff ends; the next attempt, by any replica, counts the
// fleet's failures.
func TestFailureIsSharedAcrossReplicas(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	clock := testutil.NewClock(time.Now())
	replica := func() *TokenStore { return clockedReplica(t, addr, keys, clock.Now) }
	a, b := replica(), replica()
	consent := &tokencache.AcquisitionError{TenantID: tokenKey.TenantID, Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016},
		Description: "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'."}
	failing := &fetcher{fail: func(prior int) error {
		return &tokencache.Failure{Err: consent, Failures: prior + 1, RetryAt: clock.Now().Add(time.Minute << prior)}
	}}
	if _, err := a.Acquire(t.Context(), tokenKey, failing.fetch); !errors.Is(err, consent) {
		t.Fatalf("first acquisition: %v", err)
	}
	_, err := b.Acquire(t.Context(), tokenKey, failing.fetch)
	var f *tokencache.Failure
	var ae *tokencache.AcquisitionError
	if !errors.As(err, &f) || f.Failures != 1 || !f.RetryAt.Equal(clock.Now().Add(time.Minute)) || !errors.As(err, &ae) || ae.Code() != 700016 || ae.OAuthError != "unauthorized_client" {
		t.Fatalf("the other replica got %#v; want the shared failure, 1 so far, retried in 1m", err)
	}
	if n := failing.calls.Load(); n != 1 {
		t.Fatalf("Entra ID asked %d times by two replicas within the backoff, want 1", n)
	}
	clock.Advance(time.Minute)
	if _, err := b.Acquire(t.Context(), tokenKey, failing.fetch); !errors.Is(err, consent) {
		t.Fatalf("after the backoff: %v", err)
	}
	if n, p := failing.calls.Load(), failing.prior.Load(); n != 2 || p != 1 {
		t.Fatalf("after the backoff: %d calls, the last told of %d failures; want 2 and 1", n, p)
	}
	if _, err := a.Acquire(t.Context(), tokenKey, failing.fetch); !errors.As(err, &f) || f.Failures != 2 || !f.RetryAt.Equal(clock.Now().Add(2*time.Minute)) {
		t.Fatalf("the first replica then got %v; want the second failure, retried in 2m", err)
	}
	raw := rawRedis(t, addr)
	if v := raw.Get(t.Context(), a.failureKey(tokenKey)).Val(); v == "" || strings.Contains(v, "AADSTS") {
		t.Error("the failure is missing from Redis or not sealed")
	}

	// A token ends the fleet's failures.
	clock.Advance(2 * time.Minute)
	ok := &fetcher{tok: fakeToken("at-last")}
	mustAcquire(t, a, ok, ok.tok)
	if ok.prior.Load() != 2 {
		t.Errorf("the successful attempt was told of %d failures, want 2", ok.prior.Load())
	}
	if n := raw.Exists(t.Context(), a.failureKey(tokenKey)).Val(); n != 0 {
		t.Error("the failure outlives the token that ended it")
	}
}

// A shared failure stays in Redis for failureMemory after its backoff
// ends, so that the attempt after the wait, by any replica, counts the
// fleet's earlier failures; one that Redis dropped with the wait would
// start the count afresh each time, and the backoff would never grow.
func TestSharedFailureOutlivesItsBackoff(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	clock := testutil.NewClock(time.Now())
	a := clockedReplica(t, addr, keys, clock.Now)
	consent := &tokencache.AcquisitionError{TenantID: tokenKey.TenantID, Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016},
		Description: "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'."}
	const wait = 2 * time.Minute
	failing := &fetcher{fail: func(prior int) error {
		return &tokencache.Failure{Err: consent, Failures: prior + 1, RetryAt: clock.Now().Add(wait)}
	}}
	if _, err := a.Acquire(t.Context(), tokenKey, failing.fetch); !errors.Is(err, consent) {
		t.Fatalf("Acquire: %v", err)
	}
	ttl, err := rawRedis(t, addr).PTTL(t.Context(), a.failureKey(tokenKey)).Result()
	if err != nil {
		t.Fatal(err)
	}
	// Redis's clock runs while the test does: allow it a minute.
	if want := wait + failureMemory; ttl > want || ttl < want-time.Minute {
		t.Errorf("the shared failure expires in %v, want %v: its backoff and failureMemory after it", ttl, want)
	}
}

// A replica that cannot reach Entra ID keeps that to itself: the others
// try on their own.
func TestUnreachableIsNotShared(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	a, b := tokenReplica(t, addr, keys, testClientID), tokenReplica(t, addr, keys, testClientID)
	down := &tokencache.AcquisitionError{TenantID: tokenKey.TenantID, Unreachable: true, Description: "dial tcp: connection refused"}
	failing := &fetcher{fail: func(prior int) error {
		return &tokencache.Failure{Err: down, Failures: prior + 1, RetryAt: time.Now().Add(time.Minute)}
	}}
	_, _ = a.Acquire(t.Context(), tokenKey, failing.fetch)
	ok := &fetcher{tok: fakeToken("b")}
	mustAcquire(t, b, ok, ok.tok)
	if ok.calls.Load() != 1 {
		t.Error("an unreachable Entra ID on one replica kept another from trying")
	}
}

// afterLock runs f after each SET NX (a lock) the client sends, on the
// caller's goroutine, with whether it took the lock.
type afterLock struct{ f func(locked bool) }

func (h *afterLock) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *afterLock) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *afterLock) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		args := cmd.Args()
		if last, _ := args[len(args)-1].(string); cmd.Name() == "set" && strings.EqualFold(last, "nx") {
			locked, _ := cmd.(*redis.BoolCmd)
			h.f(locked != nil && locked.Val())
		}
		return err
	}
}

// A replica waits on another's lock for at most two leases, then
// acquires the token itself, counting a fallback: a holder that never
// finishes and never lets its lock lapse does not keep the tenant from
// being served.
func TestWaitOnALockIsBoundedByTwoLeases(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	clock := testutil.NewClock(time.Now())
	const lease = 10 * time.Second
	a := NewTokenStore(dial(t, Options{URL: "redis://" + addr, Prefix: "xdrproxy:", Timeout: upTimeout}),
		TokenStoreOptions{ClientID: testClientID, Keys: keys, Lease: lease, Now: clock.Now})
	t.Cleanup(a.Close)
	// Another replica holds the lock, and Redis keeps it past the test.
	if err := rawRedis(t, addr).Set(t.Context(), a.lockKey(tokenKey), "stuck-replica", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	// Each refused lock moves the clock: the first to just short of two
	// leases (a wait on), the second to two leases (the end of the wait).
	var attempts atomic.Int32
	a.c.rdb.AddHook(&afterLock{f: func(locked bool) {
		if locked {
			t.Error("the lock another replica holds was taken")
		}
		switch attempts.Add(1) {
		case 1:
			clock.Advance(2*lease - time.Nanosecond)
		case 2:
			clock.Advance(time.Nanosecond)
		}
	}})
	f := &fetcher{tok: fakeToken("after-two-leases")}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // bounds a wait that never ends
	defer cancel()
	tok, err := a.Acquire(ctx, tokenKey, f.fetch)
	if err != nil || tok.Value != f.tok.Value {
		t.Fatalf("Acquire = %v, %v; want the token fetched here after two leases", tok, err)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("asked for the lock %d times, want 2: once before two leases, once at two leases", n)
	}
	if n, p := f.calls.Load(), f.prior.Load(); n != 1 || p != tokencache.NoFleetState {
		t.Errorf("fetched %d times, told of %d failures; want once, knowing nothing of the fleet", n, p)
	}
	if n := a.Fallbacks(); n != 1 {
		t.Errorf("%d fallbacks, want 1", n)
	}
}

// Close ends an acquisition that waits on another replica's lock (or
// refuses it, if Close came first); later acquisitions fail at once.
func TestCloseEndsWaits(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	a, b := tokenReplica(t, addr, keys, testClientID), tokenReplica(t, addr, keys, testClientID)
	holder := &fetcher{tok: fakeToken("held"), started: make(chan struct{}, 1), release: make(chan struct{})}
	held := make(chan error, 1)
	go func() { _, err := a.Acquire(context.Background(), tokenKey, holder.fetch); held <- err }()
	<-holder.started // a holds the lock
	waiting := make(chan error, 1)
	none := &fetcher{}
	go func() { _, err := b.Acquire(context.Background(), tokenKey, none.fetch); waiting <- err }()
	b.Close()
	select {
	case err := <-waiting:
		if err == nil {
			t.Error("the waiting acquisition succeeded after Close")
		}
	case <-time.After(10 * time.Second): // bounds a hung test; the lease is 30 s
		t.Fatal("Close did not end the waiting acquisition")
	}
	if _, err := b.Acquire(context.Background(), tokenKey, none.fetch); !errors.Is(err, errStoreClosed) {
		t.Errorf("Acquire after Close: %v, want errStoreClosed", err)
	}
	if none.calls.Load() != 0 {
		t.Error("the closed replica fetched")
	}
	close(holder.release)
	if err := <-held; err != nil {
		t.Errorf("the lock holder: %v", err)
	}
	a.Close()
}

// A token is refreshed once per fleet: the first replica to find it due
// replaces it, and the others, finding theirs due later, take the
// replacement instead of asking Entra ID.
func TestRefreshOncePerFleet(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	clock := testutil.NewClock(time.Now())
	replica := func() *TokenStore { return clockedReplica(t, addr, keys, clock.Now) }
	a, b, c := replica(), replica(), replica()
	hourFrom := func(name string) tokencache.Token {
		return tokencache.NewToken("eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ0In0.c2ln-"+name, clock.Now().Add(time.Hour), time.Time{})
	}
	first := &fetcher{tok: hourFrom("first")}
	mustAcquire(t, a, first, first.tok)
	mustAcquire(t, b, &fetcher{}, first.tok)

	// 44 minutes on, every replica's token is due (FleetRefreshTime of a
	// one-hour token is 43.5 minutes); the first to ask replaces it.
	clock.Advance(44 * time.Minute)
	second := &fetcher{tok: hourFrom("second")}
	mustAcquire(t, b, second, second.tok)
	none := &fetcher{}
	mustAcquire(t, a, none, second.tok)
	mustAcquire(t, c, none, second.tok)
	if n := first.calls.Load() + second.calls.Load() + none.calls.Load(); n != 2 {
		t.Errorf("Entra ID asked %d times for one token and one refresh across three replicas, want 2", n)
	}
}

// clockedReplica is tokenReplica on the clock now, for tests that move
// time past a backoff or a refresh.
func clockedReplica(t testing.TB, addr string, keys *seal.Keys, now func() time.Time) *TokenStore {
	t.Helper()
	c := dial(t, Options{URL: "redis://" + addr, Prefix: "xdrproxy:", Timeout: upTimeout})
	return NewTokenStore(c, TokenStoreOptions{ClientID: testClientID, Keys: keys, Now: now})
}
