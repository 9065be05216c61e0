package tokencache

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/singleflight"
)

// Store decides who acquires a token the Cache lacks, and may keep tokens
// beyond this process. The Cache asks it only when it holds no usable
// token for a key or its token is due for refresh; a cached fresh token
// never costs a Store call.
//
// The in-process Store (Options.Store nil) keeps no tokens of its own and
// makes concurrent acquisitions of one key share one fetch. A Store shared
// by several replicas can hand out a token another replica acquired, let
// one replica acquire while the others wait, and forget a refused token
// everywhere.
type Store interface {
	// Acquire returns a token for k: one another acquirer already holds
	// (fresher than the caller's, which is missing or due for refresh),
	// else the result of fetch. Concurrent callers for one key share one
	// fetch, which runs under a context no single caller owns; a caller
	// whose ctx is done gets ctx.Err() at once, and the fetch goes on for
	// the others.
	//
	// A failed fetch returns a *Failure, which a shared Store may hand to
	// the other replicas' Caches so that they wait out its backoff instead
	// of asking Entra ID themselves; a Store that hands out a Failure the
	// caller's Cache did not make must pass that Failure (not a copy of
	// its error alone).
	Acquire(ctx context.Context, k Key, fetch Fetch) (Token, error)
	// Forget drops token for k (the upstream refused it) so that no one
	// is handed it again. A newer token for k is left alone.
	Forget(k Key, token string)
	// ForgetFailure drops k's remembered failure, so that the next
	// Acquire fetches at once: an operator fixed its cause.
	ForgetFailure(k Key)
}

// Fetch acquires a key's token from the Cache's Source and records the
// outcome in the Cache; a failure is returned as a *Failure. prior is what
// the Store knows of the key's failures: NoFleetState when it knows
// nothing (the in-process store, or a shared one that could not be read),
// else how many consecutive failures the fleet remembers (0: none), so
// that backoff grows across the fleet as in one process, and so that a
// failure the fleet forgot (a retry on another replica) is tried again at
// once here too.
type Fetch func(ctx context.Context, prior int) (Token, error)

// NoFleetState is the prior of a Fetch whose Store knows nothing of the
// key's failures beyond the Cache.
const NoFleetState = -1

// sharedRecheck is how often a Cache whose Store is shared asks it again
// about a failure it is waiting out, so that a retry on any replica
// reaches every replica within it.
const sharedRecheck = 5 * time.Second

// Shareable reports whether a failure says something about the tenant
// that every replica would meet, so that a shared Store shares it: an
// answer from Entra ID about the tenant. A replica that could not reach
// Entra ID, whose fetch was cancelled (it is stopping) or failed before
// asking (an unreadable federated token file), or whose credential was
// refused (during a rotation, other replicas may hold the new one), says
// more about itself, and keeps that to itself.
func Shareable(err error) bool {
	var ae *AcquisitionError
	return errors.As(err, &ae) && !ae.Unreachable && (ae.Status != 0 || ae.OAuthError != "") &&
		ae.Class() != ClassCredential && !errors.Is(err, context.Canceled)
}

// Failure is a failed acquisition with its backoff, as a Fetch returns it
// and as a shared Store hands it to other replicas.
type Failure struct {
	// Err is the failure, an *AcquisitionError when Entra ID answered.
	Err error
	// Failures counts the key's consecutive failures, this one included.
	Failures int
	// RetryAt is when the key may be tried again.
	RetryAt time.Time
	// Token, when a shared Store hands out another replica's failure, is
	// the fleet's last token if it has one, which may still be usable: a
	// replica that joins while a refresh is failing serves it as the
	// others do. Zero otherwise.
	Token Token
}

// Error returns the failure's message.
func (f *Failure) Error() string { return f.Err.Error() }

// Unwrap returns the failure.
func (f *Failure) Unwrap() error { return f.Err }

// localStore is the in-process Store: the Cache's own map is the only
// place tokens live, and one fetch per key runs at a time.
type localStore struct {
	flight singleflight.Group
}

// Acquire joins or starts k's fetch and waits for it or for ctx.
func (s *localStore) Acquire(ctx context.Context, k Key, fetch Fetch) (Token, error) {
	ch := s.flight.DoChan(k.TenantID+" "+k.Scope, func() (any, error) {
		return fetch(context.Background(), NoFleetState) // the Cache bounds it and cancels it on Close
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return Token{}, r.Err
		}
		return r.Val.(Token), nil
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

// Forget does nothing: the Cache has already dropped the token from its
// map, and no other copy exists.
func (*localStore) Forget(Key, string) {}

// ForgetFailure does nothing: failures live only in the Cache's map.
func (*localStore) ForgetFailure(Key) {}

var _ Store = (*localStore)(nil)
