package tokencache_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

// consentMissing is Entra ID's answer before a customer's admin consents.
func consentMissing() (tokencache.Token, error) {
	return tokencache.Token{}, &tokencache.AcquisitionError{TenantID: "t", Status: 400, OAuthError: "unauthorized_client", Codes: []int{700016},
		Description: "AADSTS700016: Application with identifier 'x' was not found in the directory 't'."}
}

// After the admin consents, Retry asks Entra ID at once, here and for the
// whole fleet, instead of waiting out the remembered failure's backoff.
func TestRetryAsksAtOnce(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	key := tokencache.Key{TenantID: "t", Scope: scope}
	store := &sharedStore{now: clock.Now, tokens: map[tokencache.Key]tokencache.Token{}, failures: map[tokencache.Key]*tokencache.Failure{}}
	src := &scriptedSource{answers: []func() (tokencache.Token, error){
		consentMissing,
		func() (tokencache.Token, error) {
			return tokencache.Token{Value: "after-consent", ExpiresOn: clock.Now().Add(time.Hour)}, nil
		},
	}}
	c := newCache(t, src, tokencache.Options{Clock: clock, Store: store})
	ctx := context.Background()
	if _, err := c.Token(ctx, "t", scope); err == nil {
		t.Fatal("the first acquisition succeeded")
	}
	var be *tokencache.BackoffError
	if _, err := c.Token(ctx, "t", scope); !errors.As(err, &be) || src.Calls() != 1 {
		t.Fatalf("second look-up: %v after %d calls; want the remembered failure", err, src.Calls())
	}
	if store.failures[key] == nil {
		t.Fatal("the failure was not handed to the store")
	}

	if err := c.Retry(ctx, "t", []string{scope}); err != nil {
		t.Fatal(err)
	}
	if src.Calls() != 2 {
		t.Fatalf("Retry made %d calls in all, want 2", src.Calls())
	}
	if store.failures[key] != nil {
		t.Error("the store still holds the failure: other replicas would keep waiting")
	}
	st, _ := c.Status(key)
	if !st.HasToken || st.LastError != nil {
		t.Errorf("after Retry: %+v, want a token and no error", st)
	}
	if err := c.Retry(ctx, "other", []string{scope}); err != nil {
		t.Errorf("Retry of a tenant never seen: %v", err)
	}
	c.SetTenants([]string{"t"})
	if err := c.Retry(ctx, "gone", []string{scope}); !errors.Is(err, tokencache.ErrTenantNotServed) {
		t.Errorf("Retry of a tenant not served: %v", err)
	}
}

// RetryFailed (SIGHUP) tries again every key that failed, and only those.
func TestRetryFailedTriesOnlyFailedKeys(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	ok := func() (tokencache.Token, error) {
		return tokencache.Token{Value: "ok", ExpiresOn: clock.Now().Add(time.Hour)}, nil
	}
	src := &scriptedSource{answers: []func() (tokencache.Token, error){ok, consentMissing, ok}}
	c := newCache(t, src, tokencache.Options{Clock: clock, Concurrency: 1})
	ctx := context.Background()
	if _, err := c.Token(ctx, "good", scope); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Token(ctx, "t", scope); err == nil {
		t.Fatal("t did not fail")
	}
	c.RetryFailed(ctx)
	if src.Calls() != 3 {
		t.Fatalf("%d calls, want 3: one retry, for the failed key only", src.Calls())
	}
	if st, _ := c.Status(tokencache.Key{TenantID: "t", Scope: scope}); !st.HasToken {
		t.Error("the failed key has no token after RetryFailed")
	}
}

// A retry that joins an acquisition begun before the admin consented
// (the background refresher's, say) does not answer with that
// acquisition's failure: it asks once more.
func TestRetryDoesNotTrustAnAcquisitionBegunBeforeIt(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	started, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	src := sourceFunc(func() (tokencache.Token, error) {
		if calls.Add(1) == 1 {
			close(started)
			<-release
			return consentMissing() // asked before the consent
		}
		return tokencache.Token{Value: "after-consent", ExpiresOn: clock.Now().Add(time.Hour)}, nil
	})
	c := newCache(t, src, tokencache.Options{Clock: clock})
	ctx := context.Background()
	early := make(chan error, 1)
	go func() { _, err := c.Token(ctx, "t", scope); early <- err }()
	<-started
	retried := make(chan error, 1)
	go func() { retried <- c.Retry(ctx, "t", []string{scope}) }()
	// The early acquisition fails; whether the retry joined it first or
	// starts its own after, it must end with the token.
	close(release)
	if err := <-retried; err != nil {
		t.Fatal(err)
	}
	<-early
	if st, _ := c.Status(tokencache.Key{TenantID: "t", Scope: scope}); !st.HasToken {
		t.Errorf("after the retry: %+v, want the token Entra ID gives now", st)
	}
}

// A retry on another replica (its POST /tenants/{t}/retry) ends the
// fleet's count of failures: this replica, finding the failure forgotten
// at its next recheck, asks Entra ID again, and if the answer is still a
// refusal, backs off as after a first failure, not for longer.
func TestARetryElsewhereRestartsTheBackoff(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	keys := fleetKeys(t)
	clock := testutil.NewClock(time.Now())
	key := tokencache.Key{TenantID: "t", Scope: scope}
	src := &scriptedSource{answers: answering(4, consentMissing)}
	c := newCache(t, src, tokencache.Options{Clock: clock, Store: fleetReplica(t, addr, keys, clock)})
	other := fleetReplica(t, addr, keys, clock)
	ctx := context.Background()
	for _, backoff := range []time.Duration{time.Minute, 2 * time.Minute, 0} {
		if _, err := c.Token(ctx, "t", scope); err == nil {
			t.Fatal("an acquisition succeeded")
		}
		clock.Advance(backoff)
	}
	var be *tokencache.BackoffError
	if _, err := c.Token(ctx, "t", scope); !errors.As(err, &be) || be.RetryIn != 4*time.Minute {
		t.Fatalf("after three failures: %v; want a 4m backoff", err)
	}

	other.ForgetFailure(key)
	clock.Advance(5 * time.Second) // the recheck of a shared failure
	if _, err := c.Token(ctx, "t", scope); err == nil || errors.As(err, &be) {
		t.Fatalf("at the recheck after the retry: %v, want Entra ID's answer", err)
	}
	if n := src.Calls(); n != 4 {
		t.Fatalf("Entra ID asked %d times, want 4: once more after the retry", n)
	}
	if _, err := c.Token(ctx, "t", scope); !errors.As(err, &be) {
		t.Errorf("after the failure that followed the retry: %v, want it waited out", err)
	} else if be.RetryIn != time.Minute {
		t.Errorf("after the failure that followed the retry: backoff %v, want the 1m of a first failure", be.RetryIn)
	}
}
