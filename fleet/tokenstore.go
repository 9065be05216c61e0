package fleet

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/xdrproxy/xdrproxy/fleet/seal"
	"github.com/xdrproxy/xdrproxy/tokencache"
)

const (
	// DefaultLease is how long a replica may hold a token's lock when
	// TokenStoreOptions.Lease is zero: longer than the token cache lets
	// an acquisition take (30 s), so that a slow but successful one still
	// holds its lock when it shares the token, and short enough that the
	// fleet does not wait long on a replica that died holding it.
	DefaultLease = 35 * time.Second
	// pollMin and pollMax bound the jittered interval at which a replica
	// waiting for another's acquisition looks for its token.
	pollMin, pollMax = 50 * time.Millisecond, 150 * time.Millisecond
)

// releaseScript deletes KEYS[1] only while it holds ARGV[1]: a lock
// only by its owner, a token only if no one replaced it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// TokenStoreOptions configures NewTokenStore.
type TokenStoreOptions struct {
	// ClientID is the application's client ID: it is bound to every
	// sealed token and its hash is part of every key, so two applications
	// sharing a Redis never hand each other tokens.
	ClientID string
	// Keys seal the tokens put in Redis and open those read from it.
	Keys *seal.Keys
	// Lease is how long a replica holds a token's lock while it acquires
	// the token. Zero means DefaultLease.
	Lease time.Duration
	// RefreshAt returns when a token obtained at obtained is due for
	// replacement fleet-wide; a token in Redis is handed out only before
	// then. Nil means FleetRefreshTime.
	RefreshAt func(obtained time.Time, tok tokencache.Token) time.Time
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// TokenStore is a tokencache.Store shared by every replica that uses the
// same Redis, key prefix and client ID: a replica hands out a token
// another one acquired, one replica acquires while the others wait, and a
// refused token is forgotten by all. Tokens are kept in Redis only sealed
// with Keys, bound to the client ID, tenant and scope; a value that does
// not open is ignored and replaced.
//
// Redis never fails an acquisition: on any Redis error or timeout the
// replica acquires the token itself, as in one process, and counts a
// fallback. Concurrent callers in one process share one acquisition.
type TokenStore struct {
	c         *Client
	keys      *seal.Keys
	clientID  string
	idHash    string // clientIDHash(TokenStoreOptions.ClientID)
	lease     time.Duration
	refreshAt func(time.Time, tokencache.Token) time.Time
	now       func() time.Time
	flight    singleflight.Group
	fallbacks atomic.Uint64

	// done ends acquisitions waiting on another replica at Close, and
	// running counts them so that Close returns only once they have.
	done      context.Context
	closeDone context.CancelFunc
	mu        sync.Mutex // orders running.Add with Close
	closed    bool
	running   sync.WaitGroup
}

// NewTokenStore returns a TokenStore that keeps tokens in c's Redis.
func NewTokenStore(c *Client, opts TokenStoreOptions) *TokenStore {
	s := &TokenStore{c: c, keys: opts.Keys, clientID: opts.ClientID, idHash: clientIDHash(opts.ClientID),
		lease: opts.Lease, refreshAt: opts.RefreshAt, now: opts.Now}
	if s.lease <= 0 {
		s.lease = DefaultLease
	}
	if s.refreshAt == nil {
		s.refreshAt = FleetRefreshTime
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.done, s.closeDone = context.WithCancel(context.Background())
	return s
}

// errStoreClosed is returned by Acquire after Close.
var errStoreClosed = errors.New("token store is closed")

// Close ends the waits of acquisitions in progress (a fetch of the Cache's
// runs on, bounded by the Cache) and returns once they have returned.
func (s *TokenStore) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.closeDone()
	s.running.Wait()
}

// FleetRefreshTime returns when a token obtained at obtained is due for
// replacement fleet-wide: tokencache.EarliestRefreshTime, the earliest
// moment any replica's jittered schedule may find it due, so a replica
// that asks the store for a refresh is never handed back the token it is
// replacing.
func FleetRefreshTime(obtained time.Time, tok tokencache.Token) time.Time {
	return tokencache.EarliestRefreshTime(obtained, tok)
}

// Up reports whether Redis answered the last call made to it.
func (s *TokenStore) Up() bool { return s.c.Up() }

// Fallbacks returns how many acquisitions and forgets were done locally
// because Redis did not answer.
func (s *TokenStore) Fallbacks() uint64 { return s.fallbacks.Load() }

// tokenKey names k's sealed token in Redis. Tenants are GUIDs, so the
// first ':' after the tenant starts the scope.
func (s *TokenStore) tokenKey(k tokencache.Key) string {
	return s.c.prefix + "token:" + s.idHash + ":" + k.TenantID + ":" + k.Scope
}

// lockKey names the lock of the replica acquiring k's token.
func (s *TokenStore) lockKey(k tokencache.Key) string {
	return s.c.prefix + "tokenlock:" + s.idHash + ":" + k.TenantID + ":" + k.Scope
}

// Acquire returns a fresh token for k from Redis, else waits for the
// replica that acquires it, else acquires it with fetch, as
// tokencache.Store says. Callers in this process share one acquisition.
func (s *TokenStore) Acquire(ctx context.Context, k tokencache.Key, fetch tokencache.Fetch) (tokencache.Token, error) {
	ch := s.flight.DoChan(k.TenantID+" "+k.Scope, func() (any, error) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, errStoreClosed
		}
		s.running.Add(1)
		s.mu.Unlock()
		defer s.running.Done()
		return s.acquire(s.done, k, fetch) // the Cache bounds fetch and cancels it on its Close
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return tokencache.Token{}, r.Err
		}
		return r.Val.(tokencache.Token), nil
	case <-ctx.Done():
		return tokencache.Token{}, ctx.Err()
	}
}

// acquire looks for k's token in Redis and takes k's lock when it is
// missing, polling while another replica holds the lock, for at most two
// leases. A failure another replica shared is returned until its backoff
// ends, and counted in the next attempt's. Any Redis error makes it fetch
// locally.
func (s *TokenStore) acquire(ctx context.Context, k tokencache.Key, fetch tokencache.Fetch) (tokencache.Token, error) {
	owner := crand.Text()
	deadline := s.now().Add(2 * s.lease)
	for {
		found, err := s.read(k)
		if err != nil {
			return s.fetchLocally(ctx, fetch)
		}
		if tok, done, err := s.settled(found); done {
			return tok, err
		}
		locked, err := s.lock(k, owner)
		if err != nil {
			_ = s.unlock(k, owner) // the SET may have been applied before the timeout
			return s.fetchLocally(ctx, fetch)
		}
		if locked {
			// Another replica may have finished between the read and the
			// lock: read again before asking Entra ID.
			found, err := s.read(k)
			if tok, done, ferr := s.settled(found); err != nil || done {
				_ = s.unlock(k, owner)
				if err != nil {
					return s.fetchLocally(ctx, fetch)
				}
				return tok, ferr
			}
			return s.fetchAndShare(ctx, k, owner, found.failure, fetch)
		}
		if !s.now().Before(deadline) {
			return s.fetchLocally(ctx, fetch) // lock holders that never finish
		}
		wait := pollMin + rand.N(pollMax-pollMin)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return tokencache.Token{}, ctx.Err()
		}
	}
}

// settled returns what found answers without an acquisition, if
// anything: a token not yet due, or a failure still backing off.
func (s *TokenStore) settled(found stored) (tokencache.Token, bool, error) {
	if found.ok {
		return found.token, true, nil
	}
	if f := found.failure; f != nil && s.now().Before(f.RetryAt) {
		return tokencache.Token{}, true, f
	}
	return tokencache.Token{}, false, nil
}

// fetchLocally acquires the token in this process only, counting a
// fallback: Redis did not answer, or the fleet did not deliver.
func (s *TokenStore) fetchLocally(ctx context.Context, fetch tokencache.Fetch) (tokencache.Token, error) {
	s.fallbacks.Add(1)
	return fetch(ctx, tokencache.NoFleetState)
}

// fetchAndShare acquires k's token while holding k's lock, writes it to
// Redis sealed for its remaining lifetime and releases the lock. A failed
// fetch, counted after the fleet's last failure (last, nil if none), is
// written for the other replicas to wait out (see shareFailure) and
// returned, and the lock released.
func (s *TokenStore) fetchAndShare(ctx context.Context, k tokencache.Key, owner string, last *tokencache.Failure, fetch tokencache.Fetch) (tokencache.Token, error) {
	prior := 0
	if last != nil {
		prior = last.Failures
	}
	tok, err := fetch(ctx, prior)
	if err != nil {
		if s.shareFailure(k, err) != nil {
			s.fallbacks.Add(1)
		}
		_ = s.unlock(k, owner)
		return tokencache.Token{}, err
	}
	// Written before the lock goes, so waiters find the token.
	if errWrite, errUnlock := s.write(k, tok), s.unlock(k, owner); errWrite != nil || errUnlock != nil {
		s.fallbacks.Add(1) // acquired, but maybe not shared
	}
	return tok, nil
}

// sealedToken is what is sealed in Redis for one token.
type sealedToken struct {
	Value     string    `json:"v"`
	ExpiresOn time.Time `json:"exp"`
	RefreshOn time.Time `json:"ron,omitzero"`
	Due       time.Time `json:"due"` // when the fleet replaces it
}

// stored is what Redis holds for a key: a token, or the fleet's last
// failure, or neither.
type stored struct {
	ok      bool             // token is usable and not yet due
	token   tokencache.Token // with ok
	sealed  string           // the token's sealed bytes, as read
	failure *tokencache.Failure
}

// read returns k's token and shared failure from Redis in one round trip.
// A token is returned only when it opens and is not yet due; a value that
// does not open counts as none (and is replaced by the next write). err
// is a Redis error.
func (s *TokenStore) read(k tokencache.Key) (stored, error) {
	var vals []any
	err := s.c.do(func(ctx context.Context, rdb *redis.Client) error {
		var err error
		vals, err = rdb.MGet(ctx, s.tokenKey(k), s.failureKey(k)).Result()
		return err
	})
	if err != nil || len(vals) != 2 {
		return stored{}, cmp.Or(err, errors.New("MGET answered the wrong number of values"))
	}
	var st stored
	if f, ok := vals[1].(string); ok {
		st.failure = s.openFailure(k, f)
	}
	sealed, ok := vals[0].(string)
	if !ok {
		return st, nil
	}
	st.sealed = sealed
	plain, err := s.keys.Open([]byte(sealed), seal.AssociatedData(s.clientID, k.TenantID, k.Scope))
	var t sealedToken
	if err != nil || json.Unmarshal(plain, &t) != nil || t.Value == "" {
		return st, nil
	}
	st.token = tokencache.NewToken(t.Value, t.ExpiresOn, t.RefreshOn)
	st.ok = s.now().Before(t.Due)
	if st.failure != nil {
		st.failure.Token = st.token // still usable, maybe, while its refresh fails
	}
	return st, nil
}

// write seals tok into Redis for k, to live until it expires.
func (s *TokenStore) write(k tokencache.Key, tok tokencache.Token) error {
	now := s.now()
	ttl := tok.ExpiresOn.Sub(now)
	if ttl < time.Millisecond {
		return nil // nothing worth sharing
	}
	plain, err := json.Marshal(sealedToken{Value: tok.Value, ExpiresOn: tok.ExpiresOn, RefreshOn: tok.RefreshOn, Due: s.refreshAt(now, tok)})
	if err != nil {
		return err
	}
	sealed := s.keys.Seal(plain, seal.AssociatedData(s.clientID, k.TenantID, k.Scope))
	clear(plain)
	return s.c.do(func(ctx context.Context, rdb *redis.Client) error {
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, s.tokenKey(k), sealed, ttl)
			p.Del(ctx, s.failureKey(k)) // the fleet's failures end with a token
			return nil
		})
		return err
	})
}

// lock takes k's lock for the lease, reporting whether it got it.
func (s *TokenStore) lock(k tokencache.Key, owner string) (bool, error) {
	var locked bool
	err := s.c.do(func(ctx context.Context, rdb *redis.Client) error {
		var err error
		locked, err = rdb.SetNX(ctx, s.lockKey(k), owner, s.lease).Result()
		return err
	})
	return locked, err
}

// unlock releases k's lock if owner still holds it, even right after a
// failed call: the other replicas would otherwise wait out the lease.
func (s *TokenStore) unlock(k tokencache.Key, owner string) error {
	return s.c.doAnyway(func(ctx context.Context, rdb *redis.Client) error {
		return releaseScript.Run(ctx, rdb, []string{s.lockKey(k)}, owner).Err()
	})
}

// Forget deletes k's token from Redis if it is still token, so that no
// replica hands it out again; a newer token is left alone.
func (s *TokenStore) Forget(k tokencache.Key, token string) {
	st, err := s.read(k)
	if err != nil {
		s.fallbacks.Add(1)
		return
	}
	if st.sealed == "" || st.token.Value != token {
		return
	}
	sealed := st.sealed
	err = s.c.do(func(ctx context.Context, rdb *redis.Client) error {
		return releaseScript.Run(ctx, rdb, []string{s.tokenKey(k)}, sealed).Err()
	})
	if err != nil {
		s.fallbacks.Add(1)
	}
}

var _ tokencache.Store = (*TokenStore)(nil)
