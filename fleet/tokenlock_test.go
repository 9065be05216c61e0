package fleet

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// beforeLock runs f once, just before the first SET NX (a lock) the
// client sends, on the caller's goroutine.
type beforeLock struct {
	once sync.Once
	f    func()
}

func (h *beforeLock) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *beforeLock) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *beforeLock) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		if last, _ := args[len(args)-1].(string); cmd.Name() == "set" && strings.EqualFold(last, "nx") {
			h.once.Do(h.f)
		}
		return next(ctx, cmd)
	}
}

// A replica that finds no token, then gets the lock only because the
// replica that held it has just shared the token and let go, takes that
// token instead of asking Entra ID again.
func TestLockTakenAfterTheTokenWasSharedFetchesNothing(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	a := tokenReplica(t, addr, keys, testClientID)
	// b's calls wait for a inside the hook: give them time to spare.
	b := NewTokenStore(dial(t, Options{URL: "redis://" + addr, Prefix: "xdrproxy:", Timeout: 10 * time.Second}),
		TokenStoreOptions{ClientID: testClientID, Keys: keys})

	fa := &fetcher{tok: fakeToken("first"), started: make(chan struct{}, 1), release: make(chan struct{})}
	aDone := make(chan struct{})
	go func() {
		defer close(aDone)
		mustAcquire(t, a, fa, fa.tok)
	}()
	<-fa.started // a holds the lock and is fetching; Redis has no token yet

	// b reads (no token), then, just before b asks for the lock, a
	// finishes: it writes the token and releases the lock.
	b.c.rdb.AddHook(&beforeLock{f: func() {
		close(fa.release)
		<-aDone
	}})
	fb := &fetcher{tok: fakeToken("second")}
	mustAcquire(t, b, fb, fa.tok)
	if n := fb.calls.Load(); n != 0 {
		t.Errorf("the replica that got the lock after the token was shared fetched %d times, want 0", n)
	}
	if n := a.Fallbacks() + b.Fallbacks(); n != 0 {
		t.Errorf("%d fallbacks with Redis up, want 0", n)
	}
}

// failAfterLock lets the first SET NX reach Redis, then reports it
// failed, as a call answered after its timeout does.
type failAfterLock struct{ once sync.Once }

func (h *failAfterLock) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *failAfterLock) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *failAfterLock) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		args := cmd.Args()
		if last, _ := args[len(args)-1].(string); cmd.Name() == "set" && strings.EqualFold(last, "nx") {
			failed := false
			h.once.Do(func() { failed = true })
			if failed {
				cmd.SetErr(context.DeadlineExceeded)
				return context.DeadlineExceeded
			}
		}
		return err
	}
}

// A lock Redis took although the call that asked for it failed is
// released at once, even though Redis is then held to be down: else
// every replica without a token would wait out the whole lease.
func TestLockReleasedAfterAFailedLockCall(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := mustParse(t, keyFile(newKey(t)))
	a := tokenReplica(t, addr, keys, testClientID)
	a.c.rdb.AddHook(&failAfterLock{})
	f := &fetcher{tok: fakeToken("local")}
	mustAcquire(t, a, f, f.tok) // fetched locally: the lock call "failed"
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("fetched %d times, want 1", n)
	}
	check := redis.NewClient(&redis.Options{Addr: addr})
	defer check.Close()
	n, err := check.Exists(context.Background(), a.lockKey(tokenKey)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("the lock taken by a call reported failed is still held")
	}
}
